package keyvalue_test

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	kv "github.com/wisp-dev/wisp/internal/factors/keyvalue"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host and App.Prepare's context passed to the
// call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/kvguest.wat", nil), ac, kv.New())
	for range 3 { // fresh instance per request
		g.Run(ctx, "a")
	}
	st, _ := g.App.State(kv.Name)
	store, _ := st.(*kv.AppState).Store("default")
	if v, ok, err := store.Get(ctx, "k"); !ok || err != nil || string(v) != "hello" {
		t.Fatalf("k = %q %v %v", v, ok, err)
	}

	// Without Prepare the host function traps instead of guessing.
	if _, err := g.TryRun(ctx); err == nil {
		t.Fatal("call without Prepare did not trap")
	}
}
