;; A command whose two fd_write imports are the same function, called
;; directly and through the table: dedupeImports must keep it working.
(module
  (type $t (func))
  (import "wasi_snapshot_preview1" "fd_write" (func $w1 (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w2 (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "one\n")
  (data (i32.const 32) "two\n")
  (table 2 funcref)
  (elem (i32.const 0) $one $two)
  (func $one
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w1 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $two
    (i32.store (i32.const 0) (i32.const 32))
    (i32.store (i32.const 4) (i32.const 4))
    (drop (call $w2 (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call_indirect (type $t) (i32.const 0))
    (call_indirect (type $t) (i32.const 1))
    (call $two)
    (call $exit (i32.const 3))))
