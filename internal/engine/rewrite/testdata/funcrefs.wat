;; Every way a module refers to a function by index, for Instrument's
;; renumbering (it imports one more function, after the module's own
;; imports). Each export returns a distinct constant through one path.
(module
  (import "env" "add1" (func $add1 (param i32) (result i32)))
  (type $t (func (result i32)))
  (table $tab 8 funcref)
  (elem (i32.const 0) $a $b)                                   ;; flags 0
  (elem (table $tab) (i32.const 2) funcref (ref.func $c) (ref.null func)) ;; flags 6
  (elem declare func $d)                                        ;; flags 3
  (elem $passive funcref (ref.func $b) (ref.func $add1_10))     ;; flags 5
  (elem $indices func $c $a)                                    ;; flags 1
  (global $g funcref (ref.func $d))
  (global $started (mut i32) (i32.const 0))
  (memory 1)
  (func $a (result i32) (i32.const 10))
  (func $b (result i32) (i32.const 20))
  (func $c (result i32) (i32.const 30))
  (func $d (result i32) (i32.const 40))
  (func $add1_10 (result i32) (call $add1 (i32.const 10)))
  (func $init (global.set $started (i32.const 7)))
  (start $init)
  (func (export "indirect") (param i32) (result i32)
    (call_indirect (type $t) (local.get 0)))
  (func (export "direct") (result i32) (call $c))
  (func (export "via_global") (result i32)
    (table.set $tab (i32.const 5) (global.get $g))
    (call_indirect (type $t) (i32.const 5)))
  (func (export "via_ref_func") (result i32)
    (table.set $tab (i32.const 6) (ref.func $a))
    (call_indirect (type $t) (i32.const 6)))
  (func (export "passive") (param i32) (result i32)
    (table.init $tab $passive (i32.const 3) (i32.const 0) (i32.const 2))
    (call_indirect (type $t) (i32.add (i32.const 3) (local.get 0))))
  (func (export "passive_indices") (result i32)
    (table.init $tab $indices (i32.const 7) (i32.const 0) (i32.const 1))
    (call_indirect (type $t) (i32.const 7)))
  (func (export "imported") (result i32) (call $add1 (i32.const 1)))
  (func (export "started") (result i32) (global.get $started))
  (func $boom (export "boom") unreachable)
  ;; Counts to n in a loop, calling $a on the way: a long run for n large.
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (drop (call $a))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  (export "c" (func $c))
  (export "add1" (func $add1))
)
