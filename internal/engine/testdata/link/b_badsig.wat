;; Imports "add" from "#0" with the wrong signature.
(module
  (import "#0" "add" (func (param i64) (result i32))))
