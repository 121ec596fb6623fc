package mqtt_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/mqtt"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

// app is an app with one MQTT trigger on topic filter, qos 1, and the
// broker's address as a templated variable.
func app(broker, filter string) string {
	return fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "mqtt-test"
[variables]
broker = { default = %q }
[application.trigger.mqtt]
address = "{{ broker }}"
username = "wisp"
password = "hunter2"
keep_alive_interval = "30"
[[trigger.mqtt]]
component = "guest"
topic = %q
qos = "1"
[component.guest]
source = "guest.wasm"
`, broker, filter)
}

type running struct {
	*triggertest.Running
	trig *mqtt.Trigger
}

// start runs the trigger and waits until it is subscribed.
func start(t *testing.T, a *triggertest.App, broker string) *running {
	t.Helper()
	trig, err := mqtt.New(context.Background(), a.App, mqtt.Options{
		Invoke:  trigger.Options{Timeout: 5 * time.Second},
		Resolve: triggertest.Resolve(map[string]string{"broker": broker}),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &running{Running: triggertest.Run(t, trig.Run), trig: trig}
	subscribed := make(chan struct{})
	// Run logs once it is subscribed; a publish now is not lost.
	go func() {
		for trig.Subscribed() == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		close(subscribed)
	}()
	select {
	case <-subscribed:
	case err := <-r.Done():
		t.Fatalf("Run: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("trigger did not subscribe")
	}
	return r
}

func publisher(t *testing.T, broker string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("wisp-test-pub-" + strconv.FormatInt(time.Now().UnixNano(), 36)))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connecting the publisher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c paho.Client, topic, msg string) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, msg); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
}

// Ten thousand QoS 1 messages through a wildcard subscription: each
// handled exactly once, in order, with the topic it was published on.
func TestMQTTTenThousandMessagesExactlyOnceInOrder(t *testing.T) {
	broker := testsvc.MQTT(t)
	base := "wisp/" + testsvc.Unique(t)
	a := triggertest.Load(t, app(broker, base+"/+/in"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	r := start(t, a, broker)
	pub := publisher(t, broker)

	const n = 10000
	// The broker queues at most max_queued_messages (1000 by default) for
	// a subscriber and drops the rest: keep at most 500 unhandled, as a
	// producer that respects its consumer would.
	for i := range n {
		if i-a.Recorder.Count() >= 500 {
			triggertest.WaitFor(t, "the trigger to catch up", 30*time.Second, func() bool { return i-a.Recorder.Count() < 250 })
		}
		msg := "m-" + strconv.Itoa(i)
		if i%1000 == 999 {
			msg = "fail-" + strconv.Itoa(i)
		}
		publish(t, pub, fmt.Sprintf("%s/%d/in", base, i%3), msg)
	}
	triggertest.WaitFor(t, "10,000 messages", 120*time.Second, func() bool { return a.Recorder.Count() >= n })
	time.Sleep(300 * time.Millisecond) // a duplicate would show up by now
	calls := a.Recorder.Calls()
	if len(calls) != n {
		t.Fatalf("guest saw %d messages, want %d", len(calls), n)
	}
	for i, c := range calls {
		want := "m-" + strconv.Itoa(i)
		if i%1000 == 999 {
			want = "fail-" + strconv.Itoa(i)
		}
		if string(c.Message) != want || c.Info != fmt.Sprintf("%s/%d/in", base, i%3) {
			t.Fatalf("message %d is %q on %q, want %q (lost, duplicated or reordered)", i, c.Message, c.Info, want)
		}
	}
	st := r.trig.Stats()
	if h, f := st.Handled.Load(), st.Failed.Load(); h != n-10 || f != 10 {
		t.Errorf("stats: handled %d, failed %d; want %d and 10", h, f, n-10)
	}
}

// A trapping guest is logged and counted; the next message is handled.
func TestMQTTGuestFailures(t *testing.T) {
	broker := testsvc.MQTT(t)
	topic := "wisp/" + testsvc.Unique(t)
	a := triggertest.Load(t, app(broker, topic), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	r := start(t, a, broker)
	pub := publisher(t, broker)
	for _, m := range []string{"trap", "fail", "ok"} {
		publish(t, pub, topic, m)
	}
	triggertest.WaitFor(t, "3 calls", 10*time.Second, func() bool {
		st := r.trig.Stats()
		return st.Handled.Load()+st.Failed.Load() == 3
	})
	if st := r.trig.Stats(); st.Handled.Load() != 1 || st.Failed.Load() != 2 {
		t.Errorf("handled %d, failed %d; want 1 and 2", st.Handled.Load(), st.Failed.Load())
	}
	log := a.ReadLog(t, "guest", "stderr")
	if !strings.Contains(log, "unreachable") || !strings.Contains(log, "guest returned an error: other: failed on purpose") {
		t.Errorf("component log:\n%s", log)
	}
}

func TestMQTTStartupErrors(t *testing.T) {
	guest := map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	down := fmt.Sprintf("mqtt://127.0.0.1:%d", port)
	a := triggertest.Load(t, app(down, "x"), guest, nil)
	trig, err := mqtt.New(context.Background(), a.App, mqtt.Options{Resolve: triggertest.Resolve(map[string]string{"broker": down})})
	if err != nil {
		t.Fatal(err)
	}
	err = trig.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf(`mqtt trigger "guest-mqtt-trigger": cannot connect to mqtt://127.0.0.1:%d`, port)) {
		t.Errorf("Run with no broker: %v", err)
	}

	for _, bad := range []string{"http://u:hunter2@example.com", "not a url at all"} {
		_, err = mqtt.New(context.Background(), a.App, mqtt.Options{Resolve: triggertest.Resolve(map[string]string{"broker": bad})})
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), `mqtt trigger "guest-mqtt-trigger": address`) {
			t.Errorf("New with address %q: %v", bad, err)
		}
	}

	b := triggertest.Load(t, app(down, "x"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.Cron)}, nil)
	_, err = mqtt.New(context.Background(), b.App, mqtt.Options{Resolve: triggertest.Resolve(map[string]string{"broker": down})})
	if err == nil || !strings.Contains(err.Error(), `component "guest" exports none of handle-message`) {
		t.Errorf("New with a non-MQTT guest: %v", err)
	}
}

// A broker restart mid-stream: the trigger reconnects and resubscribes;
// messages published while it was away are lost (clean sessions), every
// message after that is handled exactly once.
func TestMQTTBrokerRestart(t *testing.T) {
	port := triggertest.FreePort(t)
	broker := fmt.Sprintf("mqtt://127.0.0.1:%d", port)
	startBroker := func() *triggertest.Server {
		// Without a config file, mosquitto 2 listens on localhost only
		// and lets anonymous clients in.
		return triggertest.StartServer(t, port, "/usr/sbin/mosquitto", "-p", strconv.Itoa(port))
	}
	srv := startBroker()
	a := triggertest.Load(t, app(broker, "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	r := start(t, a, broker)
	pub := publisher(t, broker)
	for i := range 50 {
		publish(t, pub, "events", "before-"+strconv.Itoa(i))
	}
	triggertest.WaitFor(t, "50 messages before the restart", 10*time.Second, func() bool { return a.Recorder.Count() >= 50 })

	srv.Kill()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-r.Done():
		t.Fatalf("Run returned when the broker went away: %v", err)
	default:
	}
	startBroker()
	// The publisher reconnects by itself (paho's default); probe until the
	// trigger is back.
	triggertest.WaitFor(t, "the trigger to resubscribe", 30*time.Second, func() bool {
		if !pub.IsConnectionOpen() {
			return false
		}
		pub.Publish("events", 1, false, "probe").WaitTimeout(time.Second)
		time.Sleep(100 * time.Millisecond)
		return a.Recorder.Count() > 50
	})
	seen := a.Recorder.Count()
	for i := range 50 {
		publish(t, pub, "events", "after-"+strconv.Itoa(i))
	}
	triggertest.WaitFor(t, "50 messages after the restart", 20*time.Second, func() bool { return a.Recorder.Count() >= seen+50 })
	time.Sleep(200 * time.Millisecond)
	calls := a.Recorder.Calls()
	var after []string
	for _, c := range calls[50:] {
		if string(c.Message) != "probe" {
			after = append(after, string(c.Message))
		}
	}
	if len(after) != 50 {
		t.Fatalf("after the restart the guest saw %d messages, want 50: %q", len(after), after)
	}
	for i, m := range after {
		if m != "after-"+strconv.Itoa(i) {
			t.Fatalf("message %d after the restart is %q", i, m)
		}
	}
}
