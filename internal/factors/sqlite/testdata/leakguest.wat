;; A guest that opens "default" four times (its instance limit), starts a
;; write transaction and returns without dropping anything: the host must
;; release the connections (rolling back) when the instance is closed.
(module
  (import "spin:sqlite/sqlite@3.1.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[method]connection.execute" (func $execute (param i32 i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 100) "default")
  (data (i32.const 1024) "BEGIN IMMEDIATE")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $i i32)
    (loop $again
      (call $open (i32.const 100) (i32.const 7) (i32.const 200))
      (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 4))))
    (call $execute (i32.load (i32.const 204)) (i32.const 1024) (i32.const 15) (i32.const 0) (i32.const 0) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (i32.const 0)))
