;; Calls a host function that reads the caller's memory.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello from C")
  (func (export "run") (call $log (i32.const 100) (i32.const 12))))
