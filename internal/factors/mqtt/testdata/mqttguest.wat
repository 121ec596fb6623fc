;; A core module speaking the canonical ABI (the Wisp Go SDK's form) that
;; uses fermyon:spin/mqtt@2.0.0 and reports success from wasi:cli/run:
;; open mqtt://127.0.0.1:1883?client_id=wisp-mqttguest (no credentials,
;; keep-alive 30 s), publish "hello" to wisp/mqttguest at-least-once, drop
;; the connection, then open mqtt://127.0.0.1:1?client_id=x, which the
;; component may not reach: connection-failed (case 2), as in Spin.
(module
  (import "fermyon:spin/mqtt@2.0.0" "[static]connection.open" (func $open (param i32 i32 i32 i32 i32 i32 i64 i32)))
  (import "fermyon:spin/mqtt@2.0.0" "[method]connection.publish" (func $publish (param i32 i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/mqtt@2.0.0" "[resource-drop]connection" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 100) "mqtt://127.0.0.1:1883?client_id=wisp-mqttguest")
  (data (i32.const 150) "wisp/mqttguest")
  (data (i32.const 170) "hello")
  (data (i32.const 180) "mqtt://127.0.0.1:1?client_id=x")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $c i32)
    (call $open (i32.const 100) (i32.const 46) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 30) (i32.const 300))
    (if (i32.load8_u (i32.const 300)) (then (return (i32.const 1))))
    (local.set $c (i32.load (i32.const 304)))
    (call $publish (local.get $c) (i32.const 150) (i32.const 14) (i32.const 170) (i32.const 5) (i32.const 1) (i32.const 300))
    (if (i32.load8_u (i32.const 300)) (then (return (i32.const 1))))
    (call $drop (local.get $c))
    (call $open (i32.const 180) (i32.const 30) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 30) (i32.const 300))
    (if (i32.eqz (i32.load8_u (i32.const 300))) (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.const 304)) (i32.const 2)) (then (return (i32.const 1))))
    (i32.const 0)))
