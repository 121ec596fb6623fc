;; A core module speaking the canonical ABI (the Wisp Go SDK's form) that
;; uses fermyon:spin/key-value@2.0.0 and reports success from wasi:cli/run:
;; open "default", set k=hello, get k (5 bytes), drop the store, then open
;; "other", which the component is not granted: access-denied (case 2).
(module
  (import "fermyon:spin/key-value@2.0.0" "[static]store.open" (func $open (param i32 i32 i32)))
  (import "fermyon:spin/key-value@2.0.0" "[method]store.set" (func $set (param i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/key-value@2.0.0" "[method]store.get" (func $get (param i32 i32 i32 i32)))
  (import "fermyon:spin/key-value@2.0.0" "[resource-drop]store" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 100) "default")
  (data (i32.const 120) "k")
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
    (local $s i32)
    (call $open (i32.const 100) (i32.const 7) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (local.set $s (i32.load (i32.const 204)))
    (call $set (local.get $s) (i32.const 120) (i32.const 1) (i32.const 130) (i32.const 5) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (call $get (local.get $s) (i32.const 120) (i32.const 1) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (if (i32.eqz (i32.load8_u (i32.const 204))) (then (return (i32.const 1))))
    (if (i32.ne (i32.load (i32.const 212)) (i32.const 5)) (then (return (i32.const 1))))
    (call $drop (local.get $s))
    (call $open (i32.const 140) (i32.const 5) (i32.const 200))
    (if (i32.eqz (i32.load8_u (i32.const 200))) (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.const 204)) (i32.const 2)) (then (return (i32.const 1))))
    (i32.const 0)))
