;; A canonical-ABI core module exporting the cron trigger's world-level
;; handle-cron-event: it returns ok for an even timestamp and
;; err(other("odd")) for an odd one, through a return area in memory.
(module
  (memory (export "memory") 1)
  (data (i32.const 64) "odd")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    i32.const 1024)
  (func (export "handle-cron-event") (param $ts i64) (result i32)
    (if (i64.eqz (i64.and (local.get $ts) (i64.const 1)))
      (then
        (i32.store8 (i32.const 16) (i32.const 0))
        (return (i32.const 16))))
    (i32.store8 (i32.const 16) (i32.const 1))   ;; err
    (i32.store8 (i32.const 20) (i32.const 0))   ;; case other
    (i32.store (i32.const 24) (i32.const 64))   ;; string ptr
    (i32.store (i32.const 28) (i32.const 3))    ;; string len
    (i32.const 16))
  ;; Not a canonical-ABI function of any known world: stays unlinked.
  (func (export "helper") (result i32) (i32.const 7)))
