;; A guest that writes to every kind of instance state (memory, including a
;; grown page; a mutable global; a table slot) and reports which of them a
;; fresh instance sees as non-initial. Also: a spin loop, and a counted
;; loop and a recursion for measuring the cost of deadline checks.
(module
  (memory (export "memory") 1 8)
  (global $g (mut i32) (i32.const 0))
  (table $t 2 funcref)
  (func $f (result i32) (i32.const 42))
  (elem declare func $f)
  (data (i32.const 16) "initial")

  (func (export "scribble")
    (i32.store (i32.const 100) (i32.const 0xdeadbeef))
    (i32.store (i32.const 16) (i32.const 0x41414141))
    (global.set $g (i32.const 7))
    (table.set $t (i32.const 1) (ref.func $f))
    (drop (memory.grow (i32.const 2)))
    (i32.store (i32.const 131072) (i32.const 1)))

  ;; Bit 0: memory written; 1: global; 2: table; 3: size; 4: data segment
  ;; changed; 5: a page grown later still holds old bytes.
  (func (export "observe") (result i32)
    (local $m i32)
    (if (i32.load (i32.const 100)) (then (local.set $m (i32.or (local.get $m) (i32.const 1)))))
    (if (global.get $g) (then (local.set $m (i32.or (local.get $m) (i32.const 2)))))
    (if (i32.eqz (ref.is_null (table.get $t (i32.const 1)))) (then (local.set $m (i32.or (local.get $m) (i32.const 4)))))
    (if (i32.ne (memory.size) (i32.const 1)) (then (local.set $m (i32.or (local.get $m) (i32.const 8)))))
    (if (i32.ne (i32.load (i32.const 16)) (i32.const 0x74696e69)) (then (local.set $m (i32.or (local.get $m) (i32.const 16)))))
    (drop (memory.grow (i32.const 2)))
    (if (i32.load (i32.const 131072)) (then (local.set $m (i32.or (local.get $m) (i32.const 32)))))
    (local.get $m))

  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))

  (func $spin (export "spin") (loop $l (br $l)))

  ;; Sums 0..n-1 with a loop: a CPU-bound loop with no calls.
  (func (export "count") (param $n i64) (result i64)
    (local $i i64) (local $s i64)
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $s (i64.add (local.get $s) (i64.xor (local.get $i) (local.get $s))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $l)))
    (local.get $s))

  ;; Naive recursive Fibonacci: calls without loops.
  (func $fib (export "fib") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2))))))))
