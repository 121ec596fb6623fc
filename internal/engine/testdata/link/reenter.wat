;; Re-entrancy: host functions call back into this instance.
(module
  (import "host" "get_string" (func $get_string (param i32)))
  (import "host" "call_export" (func $call_export (param i32 i32) (result i32)))
  (import "host" "fail" (func $fail))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  ;; A bump allocator with cabi_realloc's signature.
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (global.set $bump (i32.add (global.get $bump) (local.get 3)))
    (local.get $p))
  ;; get_string fills (ptr, len) at 8 with a string the host allocated via
  ;; cabi_realloc; run returns the length.
  (func (export "run") (result i32)
    (call $get_string (i32.const 8))
    (i32.load (i32.const 12)))
  ;; rec(n) = n == 0 ? 0 : n + host(call_export(0 /* rec */, n-1)):
  ;; re-enters the same export recursively through the host.
  (func (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (local.get 0)
        (call $call_export (i32.const 0) (i32.sub (local.get 0) (i32.const 1)))))))
  ;; nested_trap: host calls "boom", which traps.
  (func (export "nested_trap") (result i32)
    (call $call_export (i32.const 1) (i32.const 0)))
  (func (export "boom") (param i32) (result i32) unreachable)
  ;; nested_loop: host calls "spin", which never returns.
  (func (export "nested_loop") (result i32)
    (call $call_export (i32.const 2) (i32.const 0)))
  (func (export "spin") (param i32) (result i32) (loop $l (br $l)) (i32.const 0))
  (func (export "fail") (call $fail))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
