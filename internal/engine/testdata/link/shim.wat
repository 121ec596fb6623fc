;; The wit-component shim: a funcref table filled later by fixup.wat, and a
;; trampoline that calls through it. main.wat imports the trampoline before
;; the function it will reach exists.
(module
  (type $t (func (param i32) (result i32)))
  (table (export "$imports") 1 1 funcref)
  (func (export "0") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0) (i32.const 0))))
