;; A core module speaking the canonical ABI (the Wisp Go SDK's form) that
;; uses spin:sqlite/sqlite@3.1.0 and reports success from wasi:cli/run:
;; open "default", create a table, insert one row with a parameter of each
;; value type (integer 42, real 2.5, text "hello", blob 00 01 ff, null),
;; read it back by its last-insert-rowid and check every value, drop the
;; connection, then open "other", which the component is not granted:
;; access-denied (error case 1). A failed check returns its number, which
;; is not a valid result discriminant: the call fails naming it.
(module
  (import "spin:sqlite/sqlite@3.1.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[method]connection.execute" (func $execute (param i32 i32 i32 i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[method]connection.last-insert-rowid" (func $rowid (param i32) (result i64)))
  (import "spin:sqlite/sqlite@3.1.0" "[resource-drop]connection" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 100) "default")
  (data (i32.const 110) "other")
  (data (i32.const 120) "hello")
  (data (i32.const 130) "\00\01\ff")
  (data (i32.const 1024) "CREATE TABLE IF NOT EXISTS t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
  (data (i32.const 1200) "INSERT INTO t VALUES (?, ?, ?, ?, ?)")
  (data (i32.const 1300) "SELECT i, r, s, b, n FROM t WHERE rowid = ?")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  ;; $bytes_eq compares n bytes at a and b.
  (func $bytes_eq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))) (then (return (i32.const 0))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 1))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $c i32) (local $rows i32) (local $vals i32)
    ;; open "default": result<connection, error> at 200 (tag, handle at 204)
    (call $open (i32.const 100) (i32.const 7) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
    (local.set $c (i32.load (i32.const 204)))
    ;; CREATE TABLE with no parameters
    (call $execute (local.get $c) (i32.const 1024) (i32.const 67) (i32.const 0) (i32.const 0) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 2))))
    ;; parameters: five 16-byte values at 512 (tag at +0, payload at +8)
    (i32.store8 (i32.const 512) (i32.const 0)) (i64.store (i32.const 520) (i64.const 42))
    (i32.store8 (i32.const 528) (i32.const 1)) (f64.store (i32.const 536) (f64.const 2.5))
    (i32.store8 (i32.const 544) (i32.const 2)) (i32.store (i32.const 552) (i32.const 120)) (i32.store (i32.const 556) (i32.const 5))
    (i32.store8 (i32.const 560) (i32.const 3)) (i32.store (i32.const 568) (i32.const 130)) (i32.store (i32.const 572) (i32.const 3))
    (i32.store8 (i32.const 576) (i32.const 4))
    (call $execute (local.get $c) (i32.const 1200) (i32.const 36) (i32.const 512) (i32.const 5) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 3))))
    ;; SELECT ... WHERE rowid = last-insert-rowid()
    (i32.store8 (i32.const 512) (i32.const 0)) (i64.store (i32.const 520) (call $rowid (local.get $c)))
    (call $execute (local.get $c) (i32.const 1300) (i32.const 43) (i32.const 512) (i32.const 1) (i32.const 200))
    (if (i32.load8_u (i32.const 200)) (then (return (i32.const 4))))
    ;; query-result at 204: columns (ptr, len) at 204/208, rows at 212/216
    (if (i32.ne (i32.load (i32.const 208)) (i32.const 5)) (then (return (i32.const 5))))
    (if (i32.ne (i32.load (i32.const 216)) (i32.const 1)) (then (return (i32.const 6))))
    (local.set $rows (i32.load (i32.const 212)))
    (if (i32.ne (i32.load offset=4 (local.get $rows)) (i32.const 5)) (then (return (i32.const 7))))
    (local.set $vals (i32.load (local.get $rows)))
    ;; integer 42
    (if (i32.ne (i32.load8_u (local.get $vals)) (i32.const 0)) (then (return (i32.const 8))))
    (if (i64.ne (i64.load offset=8 (local.get $vals)) (i64.const 42)) (then (return (i32.const 9))))
    ;; real 2.5
    (if (i32.ne (i32.load8_u offset=16 (local.get $vals)) (i32.const 1)) (then (return (i32.const 10))))
    (if (f64.ne (f64.load offset=24 (local.get $vals)) (f64.const 2.5)) (then (return (i32.const 11))))
    ;; text "hello"
    (if (i32.ne (i32.load8_u offset=32 (local.get $vals)) (i32.const 2)) (then (return (i32.const 12))))
    (if (i32.ne (i32.load offset=44 (local.get $vals)) (i32.const 5)) (then (return (i32.const 13))))
    (if (i32.eqz (call $bytes_eq (i32.load offset=40 (local.get $vals)) (i32.const 120) (i32.const 5))) (then (return (i32.const 14))))
    ;; blob 00 01 ff
    (if (i32.ne (i32.load8_u offset=48 (local.get $vals)) (i32.const 3)) (then (return (i32.const 15))))
    (if (i32.ne (i32.load offset=60 (local.get $vals)) (i32.const 3)) (then (return (i32.const 16))))
    (if (i32.eqz (call $bytes_eq (i32.load offset=56 (local.get $vals)) (i32.const 130) (i32.const 3))) (then (return (i32.const 17))))
    ;; null
    (if (i32.ne (i32.load8_u offset=64 (local.get $vals)) (i32.const 4)) (then (return (i32.const 18))))
    (call $drop (local.get $c))
    ;; open "other": not granted, access-denied (case 1)
    (call $open (i32.const 110) (i32.const 5) (i32.const 200))
    (if (i32.eqz (i32.load8_u (i32.const 200))) (then (return (i32.const 19))))
    (if (i32.ne (i32.load8_u (i32.const 204)) (i32.const 1)) (then (return (i32.const 20))))
    (i32.const 0)))
