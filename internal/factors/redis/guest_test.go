package redis_test

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host, App.Prepare's context and the
// component's outbound policy passed to the call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	const address = "redis://127.0.0.1:6379" // written into the guest
	if url := testsvc.Redis(t); url != address {
		t.Skipf("the guest expects Redis at %s, not %s", address, url)
	}
	ctx := context.Background()
	direct := directClient(t, address)
	direct.Del(ctx, "wisp_redisguest_k", "wisp_redisguest_n")
	t.Cleanup(func() { direct.Del(ctx, "wisp_redisguest_k", "wisp_redisguest_n") })

	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/redisguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := factor.NewSet(redis.New())
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

	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), "")
	app, err := set.ConfigureApp(ctx, ac)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	policy := mustPolicy(t, address)
	for range 3 { // fresh instance per request
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		callCtx, err := app.Prepare(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Call(outbound.WithPolicy(callCtx, policy), "wasi:cli/run@0.2.0", "run")
		inst.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := res[0].(cabi.Result); r.IsErr {
			t.Fatal("guest reported failure")
		}
	}
	if v, err := direct.Get(ctx, "wisp_redisguest_k").Result(); err != nil || v != "hello" {
		t.Fatalf("key = %q, %v", v, err)
	}
	if n, err := direct.Get(ctx, "wisp_redisguest_n").Int(); err != nil || n != 3 {
		t.Fatalf("counter = %d, %v", n, err)
	}
	st, _ := app.State(redis.Name)
	if n := st.(*redis.AppState).Clients(); n != 1 {
		t.Fatalf("%d pooled clients after 3 requests, want 1", n)
	}
}
