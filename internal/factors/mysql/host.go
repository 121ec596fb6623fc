package mysql

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	driver "github.com/go-sql-driver/mysql"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
)

// Interface names.
const (
	FermyonV2 = "fermyon:spin/mysql@2.0.0"
	SpinV3    = "spin:mysql/mysql@3.0.0"
)

// scrub removes the password from a driver message.
func scrub(msg, password string) string {
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return msg
}

// dataType maps a column's type, as the driver names it, to Spin's
// db-data-type: Spin decides from the MySQL column type, its UNSIGNED flag
// and whether it is binary.
func dataType(name string) uint32 {
	switch name {
	case "TINYINT":
		return rdbms.Int8
	case "UNSIGNED TINYINT":
		return rdbms.Uint8
	case "SMALLINT":
		return rdbms.Int16
	case "UNSIGNED SMALLINT":
		return rdbms.Uint16
	case "MEDIUMINT", "INT":
		return rdbms.Int32
	case "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		return rdbms.Uint32
	case "BIGINT":
		return rdbms.Int64
	case "UNSIGNED BIGINT":
		return rdbms.Uint64
	case "FLOAT":
		return rdbms.Floating32
	case "DOUBLE":
		return rdbms.Floating64
	case "TEXT", "CHAR", "VARCHAR", "ENUM", "SET":
		return rdbms.Str
	case "BLOB", "BINARY", "VARBINARY", "MEDIUMBLOB", "LONGBLOB", "MEDIUMTEXT", "LONGTEXT":
		return rdbms.Binary
	}
	return rdbms.TypeOther
}

// dbValue converts a value the driver returned (nil, int64, uint64,
// float32, float64 or []byte with the binary protocol) for a column of
// Spin type t into a db-value.
func dbValue(t uint32, v any) (cabi.Variant, error) {
	if v == nil {
		return cabi.Variant{Case: rdbms.DbNull}, nil
	}
	switch t {
	case rdbms.Binary:
		if b, ok := v.([]byte); ok {
			return cabi.Variant{Case: t, Value: append([]byte{}, b...)}, nil
		}
	case rdbms.Str:
		if b, ok := v.([]byte); ok {
			if !utf8.Valid(b) {
				return cabi.Variant{}, fmt.Errorf("value is not valid UTF-8")
			}
			return cabi.Variant{Case: t, Value: string(b)}, nil
		}
	case rdbms.Int8, rdbms.Int16, rdbms.Int32, rdbms.Int64, rdbms.Uint8, rdbms.Uint16, rdbms.Uint32, rdbms.Uint64:
		switch n := v.(type) {
		case int64:
			return rdbms.IntValue(t, n)
		case uint64:
			if t == rdbms.Uint64 {
				return cabi.Variant{Case: t, Value: n}, nil
			}
			if n <= math.MaxInt64 {
				return rdbms.IntValue(t, int64(n))
			}
		case []byte:
			if t == rdbms.Uint64 {
				u, err := strconv.ParseUint(string(n), 10, 64)
				return cabi.Variant{Case: t, Value: u}, err
			}
			i, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return cabi.Variant{}, err
			}
			return rdbms.IntValue(t, i)
		}
	case rdbms.Floating32:
		switch f := v.(type) {
		case float32:
			return cabi.Variant{Case: t, Value: f}, nil
		case float64:
			return cabi.Variant{Case: t, Value: float32(f)}, nil
		case []byte:
			x, err := strconv.ParseFloat(string(f), 32)
			return cabi.Variant{Case: t, Value: float32(x)}, err
		}
	case rdbms.Floating64:
		switch f := v.(type) {
		case float64:
			return cabi.Variant{Case: t, Value: f}, nil
		case float32:
			return cabi.Variant{Case: t, Value: float64(f)}, nil
		case []byte:
			x, err := strconv.ParseFloat(string(f), 64)
			return cabi.Variant{Case: t, Value: x}, err
		}
	case rdbms.TypeOther:
		// Spin fails here (value-conversion-failed); the value's text is
		// more use to a guest: DECIMAL, DATE, DATETIME, TIMESTAMP, TIME,
		// YEAR, JSON, BIT, TINYTEXT... come back as str (binary when not
		// UTF-8).
		switch x := v.(type) {
		case []byte:
			if utf8.Valid(x) {
				return cabi.Variant{Case: rdbms.Str, Value: string(x)}, nil
			}
			return cabi.Variant{Case: rdbms.Binary, Value: append([]byte{}, x...)}, nil
		case int64:
			return cabi.Variant{Case: rdbms.Str, Value: strconv.FormatInt(x, 10)}, nil
		case uint64:
			return cabi.Variant{Case: rdbms.Str, Value: strconv.FormatUint(x, 10)}, nil
		case float32:
			return cabi.Variant{Case: rdbms.Str, Value: strconv.FormatFloat(float64(x), 'g', -1, 32)}, nil
		case float64:
			return cabi.Variant{Case: rdbms.Str, Value: strconv.FormatFloat(x, 'g', -1, 64)}, nil
		}
	}
	return cabi.Variant{}, fmt.Errorf("unexpected %T from the driver", v)
}

// failure is the error value of case c for err from running a statement.
// A statement cut short by the call's context makes the driver close the
// connection (it has no other way to stop the server mid-statement), and
// database/sql then reports "bad connection" or "connection is already
// closed": say plainly that the connection is gone and what to do.
func failure(c uint32, err error) *rdbms.Error {
	if errors.Is(err, sqldriver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrInvalidConn) {
		return rdbms.Errorf(c, "connection to the server is closed (%v); open a new connection", err)
	}
	return rdbms.Errorf(c, "%v", err)
}

// query runs statement with params and buffers the result.
func (c *conn) query(ctx context.Context, statement string, params []any) ([]rdbms.Column, [][]any, *rdbms.Error) {
	sc, e := c.Get()
	if e != nil {
		return nil, nil, e
	}
	stmt, err := sc.PrepareContext(ctx, statement)
	if err != nil {
		return nil, nil, failure(rdbms.QueryFailed, err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, params...)
	if err != nil {
		return nil, nil, failure(rdbms.QueryFailed, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, nil, failure(rdbms.Other, err)
	}
	cols := make([]rdbms.Column, len(cts))
	for i, ct := range cts {
		cols[i] = rdbms.Column{Name: ct.Name(), Type: dataType(ct.DatabaseTypeName())}
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out [][]any
	size := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, failure(rdbms.Other, err)
		}
		row := make([]any, len(cols))
		for i, v := range vals {
			dv, err := dbValue(cols[i].Type, v)
			if err != nil {
				return nil, nil, rdbms.Errorf(rdbms.ValueConversionFailed, "cannot convert value in column %q: %v", cols[i].Name, err)
			}
			row[i] = dv
			size += rdbms.ValueSize(dv)
		}
		if size > rdbms.MaxResultBytes {
			return nil, nil, rdbms.Errorf(rdbms.Other, "query result exceeds limit of %d bytes", rdbms.MaxResultBytes)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, failure(rdbms.Other, err)
	}
	// Close reads what follows the first result (a CALL's further
	// results): an error there fails the statement too.
	if err := rows.Close(); err != nil {
		return nil, nil, failure(rdbms.QueryFailed, err)
	}
	return cols, out, nil
}

// execute runs statement with params and discards any rows it returns,
// as Spin's exec_batch does; every error, including one the server sends
// part way through a result, is query-failed.
//
// It reads the result through the rows path, never stmt.Exec: with
// MariaDB's metadata caching (MARIADB_CLIENT_CACHE_METADATA, which
// go-sql-driver v1.10 negotiates) the server leaves out the column
// definitions it sent at prepare, and the driver's Exec ignores that flag
// and skips one packet per column anyway. It so swallows rows, the end of
// the result or the error packet as if they were column definitions and
// then waits for packets that never come: "SELECT 1, 2" or a SELECT that
// fails at its first row blocked until the deadline, which closed the
// connection. The rows path honours the flag.
func (c *conn) execute(ctx context.Context, statement string, params []any) *rdbms.Error {
	sc, e := c.Get()
	if e != nil {
		return e
	}
	stmt, err := sc.PrepareContext(ctx, statement)
	if err != nil {
		return failure(rdbms.QueryFailed, err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, params...)
	if err != nil {
		return failure(rdbms.QueryFailed, err)
	}
	defer rows.Close()
	for {
		for rows.Next() {
		}
		if !rows.NextResultSet() {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return failure(rdbms.QueryFailed, err)
	}
	if err := rows.Close(); err != nil {
		return failure(rdbms.QueryFailed, err)
	}
	return nil
}

// params converts parameter-values into driver arguments, as Spin's
// driver sends them: booleans and integers as integers, floats, strings,
// bytes, NULL.
func params(list []any) ([]any, error) {
	out := make([]any, len(list))
	for i, p := range list {
		v, err := rdbms.Param(p)
		if err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case int8:
			v = int64(x)
		case int16:
			v = int64(x)
		case int32:
			v = int64(x)
		case uint8:
			v = int64(x)
		case uint16:
			v = int64(x)
		case uint32:
			v = int64(x)
		case float32:
			v = float64(x)
		}
		out[i] = v
	}
	return out, nil
}

func fail(e *rdbms.Error) []any { return []any{cabi.Err(e.Variant())} }

func connArgs(args []any) (*conn, string, []any, error) {
	a := rdbms.NewArgs(args)
	c, ok := a.Any(0).(*conn)
	statement, list := a.String(1), a.List(2)
	if !ok || c == nil || a.Err() != nil {
		return nil, "", nil, rdbms.ErrBadArgs
	}
	ps, err := params(list)
	return c, statement, ps, err
}

func open(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := rdbms.NewArgs(args)
	address := a.String(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	c, e := in.openConn(ctx, address)
	if e != nil {
		return fail(e), nil
	}
	return []any{cabi.Ok(c)}, nil
}

func query(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, statement, ps, err := connArgs(args)
	if err != nil {
		return nil, err
	}
	cols, rows, e := c.query(ctx, statement, ps)
	if e != nil {
		return fail(e), nil
	}
	return []any{cabi.Ok(rdbms.RowSet(cols, rows))}, nil
}

func execute(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, statement, ps, err := connArgs(args)
	if err != nil {
		return nil, err
	}
	if e := c.execute(ctx, statement, ps); e != nil {
		return fail(e), nil
	}
	return []any{cabi.Ok(nil)}, nil
}

// Interfaces implements fermyon:spin/mysql@2.0.0 and
// spin:mysql/mysql@3.0.0. Version 3's functions are async and served
// synchronously; its query returns a stream<> and is left out (see
// wit.Interface.Unsupported).
func (*Factor) Interfaces() []component.Interface {
	return []component.Interface{
		{Name: FermyonV2, Funcs: map[string]component.HostFunc{
			"[static]connection.open":    open,
			"[method]connection.query":   query,
			"[method]connection.execute": execute,
		}},
		{Name: SpinV3, Funcs: map[string]component.HostFunc{
			"[static]connection.open":    open,
			"[method]connection.execute": execute,
		}},
	}
}
