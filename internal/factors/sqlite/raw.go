package sqlite

// Statements run through SQLite's C API (as transpiled by modernc.org/sqlite)
// rather than database/sql, because the driver's rows turn TEXT read from a
// column declared DATE, DATETIME or TIMESTAMP into time.Time, losing the
// text the guest stored ("2024-05-01T10:00:00.000Z" would come back
// reformatted). The guest must get back exactly what SQLite holds, as with
// Spin's rusqlite. database/sql still owns opening, pooling and closing the
// connections; this file borrows a pooled connection's handle for the
// duration of one call.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	lib "modernc.org/sqlite/lib"
)

// Value is a SQLite value in the WIT value variant's terms: int64, float64,
// string, []byte or nil (null).
type Value = any

// Result is a statement's columns and rows.
type Result struct {
	Columns []string
	Rows    [][]Value
}

// Error is a failure the guest sees as the WIT error variant: Full reports
// SQLITE_FULL (database-full); anything else is io(Msg).
type Error struct {
	Full bool
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// rawConn is the SQLite handle of a driver connection.
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// handleOf reads the C handle out of a modernc.org/sqlite connection. The
// fields are unexported; their names are checked by this package's tests
// against the version in go.mod.
func handleOf(driverConn any) (rawConn, error) {
	v := reflect.ValueOf(driverConn)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return rawConn{}, fmt.Errorf("sqlite: unexpected driver connection %T", driverConn)
	}
	s := v.Elem()
	db, tls := s.FieldByName("db"), s.FieldByName("tls")
	if !db.IsValid() || db.Kind() != reflect.Uintptr || !tls.IsValid() || tls.Type() != reflect.TypeFor[*libc.TLS]() {
		return rawConn{}, fmt.Errorf("sqlite: driver connection %T has no db/tls handle (modernc.org/sqlite changed?)", driverConn)
	}
	rc := rawConn{db: uintptr(db.Uint()), tls: (*libc.TLS)(tls.UnsafePointer())}
	if rc.db == 0 || rc.tls == nil {
		return rawConn{}, errors.New("sqlite: connection is closed")
	}
	return rc, nil
}

// withRaw runs f with the C handle of c. ctx cancellation interrupts the
// statement running in f (sqlite3_interrupt).
func withRaw(ctx context.Context, c *sql.Conn, f func(rawConn) error) error {
	return c.Raw(func(dc any) error {
		rc, err := handleOf(dc)
		if err != nil {
			return err
		}
		var mu sync.Mutex
		done := false
		stop := context.AfterFunc(ctx, func() {
			mu.Lock()
			defer mu.Unlock()
			if !done { // never interrupt a connection already handed back
				lib.Xsqlite3_interrupt(rc.tls, rc.db)
			}
		})
		defer func() {
			stop()
			mu.Lock()
			done = true
			mu.Unlock()
		}()
		return f(rc)
	})
}

// err is the connection's last error as an *Error.
func (c rawConn) err(rc int32) *Error {
	msg := libc.GoString(lib.Xsqlite3_errmsg(c.tls, c.db))
	if msg == "" {
		msg = libc.GoString(lib.Xsqlite3_errstr(c.tls, rc))
	}
	return &Error{Full: rc&0xff == lib.SQLITE_FULL, Msg: msg}
}

// cptr turns an address in SQLite's C heap into a pointer. That heap is
// modernc's own allocation, never moved or freed by Go's garbage
// collector, so holding its addresses as uintptr is safe.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func (c rawConn) malloc(n int) (uintptr, error) {
	p := libc.Xmalloc(c.tls, types.Size_t(n))
	if p == 0 {
		return 0, errors.New("sqlite: out of memory")
	}
	return p, nil
}

// prepare compiles the first statement of the C string at *zSQL and
// advances *zSQL past it. pstmt is 0 for a blank statement (only
// whitespace or comments).
func (c rawConn) prepare(zSQL *uintptr) (pstmt uintptr, err error) {
	pp, err := c.malloc(2 * int(unsafe.Sizeof(uintptr(0))))
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, pp)
	tail := pp + unsafe.Sizeof(uintptr(0))
	if rc := lib.Xsqlite3_prepare_v2(c.tls, c.db, *zSQL, -1, pp, tail); rc != lib.SQLITE_OK {
		return 0, c.err(rc)
	}
	*zSQL = *(*uintptr)(cptr(tail))
	return *(*uintptr)(cptr(pp)), nil
}

// transient tells SQLite to copy a bound value (SQLITE_TRANSIENT).
const transient = ^uintptr(0)

func (c rawConn) bind(pstmt uintptr, params []Value) error {
	if want := int(lib.Xsqlite3_bind_parameter_count(c.tls, pstmt)); want != len(params) {
		return &Error{Msg: fmt.Sprintf("wrong number of parameters: the statement has %d, %d were passed", want, len(params))}
	}
	for i, p := range params {
		idx := int32(i + 1)
		var rc int32
		switch v := p.(type) {
		case nil:
			rc = lib.Xsqlite3_bind_null(c.tls, pstmt, idx)
		case int64:
			rc = lib.Xsqlite3_bind_int64(c.tls, pstmt, idx, v)
		case float64:
			rc = lib.Xsqlite3_bind_double(c.tls, pstmt, idx, v)
		case string:
			cs, err := libc.CString(v)
			if err != nil {
				return err
			}
			rc = lib.Xsqlite3_bind_text(c.tls, pstmt, idx, cs, int32(len(v)), transient)
			libc.Xfree(c.tls, cs)
		case []byte:
			if len(v) == 0 { // a zero-length blob, not null
				rc = lib.Xsqlite3_bind_zeroblob(c.tls, pstmt, idx, 0)
				break
			}
			b, err := c.malloc(len(v))
			if err != nil {
				return err
			}
			copy(unsafe.Slice((*byte)(cptr(b)), len(v)), v)
			rc = lib.Xsqlite3_bind_blob(c.tls, pstmt, idx, b, int32(len(v)), transient)
			libc.Xfree(c.tls, b)
		default:
			return fmt.Errorf("sqlite: parameter %d has unsupported Go type %T", i+1, p)
		}
		if rc != lib.SQLITE_OK {
			return c.err(rc)
		}
	}
	return nil
}

func (c rawConn) column(pstmt uintptr, i int32) Value {
	switch lib.Xsqlite3_column_type(c.tls, pstmt, i) {
	case lib.SQLITE_INTEGER:
		return lib.Xsqlite3_column_int64(c.tls, pstmt, i)
	case lib.SQLITE_FLOAT:
		return lib.Xsqlite3_column_double(c.tls, pstmt, i)
	case lib.SQLITE_TEXT:
		p := lib.Xsqlite3_column_text(c.tls, pstmt, i)
		n := lib.Xsqlite3_column_bytes(c.tls, pstmt, i)
		if p == 0 || n == 0 {
			return ""
		}
		return string(unsafe.Slice((*byte)(cptr(p)), n))
	case lib.SQLITE_BLOB:
		p := lib.Xsqlite3_column_blob(c.tls, pstmt, i)
		n := lib.Xsqlite3_column_bytes(c.tls, pstmt, i)
		if p == 0 || n == 0 {
			return []byte{}
		}
		return append([]byte(nil), unsafe.Slice((*byte)(cptr(p)), n)...)
	}
	return nil
}

// valueSize approximates a value's size for the result limit.
func valueSize(v Value) int {
	switch v := v.(type) {
	case string:
		return 16 + len(v)
	case []byte:
		return 24 + len(v)
	}
	return 16
}

// run executes one prepared statement to completion, collecting rows up
// to maxBytes.
func (c rawConn) run(pstmt uintptr, params []Value, maxBytes int) (*Result, error) {
	if err := c.bind(pstmt, params); err != nil {
		return nil, err
	}
	n := lib.Xsqlite3_column_count(c.tls, pstmt)
	res := &Result{Columns: make([]string, n), Rows: [][]Value{}}
	for i := range n {
		res.Columns[i] = libc.GoString(lib.Xsqlite3_column_name(c.tls, pstmt, i))
	}
	size := 0
	for {
		switch rc := lib.Xsqlite3_step(c.tls, pstmt); rc {
		case lib.SQLITE_ROW:
			row := make([]Value, n)
			for i := range n {
				row[i] = c.column(pstmt, i)
				if t, ok := row[i].(string); ok && !utf8.ValidString(t) {
					// A WIT string must be UTF-8; SQLite stores whatever
					// bytes a CAST or a C client put there (Spin panics).
					return nil, &Error{Msg: fmt.Sprintf("column %q holds text that is not valid UTF-8: read it as a BLOB (CAST(... AS BLOB))", res.Columns[i])}
				}
				size += valueSize(row[i])
			}
			if size > maxBytes {
				return nil, &Error{Msg: fmt.Sprintf("query result exceeds limit of %d bytes", maxBytes)}
			}
			res.Rows = append(res.Rows, row)
		case lib.SQLITE_DONE:
			return res, nil
		default:
			return nil, c.err(rc)
		}
	}
}

// query runs one statement with positional parameters. More than one
// statement in sql is an error, as in Spin (rusqlite).
func (c rawConn) query(sql string, params []Value, maxBytes int) (*Result, error) {
	cs, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, cs)
	z := cs
	pstmt, err := c.prepare(&z)
	if err != nil {
		return nil, err
	}
	if pstmt == 0 {
		return nil, &Error{Msg: "the statement is empty"}
	}
	defer lib.Xsqlite3_finalize(c.tls, pstmt)
	if strings.TrimSpace(libc.GoString(z)) != "" {
		if next, err := c.prepare(&z); err != nil || next != 0 {
			if next != 0 {
				lib.Xsqlite3_finalize(c.tls, next)
			}
			return nil, &Error{Msg: "multiple statements provided: execute runs one statement (use parameters, not concatenation)"}
		}
	}
	return c.run(pstmt, params, maxBytes)
}

// batch runs every statement in sql, discarding rows (Spin's
// execute_batch, used for --sqlite @file).
func (c rawConn) batch(sql string) error {
	cs, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, cs)
	z := cs
	for *(*byte)(cptr(z)) != 0 {
		pstmt, err := c.prepare(&z)
		if err != nil {
			return err
		}
		if pstmt == 0 {
			continue
		}
		_, err = c.run(pstmt, nil, int(^uint(0)>>1))
		lib.Xsqlite3_finalize(c.tls, pstmt)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c rawConn) changes() uint64 {
	return uint64(lib.Xsqlite3_changes64(c.tls, c.db))
}

func (c rawConn) lastInsertRowid() int64 {
	return lib.Xsqlite3_last_insert_rowid(c.tls, c.db)
}

// inTransaction reports whether a transaction is open (not autocommit).
func (c rawConn) inTransaction() bool {
	return lib.Xsqlite3_get_autocommit(c.tls, c.db) == 0
}

// limitAttached sets how many databases may be ATTACHed (0: none).
func (c rawConn) limitAttached(n int32) {
	lib.Xsqlite3_limit(c.tls, c.db, lib.SQLITE_LIMIT_ATTACHED, n)
}
