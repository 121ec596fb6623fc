package mqtt_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/mqtt"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

// countingDialer records the addresses it is asked for and dials them
// through policy (nil: directly).
type countingDialer struct {
	policy *outbound.Policy
	mu     sync.Mutex
	addrs  []string
}

func (d *countingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+addr)
	d.mu.Unlock()
	if d.policy != nil {
		return d.policy.DialContext(ctx, network, addr)
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (d *countingDialer) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

func mosquitto(t *testing.T, port int) *triggertest.Server {
	t.Helper()
	// Without a config file, mosquitto 2 listens on localhost only and
	// lets anonymous clients in.
	return triggertest.StartServer(t, port, "/usr/sbin/mosquitto", "-p", strconv.Itoa(port))
}

// The supplied dialer opens the trigger's connection to the broker, the
// first one and the one after the broker went away and came back.
func TestMQTTDialerUsedOnEveryConnection(t *testing.T) {
	port := triggertest.FreePort(t)
	broker := fmt.Sprintf("mqtt://127.0.0.1:%d", port)
	srv := mosquitto(t, port)
	a := triggertest.Load(t, app(broker, "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	d := &countingDialer{}
	trig, err := mqtt.New(context.Background(), a.App, mqtt.Options{
		Invoke:  trigger.Options{Timeout: 5 * time.Second},
		Resolve: triggertest.Resolve(map[string]string{"broker": broker}),
		Dial:    d.dial,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := triggertest.Run(t, trig.Run)
	triggertest.WaitFor(t, "the trigger to subscribe", 15*time.Second, func() bool { return trig.Subscribed() == 1 })
	want := fmt.Sprintf("tcp 127.0.0.1:%d", port)
	if got := d.calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("dials for the first connection: %q, want [%q]", got, want)
	}
	pub := publisher(t, broker)
	publish(t, pub, "events", "before")
	triggertest.WaitFor(t, "the message before the restart", 10*time.Second, func() bool { return a.Recorder.Count() >= 1 })

	srv.Kill()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-r.Done():
		t.Fatalf("Run returned when the broker went away: %v", err)
	default:
	}
	mosquitto(t, port)
	// Probe until the trigger is back (messages while it is away are lost).
	triggertest.WaitFor(t, "the trigger to resubscribe", 30*time.Second, func() bool {
		if !pub.IsConnectionOpen() {
			return false
		}
		pub.Publish("events", 1, false, "probe").WaitTimeout(time.Second)
		time.Sleep(100 * time.Millisecond)
		return a.Recorder.Count() > 1
	})
	got := d.calls()
	if len(got) < 2 {
		t.Fatalf("the reconnection did not go through the dialer: dials %q", got)
	}
	for _, addr := range got {
		if addr != want {
			t.Errorf("dialer asked for %q, want %q", addr, want)
		}
	}
}

// A dialer that refuses the broker's address (the outbound policy
// blocking private networks): Run fails with the refusal.
func TestMQTTDialerRefusesAtStart(t *testing.T) {
	port := triggertest.FreePort(t)
	broker := fmt.Sprintf("mqtt://127.0.0.1:%d", port)
	mosquitto(t, port)
	a := triggertest.Load(t, app(broker, "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	blocked, err := outbound.ParseBlockedNetworks([]string{"private"})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := outbound.NewPolicyBlocking(nil, blocked)
	if err != nil {
		t.Fatal(err)
	}
	d := &countingDialer{policy: policy}
	trig, err := mqtt.New(context.Background(), a.App, mqtt.Options{
		Resolve: triggertest.Resolve(map[string]string{"broker": broker}),
		Dial:    d.dial,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Bounded, so that a trigger that wrongly connects fails the test
	// rather than running forever.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = trig.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot connect to "+broker) || !strings.Contains(err.Error(), "blocked by the runtime config") {
		t.Fatalf("Run with a refusing dialer: %v, want the refusal", err)
	}
	if len(d.calls()) == 0 {
		t.Error("the dialer was not asked")
	}
	if n := trig.Subscribed(); n != 0 {
		t.Errorf("Subscribed = %d, want 0", n)
	}
}
