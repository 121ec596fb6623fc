package postgres

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
)

// Interface names.
const (
	FermyonV2 = "fermyon:spin/postgres@2.0.0"
	SpinV3    = "spin:postgres/postgres@3.0.0"
	SpinV4    = "spin:postgres/postgres@4.2.0"
)

// pgError is an rdbms error that may carry the server's structured error
// (version 4's query-failed(db-error)).
type pgError struct {
	*rdbms.Error
	db *pgconn.PgError
}

func wrap(e *rdbms.Error) *pgError {
	if e == nil {
		return nil
	}
	return &pgError{Error: e}
}

// queryFailed maps a pgx error to query-failed, keeping the server's
// error if there is one.
func queryFailed(err error) *pgError {
	e := &pgError{Error: rdbms.Errorf(rdbms.QueryFailed, "%s", err.Error())}
	errors.As(err, &e.db)
	return e
}

// v4Error is the version-4 error variant.
func (e *pgError) v4Error() cabi.Variant {
	if e.Case != rdbms.QueryFailed {
		return e.Variant()
	}
	if e.db == nil {
		return cabi.Variant{Case: rdbms.QueryFailed, Value: cabi.Variant{Case: 0, Value: e.Msg}}
	}
	d := e.db
	detail := cabi.None
	if d.Detail != "" {
		detail = cabi.Some(d.Detail)
	}
	// Spin's extras, in its order and under its names.
	var extras []any
	add := func(k, v string) {
		if v != "" {
			extras = append(extras, []any{k, v})
		}
	}
	add("column", d.ColumnName)
	add("constraint", d.ConstraintName)
	add("routine", d.Routine)
	add("hint", d.Hint)
	add("table", d.TableName)
	add("datatype", d.DataTypeName)
	add("schema", d.SchemaName)
	add("file", d.File)
	if d.Line != 0 {
		add("line", strconv.Itoa(int(d.Line)))
	}
	add("where_", d.Where)
	if extras == nil {
		extras = []any{}
	}
	rec := []any{e.Msg, d.Severity, d.Code, d.Message, detail, extras}
	return cabi.Variant{Case: rdbms.QueryFailed, Value: cabi.Variant{Case: 1, Value: rec}}
}

// oldError is the version 2/3 error variant: query-failed carries text.
func (e *pgError) oldError() cabi.Variant { return e.Variant() }

// rootCA is a connection-builder's extra root certificate.
type rootCA struct {
	pool *x509.CertPool
	hash string
}

// builder is the connection-builder resource.
type builder struct {
	address string
	ca      *rootCA
}

// applyRootCA makes every TLS attempt verify the server's certificate
// against ca and its name, as Spin's TLS connector does once a root is
// added.
func applyRootCA(cfg *pgconn.Config, ca *rootCA) {
	verify := func(t *tls.Config, host string) *tls.Config {
		if t == nil {
			return nil
		}
		return &tls.Config{ServerName: host, RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
	}
	cfg.TLSConfig = verify(cfg.TLSConfig, cfg.Host)
	for _, fb := range cfg.Fallbacks {
		fb.TLSConfig = verify(fb.TLSConfig, fb.Host)
	}
}

// open implements connection.open and connection-builder.build.
func open(ctx context.Context, address string, ca *rootCA) (*conn, *pgError) {
	in, err := from(ctx)
	if err != nil {
		return nil, &pgError{Error: rdbms.Errorf(rdbms.Other, "%v", err)}
	}
	c, e := in.openConn(ctx, address, ca)
	return c, wrap(e)
}

// query runs statement with params (version-4 parameter-values); a
// parameter that cannot be converted is paramCase (Spin: bad-parameter
// from query, value-conversion-failed from execute).
func (c *conn) query(ctx context.Context, statement string, params []any) ([]column, [][]cabi.Variant, *pgError, error) {
	pc, e := c.Get()
	if e != nil {
		return nil, nil, wrap(e), nil
	}
	args, pe, err := convertParams(params, rdbms.BadParameter)
	if pe != nil || err != nil {
		return nil, nil, pe, err
	}
	rows, qerr := pc.Query(ctx, statement, args...)
	if qerr != nil {
		return nil, nil, queryFailed(qerr), nil
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	m := pc.TypeMap()
	cols := make([]column, len(fds))
	var unknown []int
	for i, fd := range fds {
		name := ""
		if t, ok := m.TypeForOID(fd.DataTypeOID); ok {
			name = t.Name
		}
		cols[i] = column{name: fd.Name, oid: fd.DataTypeOID, typ: dataType(fd.DataTypeOID, name)}
		if cols[i].typ.Case == cOther && name == "" {
			unknown = append(unknown, i)
		}
	}
	var out [][]cabi.Variant
	size := 0
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]cabi.Variant, len(raw))
		for i, r := range raw {
			if r == nil {
				row[i] = cabi.Variant{Case: cDbNull}
				continue
			}
			v, err := dbValue(m, fds[i].DataTypeOID, fds[i].Format, r)
			if err != nil {
				return nil, nil, &pgError{Error: rdbms.Errorf(rdbms.QueryFailed, "error converting column %q: %v", fds[i].Name, err)}, nil
			}
			row[i] = v
			size += rdbms.ValueSize(v)
		}
		if size > rdbms.MaxResultBytes {
			return nil, nil, &pgError{Error: rdbms.Errorf(rdbms.QueryFailed, "query result exceeds limit of %d bytes", rdbms.MaxResultBytes)}, nil
		}
		out = append(out, row)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, queryFailed(err), nil
	}
	// Types pgx does not know (enums, extensions) are named by the
	// server, as Spin names them. (The field descriptions belong to the
	// finished result; cols holds copies.)
	for _, i := range unknown {
		var name string
		if err := pc.QueryRow(ctx, "SELECT typname::text FROM pg_catalog.pg_type WHERE oid = $1", cols[i].oid).Scan(&name); err == nil {
			cols[i].typ.Value = name
		} else {
			cols[i].typ.Value = "oid " + strconv.FormatUint(uint64(cols[i].oid), 10)
		}
	}
	return cols, out, nil, nil
}

// execute runs statement and returns the number of rows it affected.
func (c *conn) execute(ctx context.Context, statement string, params []any) (uint64, *pgError, error) {
	pc, e := c.Get()
	if e != nil {
		return 0, wrap(e), nil
	}
	args, pe, err := convertParams(params, rdbms.ValueConversionFailed)
	if pe != nil || err != nil {
		return 0, pe, err
	}
	if strings.TrimSpace(statement) == "" {
		// pgx panics caching an empty prepared statement; the server
		// would answer an empty query with no rows affected and reject
		// parameters it has no placeholders for.
		if len(args) > 0 {
			return 0, &pgError{Error: rdbms.Errorf(rdbms.QueryFailed, "statement is empty but %d parameters were given", len(args))}, nil
		}
		return 0, nil, nil
	}
	tag, qerr := pc.Exec(ctx, statement, args...)
	if qerr != nil {
		return 0, queryFailed(qerr), nil
	}
	return uint64(tag.RowsAffected()), nil, nil
}

func convertParams(params []any, paramCase uint32) ([]any, *pgError, error) {
	args := make([]any, len(params))
	for i, p := range params {
		v, err := pgParam(p)
		var pe *paramError
		switch {
		case errors.As(err, &pe):
			return nil, &pgError{Error: rdbms.Errorf(paramCase, "parameter $%d: %s", i+1, pe.msg)}, nil
		case err != nil:
			return nil, nil, err
		}
		args[i] = v
	}
	return args, nil, nil
}

type column struct {
	name string
	oid  uint32
	typ  cabi.Variant // version-4 db-data-type
}

// version adapts the shared implementation to one interface version.
type version struct {
	param    func(any) (any, *rdbms.Error, error) // to a version-4 parameter-value
	value    func(cabi.Variant) any
	dataType func(cabi.Variant) any
	err      func(*pgError) cabi.Variant
}

var (
	v4 = version{
		param:    func(v any) (any, *rdbms.Error, error) { return v, nil, nil },
		value:    func(v cabi.Variant) any { return v },
		dataType: func(v cabi.Variant) any { return v },
		err:      (*pgError).v4Error,
	}
	v3 = version{
		param: func(v any) (any, *rdbms.Error, error) {
			p, err := v3Param(v)
			return p, nil, err
		},
		value:    func(v cabi.Variant) any { return v3Value(v) },
		dataType: func(v cabi.Variant) any { return v3DataType(v) },
		err:      (*pgError).oldError,
	}
	v2 = version{
		param: func(v any) (any, *rdbms.Error, error) {
			p, e := v2Param(v)
			return p, e, nil
		},
		value:    func(v cabi.Variant) any { return v2Value(v) },
		dataType: func(v cabi.Variant) any { return v2DataType(v) },
		err:      (*pgError).oldError,
	}
)

func (ver version) fail(e *pgError) []any { return []any{cabi.Err(ver.err(e))} }

func (ver version) params(list []any) ([]any, *pgError, error) {
	out := make([]any, len(list))
	for i, p := range list {
		v, e, err := ver.param(p)
		if e != nil || err != nil {
			return nil, wrap(e), err
		}
		out[i] = v
	}
	return out, nil, nil
}

func connArg(a *rdbms.Args) (*conn, error) {
	c, ok := a.Any(0).(*conn)
	if !ok || c == nil {
		return nil, rdbms.ErrBadArgs
	}
	return c, a.Err()
}

func (ver version) open() component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		a := rdbms.NewArgs(args)
		address := a.String(0)
		if err := a.Err(); err != nil {
			return nil, err
		}
		if _, err := from(ctx); err != nil {
			return nil, err
		}
		c, e := open(ctx, address, nil)
		if e != nil {
			return ver.fail(e), nil
		}
		return []any{cabi.Ok(c)}, nil
	}
}

func (ver version) query() component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		a := rdbms.NewArgs(args)
		c, err := connArg(a)
		statement, list := a.String(1), a.List(2)
		if err != nil || a.Err() != nil {
			return nil, rdbms.ErrBadArgs
		}
		params, e, err := ver.params(list)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return ver.fail(e), nil
		}
		cols, rows, e, err := c.query(ctx, statement, params)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return ver.fail(e), nil
		}
		wc := make([]any, len(cols))
		for i, col := range cols {
			wc[i] = []any{col.name, ver.dataType(col.typ)}
		}
		wr := make([]any, len(rows))
		for i, r := range rows {
			row := make([]any, len(r))
			for j, v := range r {
				row[j] = ver.value(v)
			}
			wr[i] = row
		}
		return []any{cabi.Ok([]any{wc, wr})}, nil
	}
}

func (ver version) execute() component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		a := rdbms.NewArgs(args)
		c, err := connArg(a)
		statement, list := a.String(1), a.List(2)
		if err != nil || a.Err() != nil {
			return nil, rdbms.ErrBadArgs
		}
		params, e, err := ver.params(list)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return ver.fail(e), nil
		}
		n, e, err := c.execute(ctx, statement, params)
		if err != nil {
			return nil, err
		}
		if e != nil {
			return ver.fail(e), nil
		}
		return []any{cabi.Ok(n)}, nil
	}
}

func newBuilder(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	a := rdbms.NewArgs(args)
	address := a.String(0)
	if err := a.Err(); err != nil {
		return nil, err
	}
	return []any{&builder{address: address}}, nil
}

func builderArg(a *rdbms.Args) (*builder, error) {
	b, ok := a.Any(0).(*builder)
	if !ok || b == nil {
		return nil, rdbms.ErrBadArgs
	}
	return b, a.Err()
}

func setCARoot(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	a := rdbms.NewArgs(args)
	b, err := builderArg(a)
	pem := a.String(1)
	if err != nil || a.Err() != nil {
		return nil, rdbms.ErrBadArgs
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pem)) {
		return v4.fail(wrap(rdbms.Errorf(rdbms.Other, "invalid root certificate: no PEM certificate found"))), nil
	}
	sum := sha256.Sum256([]byte(pem))
	b.ca = &rootCA{pool: pool, hash: hex.EncodeToString(sum[:])}
	return []any{cabi.Ok(nil)}, nil
}

func build(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := rdbms.NewArgs(args)
	b, err := builderArg(a)
	if err != nil {
		return nil, err
	}
	if _, err := from(ctx); err != nil {
		return nil, err
	}
	c, e := open(ctx, b.address, b.ca)
	if e != nil {
		return v4.fail(e), nil
	}
	return []any{cabi.Ok(c)}, nil
}

// Interfaces implements fermyon:spin/postgres@2.0.0,
// spin:postgres/postgres@3.0.0 and spin:postgres/postgres@4.2.0. Version
// 4's async functions are served synchronously; query-async returns a
// stream<> and is left out (see wit.Interface.Unsupported).
func (*Factor) Interfaces() []component.Interface {
	return []component.Interface{
		{Name: FermyonV2, Funcs: map[string]component.HostFunc{
			"[static]connection.open":    v2.open(),
			"[method]connection.query":   v2.query(),
			"[method]connection.execute": v2.execute(),
		}},
		{Name: SpinV3, Funcs: map[string]component.HostFunc{
			"[static]connection.open":    v3.open(),
			"[method]connection.query":   v3.query(),
			"[method]connection.execute": v3.execute(),
		}},
		{Name: SpinV4, Funcs: map[string]component.HostFunc{
			"[static]connection.open":                v4.open(),
			"[static]connection.open-async":          v4.open(),
			"[method]connection.query":               v4.query(),
			"[method]connection.execute":             v4.execute(),
			"[method]connection.execute-async":       v4.execute(),
			"[constructor]connection-builder":        newBuilder,
			"[method]connection-builder.set-ca-root": setCARoot,
			"[method]connection-builder.build":       build,
			"[method]connection-builder.build-async": build,
		}},
	}
}
