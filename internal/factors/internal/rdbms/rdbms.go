// Package rdbms holds what the outbound PostgreSQL and MySQL factors share:
// the error variant every rdbms interface uses, the case layout of
// fermyon:spin/rdbms-types@2.0.0 (which spin:mysql@3.0.0 repeats), the
// per-app connection limit, the per-component handle cache and the
// host-function argument helpers.
package rdbms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// Error cases, the same in every rdbms interface (rdbms-types, spin:mysql,
// spin:postgres@3 and @4).
const (
	ConnectionFailed uint32 = iota
	BadParameter
	QueryFailed
	ValueConversionFailed
	Other
)

// Error is a failure the guest sees as the interface's error variant.
type Error struct {
	Case uint32
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error of case c.
func Errorf(c uint32, format string, args ...any) *Error {
	return &Error{Case: c, Msg: fmt.Sprintf(format, args...)}
}

// Variant is the error as the string-payload variant all cases share.
func (e *Error) Variant() cabi.Variant { return cabi.Variant{Case: e.Case, Value: e.Msg} }

// Case indices of fermyon:spin/rdbms-types@2.0.0 db-data-type,
// db-value and parameter-value; spin:mysql@3.0.0 uses the same layout.
const (
	Boolean uint32 = iota
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
	// DbNull is db-value's and parameter-value's case 13; db-data-type's
	// case 13 is TypeOther.
	DbNull
	// Unsupported is db-value's last case (no payload).
	Unsupported
)

// TypeOther is db-data-type's "other".
const TypeOther uint32 = 13

// Column is a result column: its name and db-data-type case.
type Column struct {
	Name string
	Type uint32
}

// RowSet lowers columns and rows (each a list of db-value variants) into
// the row-set record.
func RowSet(columns []Column, rows [][]any) []any {
	cols := make([]any, len(columns))
	for i, c := range columns {
		cols[i] = []any{c.Name, c.Type}
	}
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return []any{cols, out}
}

// MaxResultBytes bounds the size of a buffered query result, as Spin's
// MAX_HOST_BUFFERED_BYTES does.
const MaxResultBytes = 128 << 20

// ValueSize estimates the memory a db-value takes, for MaxResultBytes.
func ValueSize(v any) int {
	const word = 16
	switch v := v.(type) {
	case string:
		return word + len(v)
	case []byte:
		return word + len(v)
	case []any:
		n := word
		for _, e := range v {
			n += ValueSize(e)
		}
		return n
	case cabi.Variant:
		return word + ValueSize(v.Value)
	case cabi.Option:
		return word + ValueSize(v.Value)
	}
	return word
}

// Args reads host-function arguments defensively: the host lifts them per
// the WIT, so a mismatch is a host bug, reported once as a trap.
type Args struct {
	args []any
	err  error
}

// NewArgs wraps args.
func NewArgs(args []any) *Args { return &Args{args: args} }

// ErrBadArgs reports host-function arguments not of their WIT types.
var ErrBadArgs = errors.New("rdbms: host function called with arguments of the wrong type")

func (a *Args) at(i int) any {
	if i >= len(a.args) {
		a.err = ErrBadArgs
		return nil
	}
	return a.args[i]
}

// String returns argument i as a string.
func (a *Args) String(i int) string {
	s, ok := a.at(i).(string)
	if !ok {
		a.err = ErrBadArgs
	}
	return s
}

// List returns argument i as a list.
func (a *Args) List(i int) []any {
	v := a.at(i)
	if v == nil {
		return nil // an empty list may be lifted as nil
	}
	l, ok := v.([]any)
	if !ok {
		a.err = ErrBadArgs
	}
	return l
}

// Any returns argument i.
func (a *Args) Any(i int) any { return a.at(i) }

// Err is the first mismatch seen.
func (a *Args) Err() error { return a.err }

// Param is a parameter-value of rdbms-types / spin:mysql@3.0.0 as a Go
// value: bool, int8…int64, uint8…uint64, float32, float64, string,
// []byte, or nil for db-null.
func Param(v any) (any, error) {
	pv, ok := v.(cabi.Variant)
	if !ok {
		return nil, ErrBadArgs
	}
	if pv.Case == DbNull {
		return nil, nil
	}
	ok = false
	switch pv.Case {
	case Boolean:
		_, ok = pv.Value.(bool)
	case Int8:
		_, ok = pv.Value.(int8)
	case Int16:
		_, ok = pv.Value.(int16)
	case Int32:
		_, ok = pv.Value.(int32)
	case Int64:
		_, ok = pv.Value.(int64)
	case Uint8:
		_, ok = pv.Value.(uint8)
	case Uint16:
		_, ok = pv.Value.(uint16)
	case Uint32:
		_, ok = pv.Value.(uint32)
	case Uint64:
		_, ok = pv.Value.(uint64)
	case Floating32:
		_, ok = pv.Value.(float32)
	case Floating64:
		_, ok = pv.Value.(float64)
	case Str:
		_, ok = pv.Value.(string)
	case Binary:
		if pv.Value == nil {
			return []byte{}, nil
		}
		_, ok = pv.Value.([]byte)
	}
	if !ok {
		return nil, ErrBadArgs
	}
	return pv.Value, nil
}

// IntValue returns the db-value for integer n in case c (Int8…Uint64),
// or an error if n does not fit.
func IntValue(c uint32, n int64) (cabi.Variant, error) {
	var lo, hi int64
	switch c {
	case Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case Int64:
		return cabi.Variant{Case: c, Value: n}, nil
	case Uint8:
		lo, hi = 0, math.MaxUint8
	case Uint16:
		lo, hi = 0, math.MaxUint16
	case Uint32:
		lo, hi = 0, math.MaxUint32
	case Uint64:
		if n < 0 {
			return cabi.Variant{}, fmt.Errorf("value %d out of range for an unsigned integer", n)
		}
		return cabi.Variant{Case: c, Value: uint64(n)}, nil
	default:
		return cabi.Variant{}, fmt.Errorf("not an integer type")
	}
	if n < lo || n > hi {
		return cabi.Variant{}, fmt.Errorf("value %d out of range [%d, %d]", n, lo, hi)
	}
	var v any
	switch c {
	case Int8:
		v = int8(n)
	case Int16:
		v = int16(n)
	case Int32:
		v = int32(n)
	case Uint8:
		v = uint8(n)
	case Uint16:
		v = uint16(n)
	case Uint32:
		v = uint32(n)
	}
	return cabi.Variant{Case: c, Value: v}, nil
}

// Limiter bounds the connections an app holds at once (the runtime
// config's max_connections); a nil *Limiter is unlimited.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a limiter of n slots; n <= 0 means unlimited (nil).
func NewLimiter(n int) *Limiter {
	if n <= 0 {
		return nil
	}
	return &Limiter{slots: make(chan struct{}, n)}
}

// Acquire takes a slot, waiting at most wait (and no longer than ctx).
func (l *Limiter) Acquire(ctx context.Context, wait time.Duration) bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Release returns a slot.
func (l *Limiter) Release() {
	if l != nil {
		<-l.slots
	}
}

// Counter is a per-instance open-connection count with a cap (Spin's
// resource table holds 1024 connections per instance).
type Counter struct {
	n atomic.Int32
}

// Take counts one more connection unless max are open.
func (c *Counter) Take(max int) bool {
	if int(c.n.Add(1)) > max {
		c.n.Add(-1)
		return false
	}
	return true
}

// Put counts one connection fewer.
func (c *Counter) Put() { c.n.Add(-1) }

// ParseMaxConnections reads the [<section>] runtime-config table Spin
// defines for outbound databases: only max_connections, a positive
// integer. raw is what RuntimeConfig.Take returned.
func ParseMaxConnections(section string, raw any) (int, error) {
	fields, ok := raw.(map[string]any)
	if !ok {
		return 0, fmt.Errorf("runtime config: [%s] must be a table", section)
	}
	t := runtimeconfig.NewTable(fmt.Sprintf("runtime config: [%s]", section), fields)
	t.Strict("", "max_connections")
	n := 0
	if v, ok := t.Value("max_connections"); ok {
		if i, ok := v.(int64); ok && i > 0 && i <= math.MaxInt32 {
			n = int(i)
		} else {
			t.Errorf("max_connections must be a positive integer")
		}
	}
	if err := t.Err(); err != nil {
		return 0, err
	}
	return n, nil
}
