package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

const (
	openFn    = "[static]connection.open"
	executeFn = "[method]connection.execute"
	rowidFn   = "[method]connection.last-insert-rowid"
	changesFn = "[method]connection.changes"
)

// WIT error cases.
const (
	noSuchDatabase = iota
	accessDenied
	invalidConnection
	databaseFull
	ioError
)

func comp(id string, dbs ...string) lockedapp.Component {
	return lockedapp.Component{ID: id, SQLiteDatabases: dbs}
}

// harness calls the factor's host functions for one prepared instance.
type harness struct {
	t      *testing.T
	iface  string
	ifaces []component.Interface
	ctx    context.Context
	app    *factor.App
}

func newHarness(t *testing.T, f *sqlite.Factor, ac *factor.AppContext, componentID, iface string) *harness {
	t.Helper()
	app := factortest.Configure(t, ac, f)
	return &harness{t: t, iface: iface, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app, componentID), app: app}
}

func (h *harness) call(fn string, args ...any) any {
	h.t.Helper()
	return factortest.Call(h.t, h.ctx, h.ifaces, h.iface, fn, args...)[0]
}

// open opens label and drops the handle when the test ends (the host's
// handle table does that for a real instance).
func (h *harness) open(label string) any {
	h.t.Helper()
	r := h.call(openFn, label).(cabi.Result)
	if r.IsErr {
		h.t.Fatalf("open %q: %#v", label, r.Value)
	}
	h.t.Cleanup(r.Value.(component.Dropper).Drop)
	return r.Value
}

func (h *harness) exec(c any, stmt string, params ...any) cabi.Result {
	h.t.Helper()
	if params == nil {
		params = []any{}
	}
	return h.call(executeFn, c, stmt, params).(cabi.Result)
}

// ok executes and returns the columns and rows in Go terms.
func (h *harness) ok(c any, stmt string, params ...any) ([]string, [][]any) {
	h.t.Helper()
	r := h.exec(c, stmt, params...)
	if r.IsErr {
		h.t.Fatalf("%s: %#v", stmt, r.Value)
	}
	rec := r.Value.([]any)
	var cols []string
	for _, c := range rec[0].([]any) {
		cols = append(cols, c.(string))
	}
	var rows [][]any
	for _, row := range rec[1].([]any) {
		var vals []any
		for _, v := range row.([]any)[0].([]any) {
			vals = append(vals, v)
		}
		rows = append(rows, vals)
	}
	return cols, rows
}

func wantErr(t *testing.T, r cabi.Result, c uint32, msg string) {
	t.Helper()
	if !r.IsErr {
		t.Fatalf("succeeded; want error case %d", c)
	}
	v := r.Value.(cabi.Variant)
	if v.Case != c {
		t.Fatalf("error %#v; want case %d", v, c)
	}
	if msg != "" {
		if s, _ := v.Value.(string); !strings.Contains(s, msg) {
			t.Fatalf("error message %q does not contain %q", s, msg)
		}
	}
}

func integer(i int64) cabi.Variant { return cabi.Variant{Case: 0, Value: i} }
func real(f float64) cabi.Variant  { return cabi.Variant{Case: 1, Value: f} }
func text(s string) cabi.Variant   { return cabi.Variant{Case: 2, Value: s} }
func blob(b []byte) cabi.Variant   { return cabi.Variant{Case: 3, Value: b} }
func null() cabi.Variant           { return cabi.Variant{Case: 4} }
func newFactor() *sqlite.Factor    { return sqlite.New() }
func appCtx(t *testing.T, rc string, comps ...lockedapp.Component) *factor.AppContext {
	return factortest.NewAppContext(t, factortest.NewApp(comps...), rc)
}

func TestValuesRoundTrip(t *testing.T) {
	for _, iface := range []string{sqlite.SpinV3, sqlite.FermyonV2} {
		t.Run(iface, func(t *testing.T) {
			h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", iface)
			c := h.open("default")
			h.ok(c, `CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT, d DATETIME, e BLOB, z TEXT)`)
			iso := "2024-05-01T10:00:00.000Z" // a DATETIME column must give back the text as stored
			h.ok(c, `INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				integer(-9007199254740993), real(2.5), text("héllo"), blob([]byte{0, 1, 255}), null(), text(iso), blob([]byte{}), text(""))
			cols, rows := h.ok(c, `SELECT i, r, s, b, n, d, e, z, typeof(e) AS te, typeof(z) AS tz FROM t`)
			if want := []string{"i", "r", "s", "b", "n", "d", "e", "z", "te", "tz"}; !slices.Equal(cols, want) {
				t.Fatalf("columns %v, want %v", cols, want)
			}
			if len(rows) != 1 {
				t.Fatalf("rows %v", rows)
			}
			want := []any{integer(-9007199254740993), real(2.5), text("héllo"), blob([]byte{0, 1, 255}), null(), text(iso), blob([]byte{}), text(""), text("blob"), text("text")}
			for i, w := range want {
				if fmt.Sprintf("%#v", rows[0][i]) != fmt.Sprintf("%#v", w) {
					t.Errorf("column %s = %#v, want %#v", cols[i], rows[0][i], w)
				}
			}
			// A statement without rows still reports its columns (none) and
			// an empty row list.
			cols, rows = h.ok(c, `UPDATE t SET i = i + 1`)
			if len(cols) != 0 || len(rows) != 0 {
				t.Fatalf("update returned %v %v", cols, rows)
			}
			// A query with no matching rows keeps its columns.
			cols, rows = h.ok(c, `SELECT s FROM t WHERE i = ?`, integer(0))
			if !slices.Equal(cols, []string{"s"}) || len(rows) != 0 {
				t.Fatalf("empty query returned %v %v", cols, rows)
			}
		})
	}
}

func TestRowidAndChanges(t *testing.T) {
	h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	c := h.open("default")
	h.ok(c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	for i := 1; i <= 3; i++ {
		h.ok(c, `INSERT INTO t (v) VALUES (?)`, text("x"))
		if got := h.call(rowidFn, c); got != int64(i) {
			t.Fatalf("last-insert-rowid = %#v, want %d", got, i)
		}
		if got := h.call("[method]connection.last-insert-rowid-async", c); got != int64(i) {
			t.Fatalf("last-insert-rowid-async = %#v, want %d", got, i)
		}
	}
	h.ok(c, `UPDATE t SET v = 'y' WHERE id >= 2`)
	if got := h.call(changesFn, c); got != uint64(2) {
		t.Fatalf("changes = %#v, want 2", got)
	}
	if got := h.call("[method]connection.changes-async", c); got != uint64(2) {
		t.Fatalf("changes-async = %#v, want 2", got)
	}
	// Another handle is another connection: its counters are its own.
	c2 := h.open("default")
	if got := h.call(rowidFn, c2); got != int64(0) {
		t.Fatalf("a fresh connection's last-insert-rowid = %#v, want 0", got)
	}
}

func TestOpenAsync(t *testing.T) {
	h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	r := h.call("[static]connection.open-async", "default").(cabi.Result)
	if r.IsErr {
		t.Fatalf("open-async: %#v", r.Value)
	}
	r.Value.(component.Dropper).Drop()
	wantErr(t, h.call("[static]connection.open-async", "other").(cabi.Result), accessDenied, "")
}

func TestErrors(t *testing.T) {
	rc := `[sqlite_database.other]
type = "spin"
`
	for _, iface := range []string{sqlite.SpinV3, sqlite.FermyonV2} {
		t.Run(iface, func(t *testing.T) {
			h := newHarness(t, newFactor(), appCtx(t, rc, comp("a", "default"), comp("b", "other")), "a", iface)
			// Defined for the app but not granted to this component.
			wantErr(t, h.call(openFn, "other").(cabi.Result), accessDenied, "")
			wantErr(t, h.call(openFn, "nope").(cabi.Result), accessDenied, "")
			c := h.open("default")
			wantErr(t, h.exec(c, `SELEC 1`), ioError, "syntax error")
			wantErr(t, h.exec(c, `SELECT * FROM missing`), ioError, "no such table: missing")
			wantErr(t, h.exec(c, `SELECT ?, ?`, integer(1)), ioError, "wrong number of parameters")
			wantErr(t, h.exec(c, `SELECT ?`, integer(1), integer(2)), ioError, "wrong number of parameters")
			wantErr(t, h.exec(c, `SELECT 1; SELECT 2`), ioError, "multiple statements")
			wantErr(t, h.exec(c, `   `), ioError, "empty")
			// Trailing blanks and comments are not a second statement.
			h.ok(c, "SELECT 1; -- done\n")
			h.ok(c, `CREATE TABLE u (x TEXT UNIQUE)`)
			h.ok(c, `INSERT INTO u VALUES ('a')`)
			wantErr(t, h.exec(c, `INSERT INTO u VALUES ('a')`), ioError, "UNIQUE constraint failed")
			// Files may not be attached (Spin's allow_attach_file = false).
			wantErr(t, h.exec(c, `ATTACH DATABASE ? AS x`, text(filepath.Join(t.TempDir(), "x.db"))), ioError, "too many attached databases")
		})
	}
}

func TestDatabaseFull(t *testing.T) {
	h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	c := h.open("default")
	h.ok(c, `CREATE TABLE t (b BLOB)`)
	_, rows := h.ok(c, `PRAGMA page_count`)
	pages := rows[0][0].(cabi.Variant).Value.(int64)
	h.ok(c, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2))
	wantErr(t, h.exec(c, `INSERT INTO t VALUES (?)`, blob(make([]byte, 1<<20))), databaseFull, "")
}

func TestTransactions(t *testing.T) {
	h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	c1 := h.open("default")
	h.ok(c1, `CREATE TABLE t (v INTEGER)`)
	h.ok(c1, `BEGIN`)
	h.ok(c1, `INSERT INTO t VALUES (1)`)
	c2 := h.open("default")
	if _, rows := h.ok(c2, `SELECT count(*) FROM t`); rows[0][0] != integer(0) {
		t.Fatalf("uncommitted row visible to another connection: %v", rows)
	}
	h.ok(c1, `COMMIT`)
	if _, rows := h.ok(c2, `SELECT count(*) FROM t`); rows[0][0] != integer(1) {
		t.Fatalf("committed row not visible: %v", rows)
	}
	// A transaction left open when the handle is dropped is rolled back,
	// and the pooled connection is usable again.
	r := h.call(openFn, "default").(cabi.Result)
	c3 := r.Value
	h.ok(c3, `BEGIN`)
	h.ok(c3, `INSERT INTO t VALUES (2)`)
	c3.(component.Dropper).Drop()
	c3.(component.Dropper).Drop() // twice is harmless
	if _, rows := h.ok(c2, `SELECT count(*) FROM t`); rows[0][0] != integer(1) {
		t.Fatalf("dropped handle's transaction was not rolled back: %v", rows)
	}
	for range 3 {
		c := h.open("default")
		h.ok(c, `INSERT INTO t VALUES (3)`) // would fail "cannot start a transaction within a transaction" style if leaked
	}
}

func TestConnectionLimit(t *testing.T) {
	f := sqlite.NewWithLimits(sqlite.Limits{MaxOpenConnections: 2})
	h := newHarness(t, f, appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	h.open("default")
	c := h.call(openFn, "default").(cabi.Result).Value.(component.Dropper)
	wantErr(t, h.call(openFn, "default").(cabi.Result), ioError, "too many connections opened")
	c.Drop()
	h.open("default")
}

func TestResultLimit(t *testing.T) {
	f := sqlite.NewWithLimits(sqlite.Limits{MaxResultBytes: 1000})
	h := newHarness(t, f, appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	c := h.open("default")
	wantErr(t, h.exec(c, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000) SELECT i FROM n`), ioError, "exceeds limit of 1000 bytes")
}

func TestCancelInterruptsQuery(t *testing.T) {
	h := newHarness(t, newFactor(), appCtx(t, "", comp("a", "default")), "a", sqlite.SpinV3)
	c := h.open("default")
	ctx, cancel := context.WithTimeout(h.ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := factortest.Call(t, ctx, h.ifaces, sqlite.SpinV3, executeFn, c,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n`, []any{})
	wantErr(t, res[0].(cabi.Result), ioError, "interrupt")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("interrupt took %v", d)
	}
	h.ok(c, `SELECT 1`) // the connection still works
}

func TestNotPreparedTraps(t *testing.T) {
	_, err := factortest.TryCall(t, context.Background(), newFactor().Interfaces(), sqlite.SpinV3, openFn, "default")
	if err == nil {
		t.Fatal("open without Prepare did not trap")
	}
	_, err = factortest.TryCall(t, context.Background(), newFactor().Interfaces(), sqlite.SpinV3, executeFn, "not a connection", "SELECT 1", []any{})
	if err == nil {
		t.Fatal("execute with a bad handle did not trap")
	}
}

func TestRuntimeConfig(t *testing.T) {
	ac := appCtx(t, `
[sqlite_database.default]
type = "spin"
path = "data/custom.db"

[sqlite_database.mem]
type = "spin"

[sqlite_database.abs]
type = "spin"
path = "`+filepath.Join(t.TempDir(), "abs.db")+`"
allow_attach_file = true
`, comp("a", "default", "mem", "abs"))
	h := newHarness(t, newFactor(), ac, "a", sqlite.SpinV3)
	c := h.open("default")
	h.ok(c, `CREATE TABLE t (v)`)
	if _, err := os.Stat(filepath.Join(ac.BaseDir, "data", "custom.db")); err != nil {
		t.Fatalf("default database not at the configured path: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ac.StateDir, sqlite.DefaultFile)); err == nil {
		t.Fatal("the state directory's default database was created although the runtime config redefines it")
	}
	// In memory: shared by the handles of the app.
	m1, m2 := h.open("mem"), h.open("mem")
	h.ok(m1, `CREATE TABLE m (v)`)
	h.ok(m1, `INSERT INTO m VALUES (1)`)
	if _, rows := h.ok(m2, `SELECT v FROM m`); len(rows) != 1 {
		t.Fatalf("in-memory database not shared between connections: %v", rows)
	}
	// allow_attach_file = true lets statements attach files.
	a := h.open("abs")
	h.ok(a, `ATTACH DATABASE ? AS x`, text(filepath.Join(t.TempDir(), "x.db")))
}

func TestRuntimeConfigErrors(t *testing.T) {
	for _, tc := range []struct{ name, rc, want string }{
		{"libsql", "[sqlite_database.db]\ntype = \"libsql\"\nurl = \"https://x\"\ntoken = \"t\"\n", `type "libsql" (a remote libSQL database) is not supported`},
		{"unknown type", "[sqlite_database.db]\ntype = \"postgres\"\n", `unknown type "postgres"`},
		{"missing type", "[sqlite_database.db]\npath = \"x.db\"\n", `missing field "type"`},
		{"unknown field", "[sqlite_database.db]\ntype = \"spin\"\nfile = \"x.db\"\n", `unknown field "file"`},
		{"bad path", "[sqlite_database.db]\ntype = \"spin\"\npath = 3\n", `path must be a non-empty string`},
		{"empty path", "[sqlite_database.db]\ntype = \"spin\"\npath = \"\"\n", `path must be a non-empty string`},
		{"bad attach", "[sqlite_database.db]\ntype = \"spin\"\nallow_attach_file = \"yes\"\n", `allow_attach_file must be true or false`},
		{"not a table", "sqlite_database = 3\n", `must be a table`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, _ := factor.NewSet(newFactor())
			_, err := set.ConfigureApp(context.Background(), appCtx(t, tc.rc, comp("a", "db")))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
			if strings.Contains(tc.rc, "token") && strings.Contains(err.Error(), "\"t\"") {
				t.Fatalf("error leaks the token: %v", err)
			}
		})
	}
	// A granted label that is not defined is a load-time error naming the
	// component and the label.
	set, _ := factor.NewSet(newFactor())
	_, err := set.ConfigureApp(context.Background(), appCtx(t, "", comp("web", "default", "orders")))
	if err == nil || !strings.Contains(err.Error(), `component "web" uses database "orders"`) {
		t.Fatalf("error %v", err)
	}
	// ValidateOnly opens nothing.
	ac := appCtx(t, "", comp("a", "default"))
	ac.ValidateOnly = true
	app, err := set.ConfigureApp(context.Background(), ac)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	if _, err := os.Stat(filepath.Join(ac.StateDir, sqlite.DefaultFile)); err == nil {
		t.Fatal("ValidateOnly created the database")
	}
}

// Two apps never share a default database; two components of one app
// that both list "default" do.
func TestIsolation(t *testing.T) {
	ac1 := appCtx(t, "", comp("a", "default"), comp("b", "default"), comp("none"))
	ac2 := appCtx(t, "", comp("a", "default"))
	f := newFactor()
	app1 := factortest.Configure(t, ac1, f)
	app2 := factortest.Configure(t, ac2, f)
	h1a := &harness{t: t, iface: sqlite.SpinV3, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app1, "a")}
	h1b := &harness{t: t, iface: sqlite.SpinV3, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app1, "b")}
	h2 := &harness{t: t, iface: sqlite.SpinV3, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app2, "a")}
	hNone := &harness{t: t, iface: sqlite.SpinV3, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app1, "none")}

	c := h1a.open("default")
	h1a.ok(c, `CREATE TABLE secrets (v TEXT)`)
	h1a.ok(c, `INSERT INTO secrets VALUES ('app1')`)
	if _, rows := h1b.ok(h1b.open("default"), `SELECT v FROM secrets`); len(rows) != 1 || rows[0][0] != text("app1") {
		t.Fatalf("component b of the same app does not see a's data: %v", rows)
	}
	wantErr(t, h2.exec(h2.open("default"), `SELECT v FROM secrets`), ioError, "no such table")
	wantErr(t, hNone.call(openFn, "default").(cabi.Result), accessDenied, "")
	if _, err := os.Stat(filepath.Join(ac1.StateDir, sqlite.DefaultFile)); err != nil {
		t.Fatalf("default database is not in the app's state directory: %v", err)
	}
}

// Without a state directory the default database is in memory, private to
// the app.
func TestNoStateDir(t *testing.T) {
	mk := func() *harness {
		ac := appCtx(t, "", comp("a", "default"))
		ac.StateDir = ""
		return newHarness(t, newFactor(), ac, "a", sqlite.SpinV3)
	}
	h1, h2 := mk(), mk()
	h1.ok(h1.open("default"), `CREATE TABLE t (v)`)
	h1.ok(h1.open("default"), `INSERT INTO t VALUES (1)`)
	wantErr(t, h2.exec(h2.open("default"), `SELECT * FROM t`), ioError, "no such table")
}

// A committed write is on disk when execute returns: another process
// (here: an independent connection) reads it while the app is still open.
func TestDurability(t *testing.T) {
	ac := appCtx(t, "", comp("a", "default"))
	h := newHarness(t, newFactor(), ac, "a", sqlite.SpinV3)
	c := h.open("default")
	h.ok(c, `CREATE TABLE t (v TEXT)`)
	h.ok(c, `INSERT INTO t VALUES (?)`, text("kept"))

	db, err := sql.Open("sqlite", filepath.Join(ac.StateDir, sqlite.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRow(`SELECT v FROM t`).Scan(&v); err != nil || v != "kept" {
		t.Fatalf("reopened database: %q %v", v, err)
	}
	// The factor's connections use synchronous=FULL (2).
	_, rows := h.ok(c, `PRAGMA synchronous`)
	if rows[0][0] != integer(2) {
		t.Fatalf("synchronous = %v, want FULL (2)", rows[0][0])
	}
}

// The app state serves any defined label to the CLI's seeding, granted or
// not, and runs batches of statements.
func TestSeedingAPI(t *testing.T) {
	dir := t.TempDir()
	ac := appCtx(t, `[sqlite_database.extra]
type = "spin"
path = "`+filepath.Join(dir, "extra.db")+`"
`, comp("a", "default"))
	app := factortest.Configure(t, ac, newFactor())
	st, _ := app.State(sqlite.Name)
	s := st.(*sqlite.AppState)
	ctx := context.Background()
	extra, err := s.Database("extra")
	if err != nil {
		t.Fatal(err)
	}
	if err := extra.ExecBatch(ctx, "CREATE TABLE t (v TEXT);\n-- a comment\nINSERT INTO t VALUES ('a');\nINSERT INTO t VALUES ('b');\n"); err != nil {
		t.Fatal(err)
	}
	res, err := extra.Query(ctx, `SELECT group_concat(v) AS vs FROM t WHERE v <> ?`, "z")
	if err != nil || res.Rows[0][0] != "a,b" || res.Columns[0] != "vs" {
		t.Fatalf("%+v %v", res, err)
	}
	if err := extra.ExecBatch(ctx, "INSERT INTO t VALUES ('c'); SELEC"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("bad batch: %v", err)
	}
	if _, err := s.Database("undefined"); err == nil || !strings.Contains(err.Error(), `no SQLite database "undefined"`) {
		t.Fatalf("undefined label: %v", err)
	}
	def, err := s.Database(sqlite.DefaultLabel)
	if err != nil || def.Path() != filepath.Join(ac.StateDir, sqlite.DefaultFile) {
		t.Fatalf("default: %v %v", def, err)
	}
}

// Many instances of the app at once, each with its own connections.
func TestConcurrentInstances(t *testing.T) {
	ac := appCtx(t, "", comp("a", "default"))
	f := newFactor()
	app := factortest.Configure(t, ac, f)
	setup := &harness{t: t, iface: sqlite.SpinV3, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app, "a")}
	setup.ok(setup.open("default"), `CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER)`)
	open := factortest.Func(t, f.Interfaces(), sqlite.SpinV3, openFn)
	exec := factortest.Func(t, f.Interfaces(), sqlite.SpinV3, executeFn)
	rowid := factortest.Func(t, f.Interfaces(), sqlite.SpinV3, rowidFn)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				ctx, err := app.Prepare(context.Background(), "a")
				if err != nil {
					errs <- err
					return
				}
				r, err := open(ctx, &component.Call{}, []any{"default"})
				if err != nil || r[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("open: %v %v", r, err)
					return
				}
				c := r[0].(cabi.Result).Value
				r, err = exec(ctx, &component.Call{}, []any{c, `INSERT INTO t (w) VALUES (?)`, []any{integer(int64(w))}})
				if err != nil || r[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("insert: %v %v", r, err)
					return
				}
				id, _ := rowid(ctx, &component.Call{}, []any{c})
				r, _ = exec(ctx, &component.Call{}, []any{c, `SELECT w FROM t WHERE id = ?`, []any{integer(id[0].(int64))}})
				if rows := r[0].(cabi.Result).Value.([]any)[1].([]any); rows[0].([]any)[0].([]any)[0] != integer(int64(w)) {
					errs <- fmt.Errorf("worker %d read back another row: %v", w, rows)
					return
				}
				c.(component.Dropper).Drop()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, rows := setup.ok(setup.open("default"), `SELECT count(*) FROM t`); rows[0][0] != integer(16*20) {
		t.Fatalf("count = %v", rows[0][0])
	}
}

// TestInterfacesBind checks every host function against its WIT
// definition, and that what is left out is only what uses stream<>.
func TestInterfacesBind(t *testing.T) {
	ifaces := newFactor().Interfaces()
	if _, err := component.NewHost(ifaces...); err != nil {
		t.Fatal(err)
	}
	for _, iface := range ifaces {
		wi, ok := wit.Builtin().LookupInterface(iface.Name)
		if !ok {
			t.Fatalf("no WIT for %s", iface.Name)
		}
		for name := range wi.Funcs {
			if _, ok := iface.Funcs[name]; !ok && name != "[resource-drop]connection" {
				t.Errorf("%s: %s not implemented", iface.Name, name)
			}
		}
	}
	if wi, _ := wit.Builtin().LookupInterface(sqlite.SpinV3); !slices.Equal(wi.Unsupported, []string{"[method]connection.execute-async"}) {
		t.Errorf("unsupported = %v", wi.Unsupported)
	}
}
