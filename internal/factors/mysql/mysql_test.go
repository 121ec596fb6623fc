package mysql_test

import (
	"context"
	"math"
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
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

var ifaces = mysql.New().Interfaces()

func setup(t *testing.T, f *mysql.Factor, runtimeConfig string) (ctx context.Context, address string) {
	t.Helper()
	address = testsvc.MySQL(t)
	u, err := url.Parse(address)
	if err != nil {
		t.Fatal(err)
	}
	app := factortest.Configure(t, factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), runtimeConfig), f)
	ctx = factortest.Prepare(t, app, "a")
	return outbound.WithPolicy(ctx, factortest.Policy(t, "mysql://"+u.Host)), address
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

func execute(t *testing.T, ctx context.Context, iface string, c any, stmt string, params ...any) {
	t.Helper()
	if r := call(t, ctx, iface, "[method]connection.execute", c, stmt, params); r.IsErr {
		t.Fatalf("execute %q: %+v", stmt, r.Value)
	}
}

type rowSet struct {
	columns []any
	rows    []any
}

func query(t *testing.T, ctx context.Context, c any, stmt string, params ...any) rowSet {
	t.Helper()
	r := call(t, ctx, mysql.FermyonV2, "[method]connection.query", c, stmt, params)
	if r.IsErr {
		t.Fatalf("query %q: %+v", stmt, r.Value)
	}
	rs := r.Value.([]any)
	return rowSet{columns: rs[0].([]any), rows: rs[1].([]any)}
}

var typeCases = []struct {
	sqlType string
	param   cabi.Variant
	want    cabi.Variant
	typ     uint32
}{
	{"TINYINT", v(rdbms.Int8, int8(-5)), v(rdbms.Int8, int8(-5)), rdbms.Int8},
	{"TINYINT(1)", v(rdbms.Boolean, true), v(rdbms.Int8, int8(1)), rdbms.Int8},
	{"TINYINT UNSIGNED", v(rdbms.Uint8, uint8(200)), v(rdbms.Uint8, uint8(200)), rdbms.Uint8},
	{"SMALLINT", v(rdbms.Int16, int16(-30000)), v(rdbms.Int16, int16(-30000)), rdbms.Int16},
	{"SMALLINT UNSIGNED", v(rdbms.Uint16, uint16(60000)), v(rdbms.Uint16, uint16(60000)), rdbms.Uint16},
	{"MEDIUMINT", v(rdbms.Int32, int32(-8000000)), v(rdbms.Int32, int32(-8000000)), rdbms.Int32},
	{"INT", v(rdbms.Int32, int32(math.MinInt32)), v(rdbms.Int32, int32(math.MinInt32)), rdbms.Int32},
	{"INT UNSIGNED", v(rdbms.Uint32, uint32(math.MaxUint32)), v(rdbms.Uint32, uint32(math.MaxUint32)), rdbms.Uint32},
	{"BIGINT", v(rdbms.Int64, int64(math.MinInt64)), v(rdbms.Int64, int64(math.MinInt64)), rdbms.Int64},
	{"BIGINT UNSIGNED", v(rdbms.Uint64, uint64(math.MaxUint64)), v(rdbms.Uint64, uint64(math.MaxUint64)), rdbms.Uint64},
	{"FLOAT", v(rdbms.Floating32, float32(1.5)), v(rdbms.Floating32, float32(1.5)), rdbms.Floating32},
	{"DOUBLE", v(rdbms.Floating64, 1e100), v(rdbms.Floating64, 1e100), rdbms.Floating64},
	{"VARCHAR(20)", v(rdbms.Str, "héllo"), v(rdbms.Str, "héllo"), rdbms.Str},
	{"CHAR(3)", v(rdbms.Str, "ab"), v(rdbms.Str, "ab"), rdbms.Str},
	{"TEXT", v(rdbms.Str, "long text"), v(rdbms.Str, "long text"), rdbms.Str},
	{"BLOB", v(rdbms.Binary, []byte{0, 1, 255}), v(rdbms.Binary, []byte{0, 1, 255}), rdbms.Binary},
	{"VARBINARY(8)", v(rdbms.Binary, []byte("vb")), v(rdbms.Binary, []byte("vb")), rdbms.Binary},
	{"BINARY(3)", v(rdbms.Binary, []byte("b")), v(rdbms.Binary, []byte("b\x00\x00")), rdbms.Binary},
	{"ENUM('x','y')", v(rdbms.Str, "y"), v(rdbms.Str, "y"), rdbms.Str},
	// Types Spin cannot convert come back as text.
	{"DECIMAL(10,2)", v(rdbms.Str, "12.5"), v(rdbms.Str, "12.50"), rdbms.TypeOther},
	{"DATE", v(rdbms.Str, "2024-02-29"), v(rdbms.Str, "2024-02-29"), rdbms.TypeOther},
	{"DATETIME", v(rdbms.Str, "2024-02-29 13:14:15"), v(rdbms.Str, "2024-02-29 13:14:15"), rdbms.TypeOther},
	{"YEAR", v(rdbms.Int32, int32(2024)), v(rdbms.Str, "2024"), rdbms.TypeOther},
}

func TestTypesRoundTrip(t *testing.T) {
	for _, iface := range []string{mysql.FermyonV2, mysql.SpinV3} {
		t.Run(iface, func(t *testing.T) {
			ctx, address := setup(t, mysql.New(), "")
			c := open(t, ctx, iface, address)
			// Queries go through fermyon:spin/mysql (spin:mysql@3's query
			// is a stream); a second connection shows the data is stored.
			q := open(t, ctx, mysql.FermyonV2, address)
			table := testsvc.Unique(t)
			var cols, names, marks []string
			var params, nulls []any
			for i, tc := range typeCases {
				names = append(names, "c"+strconv.Itoa(i))
				cols = append(cols, names[i]+" "+tc.sqlType+" NULL")
				marks = append(marks, "?")
				params = append(params, tc.param)
				nulls = append(nulls, v(rdbms.DbNull, nil))
			}
			execute(t, ctx, iface, c, "CREATE TABLE "+table+" (id INT, "+strings.Join(cols, ", ")+")")
			t.Cleanup(func() { execute(t, ctx, iface, c, "DROP TABLE "+table) })
			insert := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ", id) VALUES (" + strings.Join(marks, ", ") + ", ?)"
			execute(t, ctx, iface, c, insert, append(params, v(rdbms.Int32, int32(1)))...)
			execute(t, ctx, iface, c, insert, append(nulls, v(rdbms.Int32, int32(2)))...)

			rs := query(t, ctx, q, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" WHERE id = ?", v(rdbms.Int64, int64(1)))
			if len(rs.rows) != 1 {
				t.Fatalf("rows = %d", len(rs.rows))
			}
			row := rs.rows[0].([]any)
			for i, tc := range typeCases {
				col := rs.columns[i].([]any)
				if col[0] != names[i] || col[1] != tc.typ {
					t.Errorf("%s: column %v", tc.sqlType, col)
				}
				if !reflect.DeepEqual(row[i], tc.want) {
					t.Errorf("%s: got %#v, want %#v", tc.sqlType, row[i], tc.want)
				}
			}
			rs = query(t, ctx, q, "SELECT "+strings.Join(names, ", ")+" FROM "+table+" WHERE id = 2")
			for i, got := range rs.rows[0].([]any) {
				if got != v(rdbms.DbNull, nil) {
					t.Errorf("%s NULL: %#v", typeCases[i].sqlType, got)
				}
			}
			rs = query(t, ctx, q, "SELECT c0 FROM "+table+" WHERE id = 3")
			if len(rs.rows) != 0 || len(rs.columns) != 1 {
				t.Errorf("empty result %+v", rs)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx, address := setup(t, mysql.New(), "")
	c := open(t, ctx, mysql.FermyonV2, address)
	r := call(t, ctx, mysql.FermyonV2, "[method]connection.query", c, "SELECT * FROM wisp_no_such_table", []any{})
	if ev, _ := r.Value.(cabi.Variant); !r.IsErr || ev.Case != rdbms.QueryFailed || !strings.Contains(ev.Value.(string), "wisp_no_such_table") {
		t.Errorf("missing table: %#v", r)
	}
	r = call(t, ctx, mysql.SpinV3, "[method]connection.execute", c, "SELEC 1", []any{})
	if ev, _ := r.Value.(cabi.Variant); !r.IsErr || ev.Case != rdbms.QueryFailed || !strings.Contains(ev.Value.(string), "syntax") {
		t.Errorf("syntax error: %#v", r)
	}
	// Still usable.
	if rs := query(t, ctx, c, "SELECT ?", v(rdbms.Str, "ok")); rs.rows[0].([]any)[0] != v(rdbms.Str, "ok") {
		t.Errorf("after errors: %#v", rs.rows)
	}
	if _, err := factortest.TryCall(t, ctx, ifaces, mysql.FermyonV2, "[method]connection.query", c, "SELECT ?", []any{v(rdbms.Str, 5)}); err == nil {
		t.Error("bad parameter representation did not trap")
	}
	if _, err := factortest.TryCall(t, ctx, ifaces, mysql.FermyonV2, "[method]connection.execute", nil, 1, nil); err == nil {
		t.Error("bad arguments did not trap")
	}
	if _, err := factortest.TryCall(t, context.Background(), ifaces, mysql.FermyonV2, "[static]connection.open", address); err == nil {
		t.Error("open without Prepare did not trap")
	}
}

func openErr(t *testing.T, ctx context.Context, address string) string {
	t.Helper()
	r := call(t, ctx, mysql.SpinV3, "[static]connection.open", address)
	if !r.IsErr {
		r.Value.(component.Dropper).Drop()
		t.Fatalf("open %q succeeded", address)
	}
	ev := r.Value.(cabi.Variant)
	if ev.Case != rdbms.ConnectionFailed {
		t.Fatalf("open %q: %#v, want connection-failed", address, ev)
	}
	return ev.Value.(string)
}

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
	ctx, _ := setup(t, mysql.New(), "")
	port, accepted := listener(t)
	msg := openErr(t, ctx, "mysql://root:s3cret@127.0.0.1:"+port+"/test")
	if !strings.Contains(msg, "not permitted") || strings.Contains(msg, "s3cret") {
		t.Errorf("denied: %q", msg)
	}
	if msg := openErr(t, outbound.WithPolicy(ctx, nil), testsvc.MySQL(t)); !strings.Contains(msg, "not permitted") {
		t.Errorf("nil policy: %q", msg)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("denied addresses made %d connections", n)
	}
	allowed := outbound.WithPolicy(ctx, factortest.Policy(t, "mysql://127.0.0.1:"+port))
	if msg := openErr(t, allowed, "mysql://root:s3cret@127.0.0.1:"+port+"/test"); strings.Contains(msg, "s3cret") {
		t.Errorf("connect failure leaks the password: %q", msg)
	}
	if accepted.Load() == 0 {
		t.Error("allowed address was not dialed")
	}
	for _, bad := range []string{
		"postgres://root@127.0.0.1:" + port + "/test",
		"root:pw@tcp(127.0.0.1:" + port + ")/test",
		"mysql://root@127.0.0.1:" + port + "/test?socket=/tmp/x.sock",
		"mysql://root@127.0.0.1:99999/test",
	} {
		if msg := openErr(t, allowed, bad); strings.Contains(msg, ":pw@") {
			t.Errorf("%q: %q", bad, msg)
		}
	}
}

func TestConnectionLimits(t *testing.T) {
	ctx, address := setup(t, mysql.NewWithLimits(mysql.Limits{MaxPerInstance: 2}), "")
	a := open(t, ctx, mysql.FermyonV2, address)
	open(t, ctx, mysql.FermyonV2, address)
	if msg := openErr(t, ctx, address); msg != "too many connections" {
		t.Errorf("third open: %q", msg)
	}
	a.(component.Dropper).Drop()
	a.(component.Dropper).Drop()
	c := open(t, ctx, mysql.FermyonV2, address)
	r := call(t, ctx, mysql.FermyonV2, "[method]connection.execute", a, "SELECT 1", []any{})
	if !r.IsErr || r.Value.(cabi.Variant).Case != rdbms.ConnectionFailed {
		t.Errorf("use after drop: %#v", r)
	}
	query(t, ctx, c, "SELECT 1")

	ctx, address = setup(t, mysql.NewWithLimits(mysql.Limits{AcquireTimeout: 2 * time.Second}), "[outbound_mysql]\nmax_connections = 1\n")
	open(t, ctx, mysql.FermyonV2, address)
	if msg := openErr(t, ctx, address); msg != "too many connections" {
		t.Errorf("over max_connections: %q", msg)
	}
}

// TestFreshSession checks that a guest's session state does not reach
// the next guest.
func TestFreshSession(t *testing.T) {
	ctx, address := setup(t, mysql.New(), "")
	c := open(t, ctx, mysql.FermyonV2, address)
	execute(t, ctx, mysql.FermyonV2, c, "SET @wisp_var = 42")
	c.(component.Dropper).Drop()
	c = open(t, ctx, mysql.FermyonV2, address)
	if got := query(t, ctx, c, "SELECT @wisp_var").rows[0].([]any)[0]; got != v(rdbms.DbNull, nil) {
		t.Errorf("session variable survived: %#v", got)
	}
}

func TestRuntimeConfig(t *testing.T) {
	for _, rc := range []string{
		"[outbound_mysql]\nmax_connections = -1\n",
		"[outbound_mysql]\nother = 5\n",
	} {
		ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), rc)
		if _, err := mysql.New().ConfigureApp(context.Background(), ac); err == nil {
			t.Errorf("%q accepted", rc)
		}
	}
}
