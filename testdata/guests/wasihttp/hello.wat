;; A tiny wasi:http component's core module: handle answers 200 with
;; "hello from a wasi:http component\n" by calling wasi:http/types@0.2.0
;; and wasi:io/streams@0.2.0 through the canonical ABI. world.wit is the
;; world it implements; wasm-tools `component embed` + `component new`
;; make the component (internal/testguest/wasmtools.Component).
;;
;; Flattened signatures (canonical ABI):
;;   results that flatten to more than one value come back through a
;;   return pointer; response-outparam.set's params flatten to 9 values:
;;   param, result discriminant, then the join of own<outgoing-response>
;;   and error-code (i32 discriminant, i32, i64, i32 x4).
(module
  (import "wasi:http/types@0.2.0" "[constructor]fields"
    (func $fields.new (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response"
    (func $response.new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body"
    (func $response.body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set"
    (func $outparam.set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-body.write"
    (func $body.write (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish"
    (func $body.finish (param i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request"
    (func $request.drop (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
    (func $stream.write-and-flush (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream"
    (func $stream.drop (param i32)))

  (memory (export "memory") 1)
  ;; Return area at 0 (16 bytes, 8-aligned), message at 64.
  (data (i32.const 64) "hello from a wasi:http component\n")
  (global $heap (mut i32) (i32.const 1024))

  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $request i32) (param $outparam i32)
    (local $response i32) (local $body i32) (local $stream i32)
    ;; response = outgoing-response(fields()); status defaults to 200.
    (local.set $response (call $response.new (call $fields.new)))
    ;; body = response.body() (result<own<outgoing-body>>: tag at 0, handle at 4).
    (call $response.body (local.get $response) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (local.set $body (i32.load (i32.const 4)))
    ;; response-outparam.set(outparam, ok(response)).
    (call $outparam.set (local.get $outparam) (i32.const 0) (local.get $response)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    ;; stream = body.write().
    (call $body.write (local.get $body) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (local.set $stream (i32.load (i32.const 4)))
    ;; stream.blocking-write-and-flush(message).
    (call $stream.write-and-flush (local.get $stream) (i32.const 64) (i32.const 33) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (call $stream.drop (local.get $stream))
    ;; outgoing-body.finish(body, none).
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (call $request.drop (local.get $request)))

  ;; A bump allocator; the host never frees within one instance's life.
  (func (export "cabi_realloc") (param $old i32) (param $oldSize i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))
    (local.get $p))
)
