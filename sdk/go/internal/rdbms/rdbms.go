//go:build wasip1

// Package rdbms converts the fermyon:spin/rdbms-types@2.0.0 values shared
// by the postgres and mysql packages: parameters to guest memory, row sets
// from it.
package rdbms

import (
	"errors"
	"fmt"
	"math"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

// DataType is a column's db-data-type.
type DataType uint8

// The db-data-type cases, in WIT order.
const (
	Boolean DataType = iota
	Int8
	Int16
	Int32
	Int64
	Uint8
	Uint16
	Uint32
	Uint64
	Floating32
	Floating64
	Str
	Binary
	Other
)

// Column is a result column.
type Column struct {
	Name string
	Type DataType
}

// RowSet is a query's result: columns, and rows of Go values (bool, int8
// … int64, uint8 … uint64, float32, float64, string, []byte, nil for NULL,
// Unsupported for a value the host could not convert).
type RowSet struct {
	Columns []Column
	Rows    [][]any
}

// Unsupported stands for a value of a type the host does not convert.
type Unsupported struct{}

// Params lays out params as list<parameter-value> in guest memory (16
// bytes each: case at 0, payload at 8) and returns its address and length.
func Params(params []any) (uint32, uint32, error) {
	if len(params) == 0 {
		return 0, 0, nil
	}
	list := cabi.Alloc(uint32(16*len(params)), 8)
	for i, v := range params {
		e := list + uint32(16*i)
		c, err := putParam(e, v)
		if err != nil {
			return 0, 0, fmt.Errorf("parameter %d: %w", i+1, err)
		}
		cabi.PutU8(e, 0, c)
	}
	return list, uint32(len(params)), nil
}

func putParam(e uint32, v any) (uint8, error) {
	switch v := v.(type) {
	case bool:
		if v {
			cabi.PutU8(e, 8, 1)
		} else {
			cabi.PutU8(e, 8, 0)
		}
		return 0, nil
	case int8:
		cabi.PutU8(e, 8, uint8(v))
		return 1, nil
	case int16:
		cabi.PutU32(e, 8, uint32(v))
		return 2, nil
	case int32:
		cabi.PutU32(e, 8, uint32(v))
		return 3, nil
	case int64:
		cabi.PutU64(e, 8, uint64(v))
		return 4, nil
	case int:
		cabi.PutU64(e, 8, uint64(v))
		return 4, nil
	case uint8:
		cabi.PutU8(e, 8, v)
		return 5, nil
	case uint16:
		cabi.PutU32(e, 8, uint32(v))
		return 6, nil
	case uint32:
		cabi.PutU32(e, 8, v)
		return 7, nil
	case uint64:
		cabi.PutU64(e, 8, v)
		return 8, nil
	case uint:
		cabi.PutU64(e, 8, uint64(v))
		return 8, nil
	case float32:
		cabi.PutU32(e, 8, math.Float32bits(v))
		return 9, nil
	case float64:
		cabi.PutU64(e, 8, math.Float64bits(v))
		return 10, nil
	case string:
		p, n := cabi.PutString(v)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
		return 11, nil
	case []byte:
		p, n := cabi.PutBytes(v)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
		return 12, nil
	case nil:
		return 13, nil
	default:
		return 0, fmt.Errorf("unsupported type %T", v)
	}
}

// ReadRowSet copies the row-set at p.
func ReadRowSet(p uint32) *RowSet {
	cols, nc := cabi.U32(p, 0), cabi.U32(p, 4)
	rows, nr := cabi.U32(p, 8), cabi.U32(p, 12)
	rs := &RowSet{Columns: make([]Column, nc), Rows: make([][]any, nr)}
	for i := range nc {
		c := cols + 12*i
		rs.Columns[i] = Column{Name: cabi.String(cabi.U32(c, 0), cabi.U32(c, 4)), Type: DataType(cabi.U8(c, 8))}
	}
	for i := range nr {
		vals, n := cabi.U32(rows+8*i, 0), cabi.U32(rows+8*i, 4)
		row := make([]any, n)
		for j := range n {
			row[j] = readValue(vals + 16*j)
		}
		rs.Rows[i] = row
	}
	return rs
}

func readValue(e uint32) any {
	switch cabi.U8(e, 0) {
	case 0:
		return cabi.U8(e, 8) != 0
	case 1:
		return int8(cabi.U8(e, 8))
	case 2:
		return int16(cabi.U32(e, 8))
	case 3:
		return int32(cabi.U32(e, 8))
	case 4:
		return int64(cabi.U64(e, 8))
	case 5:
		return cabi.U8(e, 8)
	case 6:
		return uint16(cabi.U32(e, 8))
	case 7:
		return cabi.U32(e, 8)
	case 8:
		return cabi.U64(e, 8)
	case 9:
		return math.Float32frombits(cabi.U32(e, 8))
	case 10:
		return math.Float64frombits(cabi.U64(e, 8))
	case 11:
		return cabi.String(cabi.U32(e, 8), cabi.U32(e, 12))
	case 12:
		return cabi.CopyBytes(cabi.U32(e, 8), cabi.U32(e, 12))
	case 13:
		return nil
	default:
		return Unsupported{}
	}
}

// Error is an rdbms-types error.
type Error struct {
	Kind    string // connection-failed, bad-parameter, query-failed, value-conversion-failed, other
	Message string
}

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

var kinds = [...]string{"connection-failed", "bad-parameter", "query-failed", "value-conversion-failed", "other"}

// ReadError reads the error variant at p (case at 0, string at 4).
func ReadError(p uint32) error {
	k := int(cabi.U8(p, 0))
	if k >= len(kinds) {
		return errors.New("unknown error case")
	}
	return &Error{Kind: kinds[k], Message: cabi.String(cabi.U32(p, 4), cabi.U32(p, 8))}
}
