;; Imports a.wat's function "add" as a memory.
(module
  (import "#0" "add" (memory 1)))
