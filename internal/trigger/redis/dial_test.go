package redis_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/redis"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

// gate is a dialer the test controls: it records every address it is
// asked for and, while refusing, refuses it as a policy would (here the
// real outbound policy blocking private networks, which covers the
// loopback test server).
type gate struct {
	mu       sync.Mutex
	addrs    []string
	refused  int
	refusing bool
}

var blockPrivate = func() *outbound.Policy {
	b, err := outbound.ParseBlockedNetworks([]string{"private"})
	if err != nil {
		panic(err)
	}
	p, err := outbound.NewPolicyBlocking(nil, b)
	if err != nil {
		panic(err)
	}
	return p
}()

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	g.addrs = append(g.addrs, network+" "+addr)
	refusing := g.refusing
	if refusing {
		g.refused++
	}
	g.mu.Unlock()
	if refusing {
		return blockPrivate.DialContext(ctx, network, addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (g *gate) calls() (dials, refused int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.addrs), g.refused
}

func (g *gate) refuse(on bool) {
	g.mu.Lock()
	g.refusing = on
	g.mu.Unlock()
}

func startDialing(t *testing.T, a *triggertest.App, address string, dial func(context.Context, string, string) (net.Conn, error)) *running {
	t.Helper()
	trig, err := redis.New(context.Background(), a.App, redis.Options{
		Invoke:  trigger.Options{Timeout: 5 * time.Second},
		Resolve: triggertest.Resolve(map[string]string{"redis_url": address}),
		Dial:    dial,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &running{Running: triggertest.Run(t, trig.Run), trig: trig}
}

// waitReady waits until the trigger reports its one Redis trigger
// subscribed, failing if Run returns first.
func waitReady(t *testing.T, r *running) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for r.trig.Subscribed() < 1 {
		select {
		case err := <-r.Done():
			t.Fatalf("Run returned before subscribing: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the trigger did not report itself subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The supplied dialer opens the trigger's connections: the first ones
// and the one after Redis drops the subscriber (CLIENT KILL). While the
// dialer refuses, the trigger stays unsubscribed and keeps trying; once
// it allows again, the trigger resubscribes and messages flow.
func TestRedisDialerUsedOnEveryConnection(t *testing.T) {
	// A private server: CLIENT KILL TYPE pubsub must not drop other
	// tests' subscribers.
	port := triggertest.FreePort(t)
	startRedisServer(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d", port)
	a := triggertest.Load(t, app(url, "", "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}, nil)
	g := &gate{}
	r := startDialing(t, a, url, g.dial)
	waitReady(t, r)
	// Subscribed reports a live subscription: no wait on Redis needed.
	rdb := client(t, url)
	ctx := context.Background()
	if got, err := rdb.PubSubNumSub(ctx, "events").Result(); err != nil || got["events"] != 1 {
		t.Fatalf("after Subscribed: %v subscribers (%v), want 1", got["events"], err)
	}
	if err := rdb.Publish(ctx, "events", "first").Err(); err != nil {
		t.Fatal(err)
	}
	triggertest.WaitFor(t, "the first message", 10*time.Second, func() bool { return a.Recorder.Count() >= 1 })
	before, _ := g.calls()
	g.mu.Lock()
	for _, addr := range g.addrs {
		if addr != fmt.Sprintf("tcp 127.0.0.1:%d", port) {
			t.Errorf("dialer asked for %q", addr)
		}
	}
	g.mu.Unlock()

	// Redis drops the subscriber; the reconnection dials again.
	if n, err := rdb.ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n != 1 {
		t.Fatalf("CLIENT KILL TYPE pubsub: killed %d (%v), want 1", n, err)
	}
	waitSubscribed(t, rdb, "events", 1)
	if after, _ := g.calls(); after <= before {
		t.Fatalf("the reconnection did not go through the dialer: %d dials before the kill, %d after", before, after)
	}
	if err := rdb.Publish(ctx, "events", "after-kill").Err(); err != nil {
		t.Fatal(err)
	}
	triggertest.WaitFor(t, "the message after the reconnection", 10*time.Second, func() bool { return a.Recorder.Count() >= 2 })

	// The address is now refused (as a name that re-resolved into a
	// blocked network would be): after the next drop the trigger retries
	// through the dialer and does not get back in.
	g.refuse(true)
	if n, err := rdb.ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n != 1 {
		t.Fatalf("second CLIENT KILL: killed %d (%v), want 1", n, err)
	}
	triggertest.WaitFor(t, "two refused reconnections", 15*time.Second, func() bool { _, refused := g.calls(); return refused >= 2 })
	if got, err := rdb.PubSubNumSub(ctx, "events").Result(); err != nil || got["events"] != 0 {
		t.Fatalf("with the dialer refusing: %v subscribers (%v), want 0", got["events"], err)
	}
	select {
	case err := <-r.Done():
		t.Fatalf("Run returned while reconnecting: %v", err)
	default:
	}

	g.refuse(false)
	waitSubscribed(t, rdb, "events", 1)
	if err := rdb.Publish(ctx, "events", "allowed-again").Err(); err != nil {
		t.Fatal(err)
	}
	triggertest.WaitFor(t, "the message once allowed again", 10*time.Second, func() bool { return a.Recorder.Count() >= 3 })
	var got []string
	for _, c := range a.Recorder.Calls() {
		got = append(got, string(c.Message))
	}
	if strings.Join(got, ",") != "first,after-kill,allowed-again" {
		t.Errorf("messages handled: %q", got)
	}
	if n := r.trig.Subscribed(); n != 1 {
		t.Errorf("Subscribed after reconnections = %d, want 1 (one trigger)", n)
	}
}

// A dialer that refuses the address at start: Run fails with the
// refusal, having connected to nothing.
func TestRedisDialerRefusesAtStart(t *testing.T) {
	port := triggertest.FreePort(t)
	startRedisServer(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d", port)
	a := triggertest.Load(t, app(url, "", "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}, nil)
	g := &gate{refusing: true}
	trig, err := redis.New(context.Background(), a.App, redis.Options{
		Resolve: triggertest.Resolve(map[string]string{"redis_url": url}),
		Dial:    g.dial,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Bounded, so that a trigger that wrongly connects fails the test
	// rather than running forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = trig.Run(ctx)
	// Run names the refusal (its error wraps no error value, only text).
	if err == nil || !strings.Contains(err.Error(), "redis trigger: cannot connect to 127.0.0.1") || !strings.Contains(err.Error(), "blocked by the runtime config") {
		t.Fatalf("Run with a refusing dialer: %v, want the refusal", err)
	}
	if _, refused := g.calls(); refused == 0 {
		t.Error("the dialer was not asked")
	}
	if n := trig.Subscribed(); n != 0 {
		t.Errorf("Subscribed = %d, want 0", n)
	}
	rdb := client(t, url)
	if got, err := rdb.PubSubNumSub(context.Background(), "events").Result(); err != nil || got["events"] != 0 {
		t.Errorf("%v subscribers (%v), want 0", got["events"], err)
	}
}
