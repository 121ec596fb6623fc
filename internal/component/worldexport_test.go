package component

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestLoadCoreWorldExport: a core module's plain export named like a
// world-level function of a known world (the cron trigger's
// handle-cron-event) is lifted with that world's type; other plain exports
// are left alone.
func TestLoadCoreWorldExport(t *testing.T) {
	ctx := context.Background()
	b, err := os.ReadFile(testguest.WAT(t, "testdata/worldexport/core.wat"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCore(ctx, newEngine(t), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, ok := c.ExportType("", "handle-cron-event"); !ok {
		t.Fatalf("handle-cron-event not exported; exports: %v %v", c.Exports(), c.ExportFuncs(""))
	}
	if _, ok := c.ExportType("", "helper"); ok {
		t.Fatal("plain export helper was lifted as a component function")
	}
	for _, tc := range []struct {
		ts    uint64
		isErr bool
	}{{42, false}, {43, true}} {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Call(ctx, "", "handle-cron-event", []any{tc.ts})
		inst.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := res[0].(cabi.Result)
		if r.IsErr != tc.isErr {
			t.Fatalf("timestamp %d: result %+v", tc.ts, r)
		}
		if r.IsErr {
			v := r.Value.(cabi.Variant)
			if v.Case != 0 || v.Value != "odd" {
				t.Fatalf("error = %+v, want other(\"odd\")", v)
			}
		}
	}
}
