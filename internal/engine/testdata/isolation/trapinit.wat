;; A reactor whose initialisation needs the host: it calls an import the
;; snapshot cannot serve, here one that traps.
(module
  (import "host" "need_request" (func $need))
  (memory (export "memory") 1)
  (func (export "_initialize") (call $need)))
