;; A core module speaking the canonical ABI (the Wisp Go SDK's form) that
;; uses fermyon:spin/redis@2.0.0 and reports success from wasi:cli/run:
;; open redis://127.0.0.1:6379, set wisp_redisguest_k=hello, get it back
;; (5 bytes), incr wisp_redisguest_n, drop the connection, then open
;; redis://127.0.0.1:1, which the component may not reach: invalid-address
;; (case 0).
(module
  (import "fermyon:spin/redis@2.0.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[method]connection.set" (func $set (param i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[method]connection.get" (func $get (param i32 i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[method]connection.incr" (func $incr (param i32 i32 i32 i32)))
  (import "fermyon:spin/redis@2.0.0" "[resource-drop]connection" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 100) "redis://127.0.0.1:6379")
  (data (i32.const 130) "wisp_redisguest_k")
  (data (i32.const 150) "hello")
  (data (i32.const 160) "wisp_redisguest_n")
  (data (i32.const 180) "redis://127.0.0.1:1")
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
    (call $open (i32.const 100) (i32.const 22) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (local.set $c (i32.load (i32.const 204)))
    (call $set (local.get $c) (i32.const 130) (i32.const 17) (i32.const 150) (i32.const 5) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (call $get (local.get $c) (i32.const 130) (i32.const 17) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (if (i32.eqz (i32.load8_u (i32.const 204))) (then (return (i32.const 1))))
    (if (i32.ne (i32.load (i32.const 212)) (i32.const 5)) (then (return (i32.const 1))))
    (call $incr (local.get $c) (i32.const 160) (i32.const 17) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (call $drop (local.get $c))
    (call $open (i32.const 180) (i32.const 19) (i32.const 200))
    (if (i32.eqz (i32.load8_u (i32.const 200))) (then (return (i32.const 1))))
    (if (i32.ne (i32.load8_u (i32.const 204)) (i32.const 0)) (then (return (i32.const 1))))
    (i32.const 0)))
