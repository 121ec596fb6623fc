package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/postgres"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

var ifaces = postgres.New().Interfaces()

// setup configures the factor for a one-component app and returns the
// component's call context, allowed to reach the test server.
func setup(t *testing.T, f *postgres.Factor, runtimeConfig string) (ctx context.Context, address string) {
	t.Helper()
	address = testsvc.Postgres(t)
	u, err := url.Parse(address)
	if err != nil {
		t.Fatal(err)
	}
	app := factortest.Configure(t, factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), runtimeConfig), f)
	ctx = factortest.Prepare(t, app, "a")
	return outbound.WithPolicy(ctx, factortest.Policy(t, "postgres://"+u.Host)), address
}

func v(c uint32, val any) cabi.Variant { return cabi.Variant{Case: c, Value: val} }

func call(t *testing.T, ctx context.Context, iface, fn string, args ...any) cabi.Result {
	t.Helper()
	return factortest.Call(t, ctx, ifaces, iface, fn, args...)[0].(cabi.Result)
}

func open(t *testing.T, ctx context.Context, iface, address string) any {
	t.Helper()
	r := call(t, ctx, iface, "[static]connection.open", address)
	if r.IsErr {
		t.Fatalf("open: %+v", r.Value)
	}
	t.Cleanup(func() { r.Value.(component.Dropper).Drop() })
	return r.Value
}

func execute(t *testing.T, ctx context.Context, iface string, c any, stmt string, params ...any) uint64 {
	t.Helper()
	r := call(t, ctx, iface, "[method]connection.execute", c, stmt, params)
	if r.IsErr {
		t.Fatalf("execute %q: %+v", stmt, r.Value)
	}
	if r.Value == nil {
		return 0
	}
	return r.Value.(uint64)
}

type rowSet struct {
	columns []any
	rows    []any
}

func query(t *testing.T, ctx context.Context, iface string, c any, stmt string, params ...any) rowSet {
	t.Helper()
	r := call(t, ctx, iface, "[method]connection.query", c, stmt, params)
	if r.IsErr {
		t.Fatalf("query %q: %+v", stmt, r.Value)
	}
	rs := r.Value.([]any)
	return rowSet{columns: rs[0].([]any), rows: rs[1].([]any)}
}

// The spin:postgres@4.2.0 cases used below.
const (
	cBoolean uint32 = iota
	cInt8
	cInt16
	cInt32
	cInt64
	cFloating32
	cFloating64
	cStr
	cBinary
	cDate
	cTime
	cDatetime
	cTimestamp
	cUUID
	cJSONB
	cDecimal
	cRangeInt32
	cRangeInt64
	cRangeDecimal
	cArrayInt32
	cArrayInt64
	cArrayDecimal
	cArrayStr
	cInterval
	cDbNull
	cUnsupported
)

// cOther is db-data-type's other(string), the case after interval.
const cOther = cDbNull

func bound(val any, exclusive bool) cabi.Option {
	k := uint32(0)
	if exclusive {
		k = 1
	}
	return cabi.Some([]any{val, k})
}

// typeCases is one column per WIT type: the SQL type, a parameter, the
// value read back, its data type.
var typeCases = []struct {
	sqlType string
	param   cabi.Variant
	want    cabi.Variant
	typ     cabi.Variant
}{
	{"boolean", v(cBoolean, true), v(cBoolean, true), v(cBoolean, nil)},
	{"int2", v(cInt16, int16(-12345)), v(cInt16, int16(-12345)), v(cInt16, nil)},
	{"int2", v(cInt8, int8(-7)), v(cInt16, int16(-7)), v(cInt16, nil)},
	{"int4", v(cInt32, int32(2_000_000_000)), v(cInt32, int32(2_000_000_000)), v(cInt32, nil)},
	{"int8", v(cInt64, int64(-9_000_000_000_000)), v(cInt64, int64(-9_000_000_000_000)), v(cInt64, nil)},
	{"float4", v(cFloating32, float32(1.5)), v(cFloating32, float32(1.5)), v(cFloating32, nil)},
	{"float8", v(cFloating64, 2.25), v(cFloating64, 2.25), v(cFloating64, nil)},
	{"text", v(cStr, "héllo"), v(cStr, "héllo"), v(cStr, nil)},
	{"varchar(10)", v(cStr, "abc"), v(cStr, "abc"), v(cStr, nil)},
	{"char(3)", v(cStr, "x"), v(cStr, "x  "), v(cStr, nil)},
	{"bytea", v(cBinary, []byte{0, 1, 255}), v(cBinary, []byte{0, 1, 255}), v(cBinary, nil)},
	{"date", v(cDate, []any{int32(2024), uint8(2), uint8(29)}), v(cDate, []any{int32(2024), uint8(2), uint8(29)}), v(cDate, nil)},
	{"time", v(cTime, []any{uint8(13), uint8(14), uint8(15), uint32(123456000)}), v(cTime, []any{uint8(13), uint8(14), uint8(15), uint32(123456000)}), v(cTime, nil)},
	{"timestamp", v(cDatetime, []any{int32(1999), uint8(12), uint8(31), uint8(23), uint8(59), uint8(58), uint32(5000)}),
		v(cDatetime, []any{int32(1999), uint8(12), uint8(31), uint8(23), uint8(59), uint8(58), uint32(5000)}), v(cDatetime, nil)},
	{"timestamptz", v(cTimestamp, int64(86400)), v(cDatetime, []any{int32(1970), uint8(1), uint8(2), uint8(0), uint8(0), uint8(0), uint32(0)}), v(cDatetime, nil)},
	{"uuid", v(cUUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), v(cUUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), v(cUUID, nil)},
	{"jsonb", v(cJSONB, []byte(`{"b": [1, 2], "a": "x"}`)), v(cJSONB, []byte(`{"a":"x","b":[1,2]}`)), v(cJSONB, nil)},
	{"numeric", v(cDecimal, "-1234.5600"), v(cDecimal, "-1234.5600"), v(cDecimal, nil)},
	{"numeric(10,3)", v(cDecimal, "0.5"), v(cDecimal, "0.500"), v(cDecimal, nil)},
	{"int4range", v(cRangeInt32, []any{bound(int32(1), false), bound(int32(10), false)}),
		v(cRangeInt32, []any{bound(int32(1), false), bound(int32(11), true)}), v(cRangeInt32, nil)},
	{"int8range", v(cRangeInt64, []any{cabi.None, bound(int64(5), true)}),
		v(cRangeInt64, []any{cabi.None, bound(int64(5), true)}), v(cRangeInt64, nil)},
	{"numrange", v(cRangeDecimal, []any{bound("1.5", true), bound("2.25", false)}),
		v(cRangeDecimal, []any{bound("1.5", true), bound("2.25", false)}), v(cRangeDecimal, nil)},
	{"int4[]", v(cArrayInt32, []any{cabi.Some(int32(1)), cabi.None, cabi.Some(int32(-3))}),
		v(cArrayInt32, []any{cabi.Some(int32(1)), cabi.None, cabi.Some(int32(-3))}), v(cArrayInt32, nil)},
	{"int8[]", v(cArrayInt64, []any{cabi.Some(int64(1) << 40)}), v(cArrayInt64, []any{cabi.Some(int64(1) << 40)}), v(cArrayInt64, nil)},
	{"numeric[]", v(cArrayDecimal, []any{cabi.Some("1.10"), cabi.None}), v(cArrayDecimal, []any{cabi.Some("1.10"), cabi.None}), v(cArrayDecimal, nil)},
	{"text[]", v(cArrayStr, []any{cabi.Some("a"), cabi.None, cabi.Some("")}), v(cArrayStr, []any{cabi.Some("a"), cabi.None, cabi.Some("")}), v(cArrayStr, nil)},
	{"varchar[]", v(cArrayStr, []any{}), v(cArrayStr, []any{}), v(cArrayStr, nil)},
	{"interval", v(cInterval, []any{int64(3_600_000_001), int32(2), int32(-14)}), v(cInterval, []any{int64(3_600_000_001), int32(2), int32(-14)}), v(cInterval, nil)},
	{"inet", v(cStr, "10.0.0.1"), v(cUnsupported, nil), v(cDbNull, "inet")}, // want checked by case only
}

func TestTypesRoundTripV4(t *testing.T) {
	ctx, address := setup(t, postgres.New(), "")
	c := open(t, ctx, postgres.SpinV4, address)
	table := testsvc.Unique(t)
	var cols, marks []string
	var params, nulls []any
	for i, tc := range typeCases {
		cols = append(cols, "c"+itoa(i)+" "+tc.sqlType)
		marks = append(marks, "$"+itoa(i+1))
		params = append(params, tc.param)
		nulls = append(nulls, v(cDbNull, nil))
	}
	execute(t, ctx, postgres.SpinV4, c, "CREATE TABLE "+table+" (id int, "+strings.Join(cols, ", ")+")")
	t.Cleanup(func() { execute(t, ctx, postgres.SpinV4, c, "DROP TABLE "+table) })
	names := make([]string, len(typeCases))
	for i := range typeCases {
		names[i] = "c" + itoa(i)
	}
	insert := "INSERT INTO " + table + " (id, " + strings.Join(names, ", ") + ") VALUES ($" + itoa(len(typeCases)+1) + ", " + strings.Join(marks, ", ") + ")"
	if n := execute(t, ctx, postgres.SpinV4, c, insert, append(params, v(cInt32, int32(1)))...); n != 1 {
		t.Fatalf("insert affected %d rows", n)
	}
	execute(t, ctx, postgres.SpinV4, c, insert, append(nulls, v(cInt32, int32(2)))...)

	rs := query(t, ctx, postgres.SpinV4, c, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" WHERE id = $1", v(cInt32, int32(1)))
	if len(rs.rows) != 1 {
		t.Fatalf("rows = %d", len(rs.rows))
	}
	row := rs.rows[0].([]any)
	for i, tc := range typeCases {
		col := rs.columns[i].([]any)
		if col[0] != names[i] {
			t.Errorf("column %d name %v", i, col[0])
		}
		got := row[i].(cabi.Variant)
		if tc.want.Case == cUnsupported {
			if got.Case != cUnsupported || col[1] != v(cOther, "inet") {
				t.Errorf("%s: got %#v, type %#v", tc.sqlType, got, col[1])
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.sqlType, got, tc.want)
		}
		if !reflect.DeepEqual(col[1], tc.typ) {
			t.Errorf("%s: type %#v, want %#v", tc.sqlType, col[1], tc.typ)
		}
	}

	rs = query(t, ctx, postgres.SpinV4, c, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" WHERE id = 2")
	for i, got := range rs.rows[0].([]any) {
		if got != (cabi.Variant{Case: cDbNull}) {
			t.Errorf("%s NULL: got %#v", typeCases[i].sqlType, got)
		}
	}

	// Every parameter type as a parameter of a query.
	for _, tc := range typeCases[:len(typeCases)-1] {
		rs := query(t, ctx, postgres.SpinV4, c, "SELECT $1::"+tc.sqlType, tc.param)
		if got := rs.rows[0].([]any)[0]; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SELECT $1::%s: got %#v, want %#v", tc.sqlType, got, tc.want)
		}
	}

	// Columns are described even without rows.
	rs = query(t, ctx, postgres.SpinV4, c, "SELECT c0 FROM "+table+" WHERE false")
	if len(rs.rows) != 0 || len(rs.columns) != 1 {
		t.Errorf("empty result: %+v", rs)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestOlderVersions(t *testing.T) {
	ctx, address := setup(t, postgres.New(), "")

	// Version 3: the date/time cases are shared; newer types are
	// unsupported and other.
	c3 := open(t, ctx, postgres.SpinV3, address)
	rs := query(t, ctx, postgres.SpinV3, c3, "SELECT $1::date, $2::int8, gen_random_uuid(), $3::text",
		v(9, []any{int32(2000), uint8(1), uint8(2)}), v(4, int64(7)), v(13, nil))
	want := []any{v(9, []any{int32(2000), uint8(1), uint8(2)}), v(4, int64(7)), v(14, nil), v(13, nil)}
	if got := rs.rows[0].([]any); !reflect.DeepEqual(got, want) {
		t.Errorf("v3 row %#v", got)
	}
	if typ := rs.columns[2].([]any)[1]; typ != uint32(13) {
		t.Errorf("v3 uuid type %v", typ)
	}

	// Version 2 (rdbms-types): floats, strings and binary move past the
	// unsigned cases; unsigned parameters fail.
	c2 := open(t, ctx, postgres.FermyonV2, address)
	rs = query(t, ctx, postgres.FermyonV2, c2, "SELECT $1::float8, $2::text, $3::bytea, $4::int2, now()::date, $5::int4",
		v(10, 1.25), v(11, "s"), v(12, []byte("b")), v(2, int16(3)), v(13, nil))
	want = []any{v(10, 1.25), v(11, "s"), v(12, []byte("b")), v(2, int16(3)), v(14, nil), v(13, nil)}
	if got := rs.rows[0].([]any); !reflect.DeepEqual(got, want) {
		t.Errorf("v2 row %#v", got)
	}
	types := []any{}
	for _, col := range rs.columns {
		types = append(types, col.([]any)[1])
	}
	if !reflect.DeepEqual(types, []any{uint32(10), uint32(11), uint32(12), uint32(2), uint32(13), uint32(3)}) {
		t.Errorf("v2 types %v", types)
	}
	r := call(t, ctx, postgres.FermyonV2, "[method]connection.query", c2, "SELECT $1::int4", []any{v(7, uint32(1))})
	if !r.IsErr || r.Value.(cabi.Variant).Case != 3 {
		t.Errorf("unsigned parameter: %+v", r)
	}
	if n := execute(t, ctx, postgres.FermyonV2, c2, "SELECT generate_series(1, 3)"); n != 3 {
		t.Errorf("v2 execute = %d", n)
	}
}

func TestErrors(t *testing.T) {
	ctx, address := setup(t, postgres.New(), "")
	c := open(t, ctx, postgres.SpinV4, address)

	// Server errors: v4 carries the structured error, older versions text.
	r := call(t, ctx, postgres.SpinV4, "[method]connection.query", c, "SELECT * FROM wisp_no_such_table", []any{})
	if !r.IsErr {
		t.Fatal("query of a missing table succeeded")
	}
	ev := r.Value.(cabi.Variant)
	qe := ev.Value.(cabi.Variant)
	if ev.Case != 2 || qe.Case != 1 {
		t.Fatalf("error = %#v", ev)
	}
	rec := qe.Value.([]any)
	if rec[1] != "ERROR" || rec[2] != "42P01" || !strings.Contains(rec[3].(string), "wisp_no_such_table") || !strings.Contains(rec[0].(string), "42P01") {
		t.Errorf("db-error = %#v", rec)
	}
	r = call(t, ctx, postgres.SpinV4, "[method]connection.execute", c, "INSERT INTO wisp_no_such_table VALUES (1)", []any{})
	if !r.IsErr || r.Value.(cabi.Variant).Case != 2 {
		t.Errorf("execute error = %#v", r)
	}
	c3 := open(t, ctx, postgres.SpinV3, address)
	r = call(t, ctx, postgres.SpinV3, "[method]connection.query", c3, "SELEC 1", []any{})
	if ev := r.Value.(cabi.Variant); !r.IsErr || ev.Case != 2 || !strings.Contains(ev.Value.(string), "syntax error") {
		t.Errorf("v3 syntax error = %#v", r)
	}
	// A structured error with detail and extras.
	table := testsvc.Unique(t)
	execute(t, ctx, postgres.SpinV4, c, "CREATE TABLE "+table+" (id int PRIMARY KEY)")
	t.Cleanup(func() { execute(t, ctx, postgres.SpinV4, c, "DROP TABLE "+table) })
	execute(t, ctx, postgres.SpinV4, c, "INSERT INTO "+table+" VALUES (1)")
	r = call(t, ctx, postgres.SpinV4, "[method]connection.execute", c, "INSERT INTO "+table+" VALUES (1)", []any{})
	rec = r.Value.(cabi.Variant).Value.(cabi.Variant).Value.([]any)
	if rec[2] != "23505" || rec[4] == cabi.None {
		t.Errorf("unique violation = %#v", rec)
	}
	extras := map[string]string{}
	for _, e := range rec[5].([]any) {
		kv := e.([]any)
		extras[kv[0].(string)] = kv[1].(string)
	}
	if extras["table"] != table || extras["constraint"] != table+"_pkey" || extras["schema"] != "public" {
		t.Errorf("extras = %v", extras)
	}

	// Parameters the host cannot send: bad-parameter from query,
	// value-conversion-failed from execute, as in Spin.
	for _, p := range []cabi.Variant{
		v(cUUID, "not-a-uuid"), v(cJSONB, []byte("{")), v(cDecimal, "1e5"),
		v(cDate, []any{int32(2023), uint8(2), uint8(29)}), v(cTime, []any{uint8(24), uint8(0), uint8(0), uint32(0)}),
		v(cArrayDecimal, []any{cabi.Some("x")}),
	} {
		r := call(t, ctx, postgres.SpinV4, "[method]connection.query", c, "SELECT $1", []any{p})
		if !r.IsErr || r.Value.(cabi.Variant).Case != 1 {
			t.Errorf("query with %#v: %#v", p, r)
		}
		r = call(t, ctx, postgres.SpinV4, "[method]connection.execute", c, "SELECT $1", []any{p})
		if !r.IsErr || r.Value.(cabi.Variant).Case != 3 {
			t.Errorf("execute with %#v: %#v", p, r)
		}
	}
	// A parameter the server's type rejects is query-failed.
	r = call(t, ctx, postgres.SpinV4, "[method]connection.query", c, "SELECT $1::int4", []any{v(cStr, "abc")})
	if !r.IsErr || r.Value.(cabi.Variant).Case != 2 {
		t.Errorf("text into int4: %#v", r)
	}
	// The connection still works after errors.
	if rs := query(t, ctx, postgres.SpinV4, c, "SELECT 1::int4"); rs.rows[0].([]any)[0] != v(cInt32, int32(1)) {
		t.Errorf("after errors: %#v", rs.rows)
	}

	// Wrong argument types trap (a host error), they never panic.
	if _, err := factortest.TryCall(t, ctx, ifaces, postgres.SpinV4, "[method]connection.query", "not a connection", 1, nil); err == nil {
		t.Error("bad arguments did not trap")
	}
	if _, err := factortest.TryCall(t, ctx, ifaces, postgres.SpinV4, "[method]connection.query", c, "SELECT $1", []any{"not a variant"}); err == nil {
		t.Error("bad parameter representation did not trap")
	}
	if _, err := factortest.TryCall(t, ctx, ifaces, postgres.SpinV4, "[method]connection.query", c, "SELECT $1", []any{v(cDate, "x")}); err == nil {
		t.Error("bad date representation did not trap")
	}
	if _, err := factortest.TryCall(t, context.Background(), ifaces, postgres.SpinV4, "[static]connection.open", address); err == nil {
		t.Error("open without Prepare did not trap")
	}
}

func openErr(t *testing.T, ctx context.Context, address string) string {
	t.Helper()
	r := call(t, ctx, postgres.SpinV4, "[static]connection.open", address)
	if !r.IsErr {
		r.Value.(component.Dropper).Drop()
		t.Fatalf("open %q succeeded", address)
	}
	ev := r.Value.(cabi.Variant)
	if ev.Case != 0 {
		t.Fatalf("open %q: %#v, want connection-failed", address, ev)
	}
	return ev.Value.(string)
}

// listener counts connection attempts to a local port.
func listener(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted = new(atomic.Int32)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return port, accepted
}

func TestAddresses(t *testing.T) {
	ctx, _ := setup(t, postgres.New(), "")
	port, accepted := listener(t)

	// Not in allowed_outbound_hosts: refused before any connection.
	msg := openErr(t, ctx, "postgres://postgres:s3cret@127.0.0.1:"+port+"/test")
	if !strings.Contains(msg, "not permitted") || strings.Contains(msg, "s3cret") {
		t.Errorf("denied: %q", msg)
	}
	msg = openErr(t, ctx, "host=127.0.0.1 port="+port+" user=postgres")
	if !strings.Contains(msg, "not permitted") {
		t.Errorf("denied keyword/value: %q", msg)
	}
	// No policy at all denies everything.
	noPolicy := outbound.WithPolicy(ctx, nil)
	if msg := openErr(t, noPolicy, testsvc.Postgres(t)); !strings.Contains(msg, "not permitted") {
		t.Errorf("nil policy: %q", msg)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("denied addresses made %d connections", n)
	}

	// Allowed but nothing answering properly: connection-failed.
	allowed := outbound.WithPolicy(ctx, factortest.Policy(t, "postgres://127.0.0.1:"+port))
	if msg := openErr(t, allowed, "postgres://postgres:s3cret@127.0.0.1:"+port+"/test?sslmode=disable&connect_timeout=5"); strings.Contains(msg, "s3cret") {
		t.Errorf("connect failure leaks the password: %q", msg)
	}
	if accepted.Load() == 0 {
		t.Error("allowed address was not dialed")
	}

	for _, bad := range []string{
		"postgres://%zz",
		"host=/var/run/postgresql user=postgres",
		"postgres://postgres@127.0.0.1:" + port + "/test?passfile=/etc/passwd",
		"postgres://postgres@127.0.0.1:" + port + "/test?sslrootcert=/etc/passwd",
		"postgres://postgres@127.0.0.1:" + port + "/test?servicefile=/etc/passwd&service=x",
	} {
		openErr(t, allowed, bad)
	}
}

func TestConnectionLimits(t *testing.T) {
	ctx, address := setup(t, postgres.NewWithLimits(postgres.Limits{MaxPerInstance: 2}), "")
	a := open(t, ctx, postgres.SpinV4, address)
	open(t, ctx, postgres.SpinV4, address)
	if msg := openErr(t, ctx, address); msg != "too many connections" {
		t.Errorf("third open: %q", msg)
	}
	a.(component.Dropper).Drop()
	a.(component.Dropper).Drop() // twice is harmless
	c := open(t, ctx, postgres.SpinV4, address)
	// A dropped connection is gone.
	r := call(t, ctx, postgres.SpinV4, "[method]connection.execute", a, "SELECT 1", []any{})
	if !r.IsErr || r.Value.(cabi.Variant).Case != 0 {
		t.Errorf("use after drop: %#v", r)
	}
	query(t, ctx, postgres.SpinV4, c, "SELECT 1")

	// The app-wide limit from the runtime config.
	ctx, address = setup(t, postgres.NewWithLimits(postgres.Limits{AcquireTimeout: 2 * time.Second}), "[outbound_pg]\nmax_connections = 1\n")
	open(t, ctx, postgres.SpinV4, address)
	if msg := openErr(t, ctx, address); msg != "too many connections" {
		t.Errorf("over max_connections: %q", msg)
	}
}

func TestRuntimeConfig(t *testing.T) {
	for _, rc := range []string{
		"[outbound_pg]\nmax_connections = 0\n",
		"[outbound_pg]\nmax_connections = \"5\"\n",
		"[outbound_pg]\npool_size = 5\n",
		"outbound_pg = 3\n",
	} {
		ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), rc)
		if _, err := postgres.New().ConfigureApp(context.Background(), ac); err == nil {
			t.Errorf("%q accepted", rc)
		}
	}
}

// TestSessionReset checks that a connection a guest dropped comes back to
// the next guest without the first one's session state.
func TestSessionReset(t *testing.T) {
	ctx, address := setup(t, postgres.NewWithLimits(postgres.Limits{PoolSize: 1}), "")
	c := open(t, ctx, postgres.SpinV4, address)
	execute(t, ctx, postgres.SpinV4, c, "SET application_name = 'dirty'")
	execute(t, ctx, postgres.SpinV4, c, "CREATE TEMP TABLE wisp_tmp (x int)")
	pid := query(t, ctx, postgres.SpinV4, c, "SELECT pg_backend_pid()").rows[0].([]any)[0]
	c.(component.Dropper).Drop()

	// Pool size 1: the next open waits for the reset connection.
	c = open(t, ctx, postgres.SpinV4, address)
	if got := query(t, ctx, postgres.SpinV4, c, "SELECT pg_backend_pid()").rows[0].([]any)[0]; got != pid {
		t.Logf("connection was not reused (pid %v, then %v)", pid, got)
	}
	if got := query(t, ctx, postgres.SpinV4, c, "SELECT current_setting('application_name')").rows[0].([]any)[0]; got == v(cStr, "dirty") {
		t.Error("session setting survived the drop")
	}
	r := call(t, ctx, postgres.SpinV4, "[method]connection.query", c, "SELECT * FROM wisp_tmp", []any{})
	if !r.IsErr {
		t.Error("temporary table survived the drop")
	}
	// A connection left inside a transaction is closed, not handed on.
	execute(t, ctx, postgres.SpinV4, c, "BEGIN")
	pid = query(t, ctx, postgres.SpinV4, c, "SELECT pg_backend_pid()").rows[0].([]any)[0]
	c.(component.Dropper).Drop()
	c = open(t, ctx, postgres.SpinV4, address)
	if got := query(t, ctx, postgres.SpinV4, c, "SELECT pg_backend_pid()").rows[0].([]any)[0]; got == pid {
		t.Error("a connection inside a transaction was reused")
	}
}

// TestConcurrentInstances hammers one app's pool from many instances.
func TestConcurrentInstances(t *testing.T) {
	address := testsvc.Postgres(t)
	u, _ := url.Parse(address)
	app := factortest.Configure(t, factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), ""),
		postgres.NewWithLimits(postgres.Limits{PoolSize: 2}))
	policy := factortest.Policy(t, "postgres://"+u.Host)
	errs := make(chan string, 64)
	done := make(chan struct{})
	const workers = 6
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 5 {
				ctx, err := app.Prepare(outbound.WithPolicy(context.Background(), policy), "a")
				if err != nil {
					errs <- err.Error()
					return
				}
				f := func(fn string, args ...any) cabi.Result {
					res, err := factortest.TryCall(t, ctx, ifaces, postgres.SpinV4, fn, args...)
					if err != nil {
						errs <- err.Error()
						return cabi.Err(nil)
					}
					return res[0].(cabi.Result)
				}
				r := f("[static]connection.open", address)
				if r.IsErr {
					errs <- "open failed"
					return
				}
				c := r.Value
				want := int32(w*100 + i)
				r = f("[method]connection.query", c, "SELECT $1::int4", []any{v(cInt32, want)})
				if r.IsErr || r.Value.([]any)[1].([]any)[0].([]any)[0] != v(cInt32, want) {
					errs <- "query returned the wrong row"
				}
				c.(component.Dropper).Drop()
			}
		}()
	}
	for range workers {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestUnknownType checks a type pgx does not know: the column is
// other(<the server's type name>) and the value unsupported(its bytes).
func TestUnknownType(t *testing.T) {
	ctx, address := setup(t, postgres.New(), "")
	c := open(t, ctx, postgres.SpinV4, address)
	typ := testsvc.Unique(t)
	execute(t, ctx, postgres.SpinV4, c, "CREATE TYPE "+typ+" AS ENUM ('a', 'b')")
	t.Cleanup(func() { execute(t, ctx, postgres.SpinV4, c, "DROP TYPE "+typ) })
	rs := query(t, ctx, postgres.SpinV4, c, "SELECT 'b'::"+typ+", 'a'::"+typ)
	if got := rs.columns[0].([]any)[1]; got != v(cOther, typ) {
		t.Errorf("type %#v", got)
	}
	if got := rs.rows[0].([]any)[0].(cabi.Variant); got.Case != cUnsupported || len(got.Value.([]byte)) == 0 {
		t.Errorf("value %#v", got)
	}
}

func TestConnectionBuilder(t *testing.T) {
	ctx, address := setup(t, postgres.New(), "")
	newBuilder := func(addr string) any {
		return factortest.Call(t, ctx, ifaces, postgres.SpinV4, "[constructor]connection-builder", addr)[0]
	}
	b := newBuilder(address)
	r := call(t, ctx, postgres.SpinV4, "[method]connection-builder.set-ca-root", b, "not a certificate")
	if !r.IsErr || r.Value.(cabi.Variant).Case != 4 {
		t.Errorf("bad certificate: %#v", r)
	}
	r = call(t, ctx, postgres.SpinV4, "[method]connection-builder.set-ca-root", b, selfSignedPEM(t))
	if r.IsErr {
		t.Fatalf("set-ca-root: %#v", r)
	}
	// sslmode=disable: the root is not needed, the connection works.
	for _, fn := range []string{"[method]connection-builder.build", "[method]connection-builder.build-async"} {
		r = call(t, ctx, postgres.SpinV4, fn, b)
		if r.IsErr {
			t.Fatalf("%s: %#v", fn, r)
		}
		c := r.Value
		query(t, ctx, postgres.SpinV4, c, "SELECT 1")
		c.(component.Dropper).Drop()
	}
	port, accepted := listener(t)
	r = call(t, ctx, postgres.SpinV4, "[method]connection-builder.build", newBuilder("postgres://postgres@127.0.0.1:"+port+"/test"))
	if !r.IsErr || r.Value.(cabi.Variant).Case != 0 || accepted.Load() != 0 {
		t.Errorf("denied build: %#v", r)
	}
}

func selfSignedPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wisp test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestPoolEviction uses more addresses than a component keeps pools for.
func TestPoolEviction(t *testing.T) {
	ctx, address := setup(t, postgres.NewWithLimits(postgres.Limits{PoolsPerComponent: 1}), "")
	sep := "?"
	if strings.Contains(address, "?") {
		sep = "&"
	}
	held := open(t, ctx, postgres.SpinV4, address)
	for i := range 3 {
		c := open(t, ctx, postgres.SpinV4, address+sep+"application_name=wisp"+itoa(i))
		query(t, ctx, postgres.SpinV4, c, "SELECT 1")
		c.(component.Dropper).Drop()
	}
	// A connection of an evicted pool still works until dropped.
	query(t, ctx, postgres.SpinV4, held, "SELECT 1")
}
