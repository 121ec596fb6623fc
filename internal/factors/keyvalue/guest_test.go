package keyvalue_test

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	kv "github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host and App.Prepare's context passed to the
// call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/kvguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := factor.NewSet(kv.New())
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
	for range 3 { // fresh instance per request
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
	st, _ := app.State(kv.Name)
	store, _ := st.(*kv.AppState).Store("default")
	if v, ok, err := store.Get(ctx, "k"); !ok || err != nil || string(v) != "hello" {
		t.Fatalf("k = %q %v %v", v, ok, err)
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
