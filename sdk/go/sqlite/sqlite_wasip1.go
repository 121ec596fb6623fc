//go:build wasip1

package sqlite

import (
	"errors"
	"fmt"
	"math"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/sqlite@2.0.0 [static]connection.open
func connOpen(database string, ret uint32)

//go:wasmimport fermyon:spin/sqlite@2.0.0 [method]connection.execute
func connExecute(self uint32, statement string, params, n, ret uint32)

//go:wasmimport fermyon:spin/sqlite@2.0.0 [resource-drop]connection
func connDrop(self uint32)

var (
	// ErrNoSuchDatabase: the host has no database with that name.
	ErrNoSuchDatabase = errors.New("sqlite: no such database")
	// ErrAccessDenied: the component may not open the database.
	ErrAccessDenied = errors.New("sqlite: access denied")
	// ErrInvalidConnection: the connection is not usable.
	ErrInvalidConnection = errors.New("sqlite: invalid connection")
	// ErrDatabaseFull: the database is full.
	ErrDatabaseFull = errors.New("sqlite: database full")
)

// Conn is an open database.
type Conn struct{ h uint32 }

// Open opens the database with the given name.
func Open(name string) (*Conn, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	connOpen(name, ret)
	if cabi.U8(ret, 0) != 0 {
		return nil, readError(ret + 4)
	}
	return &Conn{h: cabi.U32(ret, 4)}, nil
}

// OpenDefault opens the database named "default".
func OpenDefault() (*Conn, error) { return Open("default") }

// Close closes the connection.
func (c *Conn) Close() error {
	if c.h != 0 {
		connDrop(c.h)
		c.h = 0
	}
	return nil
}

// Execute runs one statement with positional parameters (?, ?NNN).
func (c *Conn) Execute(statement string, params ...any) (*Result, error) {
	if c.h == 0 {
		return nil, ErrInvalidConnection
	}
	m := cabi.Save()
	defer cabi.Release(m)
	var list uint32
	if len(params) > 0 {
		list = cabi.Alloc(uint32(16*len(params)), 8)
		for i, v := range params {
			if err := putValue(list+uint32(16*i), v); err != nil {
				return nil, fmt.Errorf("sqlite: parameter %d: %w", i+1, err)
			}
		}
	}
	ret := cabi.Alloc(20, 4)
	connExecute(c.h, statement, list, uint32(len(params)), ret) // result<query-result, error>
	if cabi.U8(ret, 0) != 0 {
		return nil, readError(ret + 4)
	}
	cols, nc := cabi.U32(ret, 4), cabi.U32(ret, 8)
	rows, nr := cabi.U32(ret, 12), cabi.U32(ret, 16)
	res := &Result{Columns: cabi.Strings(cols, nc), Rows: make([][]any, nr)}
	for i := range nr {
		vals, n := cabi.U32(rows+8*i, 0), cabi.U32(rows+8*i, 4)
		row := make([]any, n)
		for j := range n {
			row[j] = readValue(vals + 16*j)
		}
		res.Rows[i] = row
	}
	return res, nil
}

// putValue writes a value variant (case at 0, payload at 8).
func putValue(e uint32, v any) error {
	integer := func(i int64) {
		cabi.PutU8(e, 0, 0)
		cabi.PutU64(e, 8, uint64(i))
	}
	switch v := v.(type) {
	case int:
		integer(int64(v))
	case int8:
		integer(int64(v))
	case int16:
		integer(int64(v))
	case int32:
		integer(int64(v))
	case int64:
		integer(v)
	case uint8:
		integer(int64(v))
	case uint16:
		integer(int64(v))
	case uint32:
		integer(int64(v))
	case uint:
		if uint64(v) > math.MaxInt64 {
			return fmt.Errorf("%d overflows a SQLite integer", v)
		}
		integer(int64(v))
	case uint64:
		if v > math.MaxInt64 {
			return fmt.Errorf("%d overflows a SQLite integer", v)
		}
		integer(int64(v))
	case bool:
		if v {
			integer(1)
		} else {
			integer(0)
		}
	case float32:
		cabi.PutU8(e, 0, 1)
		cabi.PutU64(e, 8, math.Float64bits(float64(v)))
	case float64:
		cabi.PutU8(e, 0, 1)
		cabi.PutU64(e, 8, math.Float64bits(v))
	case string:
		p, n := cabi.PutString(v)
		cabi.PutU8(e, 0, 2)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
	case []byte:
		p, n := cabi.PutBytes(v)
		cabi.PutU8(e, 0, 3)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
	case nil:
		cabi.PutU8(e, 0, 4)
	default:
		return fmt.Errorf("unsupported type %T", v)
	}
	return nil
}

func readValue(e uint32) any {
	switch cabi.U8(e, 0) {
	case 0:
		return int64(cabi.U64(e, 8))
	case 1:
		return math.Float64frombits(cabi.U64(e, 8))
	case 2:
		return cabi.String(cabi.U32(e, 8), cabi.U32(e, 12))
	case 3:
		return cabi.CopyBytes(cabi.U32(e, 8), cabi.U32(e, 12))
	default:
		return nil
	}
}

// readError reads the error variant at p (case at 0, io's string at 4).
func readError(p uint32) error {
	switch cabi.U8(p, 0) {
	case 0:
		return ErrNoSuchDatabase
	case 1:
		return ErrAccessDenied
	case 2:
		return ErrInvalidConnection
	case 3:
		return ErrDatabaseFull
	default:
		return errors.New("sqlite: " + cabi.String(cabi.U32(p, 4), cabi.U32(p, 8)))
	}
}
