package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host and App.Prepare's context passed to the
// call: the wiring cmd/wisp does. Each run is a fresh instance; the rows
// the guest inserted are on disk afterwards.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/sqlguest.wat", nil), ac, sqlite.New())
	const runs = 3
	for range runs {
		g.Run(ctx, "a")
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
	if _, err := g.TryRun(ctx); err == nil {
		t.Fatal("call without Prepare did not trap")
	}
}

// A guest that never drops its connection gets it released when its
// instance is closed: the pool does not leak.
func TestGuestLeakedConnectionsReleased(t *testing.T) {
	ctx := context.Background()
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	f := sqlite.NewWithLimits(sqlite.Limits{MaxOpenConnections: 4})
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/leakguest.wat", nil), ac, f)
	for range 50 {
		g.Run(ctx, "a")
	}
	st, _ := g.App.State(sqlite.Name)
	d, _ := st.(*sqlite.AppState).Database("default")
	if open := d.OpenConnections(); open > 8 {
		t.Fatalf("%d pooled connections open after 50 leaking instances", open)
	}
	if _, err := d.Query(ctx, "BEGIN IMMEDIATE"); err != nil { // no connection left holding a write transaction
		t.Fatal(err)
	}
}
