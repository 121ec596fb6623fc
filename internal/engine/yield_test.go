package engine

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestLongCallsYield: a call that runs long reaches yieldCPU (the engine's
// yield import is linked into every instance); a short one does not. Not
// parallel: yieldCalls counts for the whole process.
func TestLongCallsYield(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/yield/count.wat"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n     uint64
		yield bool
	}{{1000, false}, {50_000_000, true}, {10_000, false}} {
		inst, err := m.Instantiate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		before := yieldCalls.Load()
		res, err := inst.Call(ctx, "count", c.n)
		if err != nil || res[0] != c.n {
			t.Fatalf("count(%d) = %v, %v", c.n, res, err)
		}
		if got := yieldCalls.Load() - before; (got > 0) != c.yield {
			t.Errorf("count(%d) yielded %d times, want yields: %v", c.n, got, c.yield)
		}
		inst.Close(ctx)
	}
}
