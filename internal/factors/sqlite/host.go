package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// Interface names.
const (
	SpinV3    = "spin:sqlite/sqlite@3.1.0"
	FermyonV2 = "fermyon:spin/sqlite@2.0.0"
)

type ctxKey struct{}

// instance is one instance's view: what it may open, how many it holds.
type instance struct {
	state  *AppState
	grants map[string]bool
	open   atomic.Int32
}

var errNotPrepared = errors.New("sqlite: host function called without per-instance state (App.Prepare was not called)")

var errBadArgs = errors.New("sqlite: host function called with arguments of the wrong type")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// connection is the host resource behind the WIT connection: one pooled
// SQLite connection, held until the guest drops the handle (or the
// instance ends).
type connection struct {
	in      *instance
	db      *Database
	conn    *sql.Conn
	dropped atomic.Bool
}

// Drop hands the connection back to the pool and frees the slot.
func (c *connection) Drop() {
	if !c.dropped.Swap(true) {
		c.db.release(c.conn)
		c.in.open.Add(-1)
	}
}

// The WIT error variant's cases (the same in both versions).
const (
	errNoSuchDatabase = iota
	errAccessDenied
	errInvalidConnection
	errDatabaseFull
	errIO
)

func fail(c uint32) []any { return []any{cabi.Err(cabi.Variant{Case: c})} }

func failIO(msg string) []any { return []any{cabi.Err(cabi.Variant{Case: errIO, Value: msg})} }

// failWith maps a SQLite failure to the error variant.
func failWith(err error) []any {
	var e *Error
	if errors.As(err, &e) && e.Full {
		return fail(errDatabaseFull)
	}
	return failIO(err.Error())
}

func open(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	label, ok := args[0].(string)
	if !ok {
		return nil, errBadArgs
	}
	if !in.grants[label] {
		return fail(errAccessDenied), nil
	}
	if _, ok := in.state.configs[label]; !ok {
		return fail(errNoSuchDatabase), nil // granted labels are checked at load; kept for safety
	}
	if n := in.open.Add(1); int(n) > in.state.limits.MaxOpenConnections {
		in.open.Add(-1)
		return failIO("too many connections opened"), nil
	}
	db, err := in.state.Database(label)
	if err != nil {
		in.open.Add(-1)
		return failIO(err.Error()), nil
	}
	conn, err := db.conn(ctx)
	if err != nil {
		in.open.Add(-1)
		return failIO(fmt.Sprintf("connecting to database %q: %v", label, err)), nil
	}
	return []any{cabi.Ok(&connection{in: in, db: db, conn: conn})}, nil
}

func connArg(args []any) (*connection, error) {
	if len(args) == 0 {
		return nil, errBadArgs
	}
	c, ok := args[0].(*connection)
	if !ok || c == nil {
		return nil, errBadArgs
	}
	return c, nil
}

// fromWIT converts a WIT value variant to a SQLite value.
func fromWIT(v any) (Value, error) {
	vr, ok := v.(cabi.Variant)
	if !ok {
		return nil, errBadArgs
	}
	switch vr.Case {
	case 0:
		i, ok := vr.Value.(int64)
		if !ok {
			return nil, errBadArgs
		}
		return i, nil
	case 1:
		f, ok := vr.Value.(float64)
		if !ok {
			return nil, errBadArgs
		}
		return f, nil
	case 2:
		s, ok := vr.Value.(string)
		if !ok {
			return nil, errBadArgs
		}
		return s, nil
	case 3:
		b, _ := vr.Value.([]byte)
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case 4:
		return nil, nil
	}
	return nil, errBadArgs
}

// toWIT converts a SQLite value to the WIT value variant.
func toWIT(v Value) cabi.Variant {
	switch v := v.(type) {
	case int64:
		return cabi.Variant{Case: 0, Value: v}
	case float64:
		return cabi.Variant{Case: 1, Value: v}
	case string:
		return cabi.Variant{Case: 2, Value: v}
	case []byte:
		return cabi.Variant{Case: 3, Value: v}
	}
	return cabi.Variant{Case: 4}
}

// queryResult is the WIT query-result record.
func queryResult(r *Result) []any {
	cols := make([]any, len(r.Columns))
	for i, c := range r.Columns {
		cols[i] = c
	}
	rows := make([]any, len(r.Rows))
	for i, row := range r.Rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = toWIT(v)
		}
		rows[i] = []any{vals} // row-result { values }
	}
	return []any{cols, rows}
}

func execute(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	if len(args) != 3 {
		return nil, errBadArgs
	}
	stmt, ok := args[1].(string)
	if !ok {
		return nil, errBadArgs
	}
	list, _ := args[2].([]any)
	params := make([]Value, len(list))
	for i, p := range list {
		if params[i], err = fromWIT(p); err != nil {
			return nil, err
		}
	}
	if c.dropped.Load() {
		return fail(errInvalidConnection), nil
	}
	var res *Result
	err = withRaw(ctx, c.conn, func(rc rawConn) error {
		var err error
		res, err = rc.query(stmt, params, c.in.state.limits.MaxResultBytes)
		return err
	})
	if err != nil {
		if errors.Is(err, sql.ErrConnDone) {
			return fail(errInvalidConnection), nil
		}
		return failWith(err), nil
	}
	return []any{cabi.Ok(queryResult(res))}, nil
}

// connInfo reads a per-connection counter. The WIT functions cannot fail:
// a connection that is gone traps, as in Spin.
func connInfo(read func(rawConn) any) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		c, err := connArg(args)
		if err != nil {
			return nil, err
		}
		var v any
		if err := withRaw(ctx, c.conn, func(rc rawConn) error { v = read(rc); return nil }); err != nil {
			return nil, fmt.Errorf("sqlite: connection: %w", err)
		}
		return []any{v}, nil
	}
}

var (
	lastInsertRowid = connInfo(func(rc rawConn) any { return rc.lastInsertRowid() })
	changes         = connInfo(func(rc rawConn) any { return rc.changes() })
)

// Interfaces implements spin:sqlite/sqlite@3.1.0 (its async functions
// served synchronously; execute-async returns stream<>/future<> and is left
// out, see wit.Interface.Unsupported) and fermyon:spin/sqlite@2.0.0.
func (*Factor) Interfaces() []component.Interface {
	return []component.Interface{
		{Name: SpinV3, Funcs: map[string]component.HostFunc{
			"[static]connection.open":                    open,
			"[static]connection.open-async":              open,
			"[method]connection.execute":                 execute,
			"[method]connection.last-insert-rowid":       lastInsertRowid,
			"[method]connection.last-insert-rowid-async": lastInsertRowid,
			"[method]connection.changes":                 changes,
			"[method]connection.changes-async":           changes,
		}},
		{Name: FermyonV2, Funcs: map[string]component.HostFunc{
			"[static]connection.open":    open,
			"[method]connection.execute": execute,
		}},
	}
}
