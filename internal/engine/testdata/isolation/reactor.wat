;; A reactor for snapshot tests: _initialize counts its runs, grows memory,
;; writes memory and globals, and records what the environment looked like
;; (number of environment variables, whether fd 3 is a preopened directory,
;; a random value). Exports read that state back and scribble over it.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (memory (export "memory") 1 16)
  (global $inits (mut i32) (i32.const 0))
  (global $wide (mut i64) (i64.const 0))
  (global $float (mut f64) (f64.const 0))
  (data (i32.const 16) "initial")

  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (global.set $wide (i64.const 0x1122334455667788))
    (global.set $float (f64.const 2.5))
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 131072) (i32.const 0xc0ffee))
    (i32.store (i32.const 16) (i32.const 0x41414141))
    (drop (call $environ_sizes_get (i32.const 200) (i32.const 204)))
    (i32.store (i32.const 208) (call $fd_prestat_get (i32.const 3) (i32.const 212)))
    (drop (call $random_get (i32.const 300) (i32.const 8))))

  (func (export "inits") (result i32) (global.get $inits))
  (func (export "wide") (result i64) (global.get $wide))
  (func (export "float") (result f64) (global.get $float))
  (func (export "size") (result i32) (memory.size))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  ;; A fresh random value from the host, now.
  (func (export "random") (result i64)
    (drop (call $random_get (i32.const 400) (i32.const 8)))
    (i64.load (i32.const 400)))
  (func (export "scribble")
    (global.set $inits (i32.const 99))
    (global.set $wide (i64.const -1))
    (i32.store (i32.const 131072) (i32.const 0xdead))
    (i32.store (i32.const 70000) (i32.const 0xbeef))
    (drop (memory.grow (i32.const 1)))
    (i32.store (i32.const 200000) (i32.const 7))))
