;; The main module: imports the shim's trampoline as if it were the host
;; function.
(module
  (import "#0" "0" (func $double (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (call $double (local.get 0))))
