;; Calls another instance's "spin" directly (no host in between), so a
;; deadline must interrupt an instance other than the one the host called.
(module
  (import "#0" "spin" (func $spin))
  (func (export "call_spin") (call $spin)))
