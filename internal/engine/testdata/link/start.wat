;; A start function that calls the host (which must see its caller) and a
;; second module whose start function traps.
(module
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "started")
  (func $start (call $log (i32.const 0) (i32.const 7)))
  (start $start))
