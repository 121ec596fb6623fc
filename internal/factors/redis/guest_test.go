package redis_test

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/outbound"
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

	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), "")
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/redisguest.wat", nil), ac, redis.New())
	policy := factortest.Policy(t, address)
	for range 3 { // fresh instance per request
		g.Run(outbound.WithPolicy(ctx, policy), "a")
	}
	if v, err := direct.Get(ctx, "wisp_redisguest_k").Result(); err != nil || v != "hello" {
		t.Fatalf("key = %q, %v", v, err)
	}
	if n, err := direct.Get(ctx, "wisp_redisguest_n").Int(); err != nil || n != 3 {
		t.Fatalf("counter = %d, %v", n, err)
	}
	st, _ := g.App.State(redis.Name)
	if n := st.(*redis.AppState).Clients(); n != 1 {
		t.Fatalf("%d pooled clients after 3 requests, want 1", n)
	}
}
