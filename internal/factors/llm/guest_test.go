package llm_test

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/llm"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestGuest runs a real guest (testdata/llmguest.wat) through
// component.LoadCore against the test backend: the canonical ABI of
// option<inferencing-params>, list<string> and list<list<f32>> end to end.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/llmguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := factor.NewSet(llm.New())
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

	b := newBackend(t)
	app := factortest.NewApp(lockedapp.Component{ID: "a", AIModels: []string{"llama2-chat"}})
	a := factortest.Configure(t, factortest.NewAppContext(t, app, remoteConfig(b.srv.URL, "")), llm.New())
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	res, err := inst.Call(factortest.Prepare(t, a, "a"), "wasi:cli/run@0.2.0", "run")
	if err != nil {
		// A guest step failing with a code above 1 shows up here as an
		// invalid result discriminant; the code names the step.
		t.Fatal(err)
	}
	if r := res[0].(cabi.Result); r.IsErr {
		t.Fatal("guest reported failure")
	}
	opts := b.last()
	if opts.Path != "/embed" || b.count() != 2 {
		t.Fatalf("backend saw %d requests, last %+v", b.count(), opts)
	}
}
