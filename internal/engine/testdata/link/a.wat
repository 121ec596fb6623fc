;; Exports one of each kind for b.wat to import.
(module
  (memory (export "memory") 1)
  (table (export "table") 2 funcref)
  (global (export "counter") (mut i32) (i32.const 7))
  (func $forty_two (result i32) (i32.const 42))
  (elem (i32.const 0) func $forty_two)
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))
