;; Imports a.wat's memory, table, global and function from instance "#0".
(module
  (import "#0" "memory" (memory 1))
  (import "#0" "table" (table 2 funcref))
  (import "#0" "counter" (global $counter (mut i32)))
  (import "#0" "add" (func $add (param i32 i32) (result i32)))
  (type $ret_i32 (func (result i32)))
  ;; run stores counter+table[0]() at address 16, bumps the counter and
  ;; returns the stored value.
  (func (export "run") (result i32)
    (i32.store (i32.const 16)
      (call $add (global.get $counter) (call_indirect (type $ret_i32) (i32.const 0))))
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.load (i32.const 16))))
