;; A core module speaking the canonical ABI (the Wisp Go SDK's form) that
;; uses fermyon:spin/postgres@2.0.0 and reports success from wasi:cli/run:
;; open the test server, execute "SELECT $1::int4 + 1" with int32(41)
;; (1 row), query it (one row holding int32 42), drop the connection, then
;; open an address the component may not reach: connection-failed (case 0).
;; guest_test.go fills in ADDRESS and DENIED (and their lengths). A failed
;; step returns its number, which the host reports as an invalid result
;; discriminant.
(module
  (import "fermyon:spin/postgres@2.0.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "fermyon:spin/postgres@2.0.0" "[method]connection.execute" (func $execute (param i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/postgres@2.0.0" "[method]connection.query" (func $query (param i32 i32 i32 i32 i32 i32)))
  (import "fermyon:spin/postgres@2.0.0" "[resource-drop]connection" (func $drop (param i32)))
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 4096))
  (data (i32.const 100) "SELECT $1::int4 + 1")
  ;; list<parameter-value> of one int32(41): case 3, payload at offset 8.
  (data (i32.const 304) "\03\00\00\00\00\00\00\00\29\00\00\00\00\00\00\00")
  (data (i32.const 1024) "{{ADDRESS}}")
  (data (i32.const 2048) "{{DENIED}}")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $c i32)
    (local $v i32)
    ;; open -> result<connection, error> at 400
    (call $open (i32.const 1024) (i32.const {{ADDRESS_LEN}}) (i32.const 400))
    (if (i32.load8_u (i32.const 400)) (then (return (i32.const 1))))
    (local.set $c (i32.load (i32.const 404)))
    ;; execute -> result<u64, error> at 408: ok(1)
    (call $execute (local.get $c) (i32.const 100) (i32.const 19) (i32.const 304) (i32.const 1) (i32.const 408))
    (if (i32.load8_u (i32.const 408)) (then (return (i32.const 2))))
    (if (i64.ne (i64.load (i32.const 416)) (i64.const 1)) (then (return (i32.const 3))))
    ;; query -> result<row-set, error> at 432: one row, int32(42)
    (call $query (local.get $c) (i32.const 100) (i32.const 19) (i32.const 304) (i32.const 1) (i32.const 432))
    (if (i32.load8_u (i32.const 432)) (then (return (i32.const 4))))
    (if (i32.ne (i32.load (i32.const 448)) (i32.const 1)) (then (return (i32.const 5))))
    ;; rows[0] is a list<db-value>; its first value
    (local.set $v (i32.load (i32.load (i32.const 444))))
    (if (i32.ne (i32.load8_u (local.get $v)) (i32.const 3)) (then (return (i32.const 6))))
    (if (i32.ne (i32.load (i32.add (local.get $v) (i32.const 8))) (i32.const 42)) (then (return (i32.const 7))))
    (call $drop (local.get $c))
    ;; a denied address: err(connection-failed(...))
    (call $open (i32.const 2048) (i32.const {{DENIED_LEN}}) (i32.const 400))
    (if (i32.eqz (i32.load8_u (i32.const 400))) (then (return (i32.const 8))))
    (if (i32.ne (i32.load8_u (i32.const 404)) (i32.const 0)) (then (return (i32.const 9))))
    (i32.const 0)))
