;; A core module speaking the canonical ABI that uses fermyon:spin/llm@2.0.0
;; and reports from wasi:cli/run (0 = success, else the failed step):
;;  1-3  infer("llama2-chat", "hi", some(params)): ok, text "Echo: hi"
;;       (8 bytes), 3 generated tokens
;;  4-7  generate-embeddings("llama2-chat", ["hello"]): ok, one vector of
;;       3 floats starting with 5.0
;;  8-9  infer("other", ...), a model the component is not granted:
;;       error invalid-input (case 2)
(module
  ;; model, prompt, option<inferencing-params> (flag + 6 fields), retptr
  (import "fermyon:spin/llm@2.0.0" "infer"
    (func $infer (param i32 i32 i32 i32 i32 i32 f32 i32 f32 i32 f32 i32)))
  ;; model, list<string>, retptr
  (import "fermyon:spin/llm@2.0.0" "generate-embeddings"
    (func $embed (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 100) "llama2-chat")
  (data (i32.const 120) "hi")
  (data (i32.const 130) "hello")
  (data (i32.const 140) "other")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $vec i32)
    ;; max-tokens 64, repeat-penalty 1.1, last-n 64, temperature 0.5,
    ;; top-k 40, top-p 0.9
    (call $infer (i32.const 100) (i32.const 11) (i32.const 120) (i32.const 2)
      (i32.const 1) (i32.const 64) (f32.const 1.1) (i32.const 64) (f32.const 0.5)
      (i32.const 40) (f32.const 0.9) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (if (i32.ne (i32.load (i32.const 208)) (i32.const 8)) (then (return (i32.const 2))))
    (if (i32.ne (i32.load (i32.const 216)) (i32.const 3)) (then (return (i32.const 3))))

    ;; the list<string> ["hello"] at 160
    (i32.store (i32.const 160) (i32.const 130))
    (i32.store (i32.const 164) (i32.const 5))
    (call $embed (i32.const 100) (i32.const 11) (i32.const 160) (i32.const 1) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 4))))
    (if (i32.ne (i32.load (i32.const 208)) (i32.const 1)) (then (return (i32.const 5))))
    (local.set $vec (i32.load (i32.const 204)))
    (if (i32.ne (i32.load offset=4 (local.get $vec)) (i32.const 3)) (then (return (i32.const 6))))
    (if (f32.ne (f32.load (i32.load (local.get $vec))) (f32.const 5)) (then (return (i32.const 7))))

    (call $infer (i32.const 140) (i32.const 5) (i32.const 120) (i32.const 2)
      (i32.const 0) (i32.const 0) (f32.const 0) (i32.const 0) (f32.const 0)
      (i32.const 0) (f32.const 0) (i32.const 200))
    (if (i32.eqz (i32.load8_u (i32.const 200))) (then (return (i32.const 8))))
    (if (i32.ne (i32.load8_u (i32.const 204)) (i32.const 2)) (then (return (i32.const 9))))
    (i32.const 0)))
