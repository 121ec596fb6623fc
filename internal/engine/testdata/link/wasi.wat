;; Imports WASI preview1, which Instantiate finds among the engine's
;; built-in modules when the Imports function does not provide it.
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "rand") (result i32) (call $random_get (i32.const 0) (i32.const 16))))
