package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host and App.Prepare's context passed to the
// call: the wiring cmd/wisp does. Each run is a fresh instance; the rows
// the guest inserted are on disk afterwards.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/sqlguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := factor.NewSet(sqlite.New())
	if err != nil {
		t.Fatal(err)
	}
	host, err := component.NewHost(set.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	c, err := component.LoadCore(ctx, eng, wasm, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	app, err := set.ConfigureApp(ctx, ac)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	const runs = 3
	for range runs {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		callCtx, err := app.Prepare(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Call(callCtx, "wasi:cli/run@0.2.0", "run")
		inst.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := res[0].(cabi.Result); r.IsErr {
			t.Fatal("guest reported failure")
		}
	}

	// Durable: an independent connection reads what the guests wrote.
	db, err := sql.Open("sqlite", filepath.Join(ac.StateDir, sqlite.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var s string
	var b []byte
	if err := db.QueryRow(`SELECT count(*), min(s), min(b) FROM t WHERE i = 42 AND r = 2.5 AND n IS NULL`).Scan(&n, &s, &b); err != nil {
		t.Fatal(err)
	}
	if n != runs || s != "hello" || string(b) != "\x00\x01\xff" {
		t.Fatalf("rows on disk: %d %q %x", n, s, b)
	}

	// Without Prepare the host function traps instead of guessing.
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	if _, err := inst.Call(ctx, "wasi:cli/run@0.2.0", "run"); err == nil {
		t.Fatal("call without Prepare did not trap")
	}
}

// A guest that never drops its connection gets it released when its
// instance is closed: the pool does not leak.
func TestGuestLeakedConnectionsReleased(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/leakguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	f := sqlite.NewWithLimits(sqlite.Limits{MaxOpenConnections: 4})
	set, _ := factor.NewSet(f)
	host, err := component.NewHost(set.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	c, err := component.LoadCore(ctx, eng, wasm, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	app, err := set.ConfigureApp(ctx, ac)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for range 50 {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		callCtx, _ := app.Prepare(ctx, "a")
		res, err := inst.Call(callCtx, "wasi:cli/run@0.2.0", "run")
		inst.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := res[0].(cabi.Result); r.IsErr {
			t.Fatal("guest reported failure")
		}
	}
	st, _ := app.State(sqlite.Name)
	d, _ := st.(*sqlite.AppState).Database("default")
	if open := d.OpenConnections(); open > 8 {
		t.Fatalf("%d pooled connections open after 50 leaking instances", open)
	}
	if _, err := d.Query(ctx, "BEGIN IMMEDIATE"); err != nil { // no connection left holding a write transaction
		t.Fatal(err)
	}
}
