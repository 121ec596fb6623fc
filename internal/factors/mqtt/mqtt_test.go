package mqtt_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// Error variant cases.
const (
	invalidAddress = iota
	tooManyConnections
	connectionFailed
	other
)

type env struct {
	t      *testing.T
	app    *factor.App
	ifaces []component.Interface
	iface  string
}

func newEnv(t *testing.T, f *mqtt.Factor, runtimeConfig string) *env {
	t.Helper()
	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), runtimeConfig)
	return &env{t: t, app: factortest.Configure(t, ac, f), ifaces: f.Interfaces(), iface: mqtt.FermyonV2}
}

func (e *env) state() *mqtt.AppState {
	st, _ := e.app.State(mqtt.Name)
	return st.(*mqtt.AppState)
}

func (e *env) instance(p *outbound.Policy) context.Context {
	return outbound.WithPolicy(factortest.Prepare(e.t, e.app, "a"), p)
}

func (e *env) call(ctx context.Context, fn string, args ...any) cabi.Result {
	e.t.Helper()
	res := factortest.Call(e.t, ctx, e.ifaces, e.iface, fn, args...)
	r, ok := res[0].(cabi.Result)
	if !ok {
		e.t.Fatalf("%s returned %#v", fn, res)
	}
	return r
}

func (e *env) fails(ctx context.Context, fn string, args ...any) cabi.Variant {
	e.t.Helper()
	r := e.call(ctx, fn, args...)
	if !r.IsErr {
		e.t.Fatalf("%s succeeded: %#v", fn, r.Value)
	}
	return r.Value.(cabi.Variant)
}

func (e *env) open(ctx context.Context, address string) component.Dropper {
	e.t.Helper()
	r := e.call(ctx, "[static]connection.open", address, "", "", uint64(30))
	if r.IsErr {
		e.t.Fatalf("open %s: %#v", address, r.Value)
	}
	return r.Value.(component.Dropper)
}

func (e *env) publish(ctx context.Context, c component.Dropper, topic string, payload []byte, qos uint32) {
	e.t.Helper()
	if r := e.call(ctx, "[method]connection.publish", c, topic, payload, qos); r.IsErr {
		e.t.Fatalf("publish to %s: %#v", topic, r.Value)
	}
}

// broker returns the test broker's host:port and a subscriber connected to
// it.
func broker(t *testing.T) (hostPort string, sub paho.Client) {
	t.Helper()
	hostPort = strings.TrimPrefix(testsvc.MQTT(t), "mqtt://")
	sub = paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + hostPort).SetClientID(testsvc.Unique(t) + "_sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: %v", tok.Error())
	}
	t.Cleanup(func() { sub.Disconnect(100) })
	return hostPort, sub
}

// subscribe returns the messages arriving on topic.
func subscribe(t *testing.T, sub paho.Client, topic string) <-chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 64)
	tok := sub.Subscribe(topic, 2, func(_ paho.Client, m paho.Message) { ch <- m })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return ch
}

func receive(t *testing.T, ch <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("published message did not arrive")
		return nil
	}
}

// TestPublish publishes at every QoS through both interface versions and
// checks a subscriber receives each message.
func TestPublish(t *testing.T) {
	hostPort, sub := broker(t)
	for _, iface := range []string{mqtt.FermyonV2, mqtt.SpinV3} {
		t.Run(iface, func(t *testing.T) {
			e := newEnv(t, mqtt.New(), "")
			e.iface = iface
			topic := "wisp/test/" + testsvc.Unique(t)
			msgs := subscribe(t, sub, topic)
			address := fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, testsvc.Unique(t))
			ctx := e.instance(factortest.Policy(t, "mqtt://"+hostPort))
			c := e.open(ctx, address)
			defer c.Drop()
			for qos := range uint32(3) {
				payload := []byte(fmt.Sprintf("hello at qos %d \x00\xff", qos))
				e.publish(ctx, c, topic, payload, qos)
				m := receive(t, msgs)
				if string(m.Payload()) != string(payload) || uint32(m.Qos()) != qos || m.Topic() != topic {
					t.Fatalf("received %q qos %d on %s, want %q qos %d", m.Payload(), m.Qos(), m.Topic(), payload, qos)
				}
			}
			e.publish(ctx, c, topic, nil, 1) // an empty payload
			if m := receive(t, msgs); len(m.Payload()) != 0 {
				t.Fatalf("received %q, want empty", m.Payload())
			}
		})
	}
}

// TestPooling: opens with the same address and credentials share one
// broker connection, so instances publishing with one client_id do not
// take each other's session over; a lost connection is replaced.
func TestPooling(t *testing.T) {
	hostPort, sub := broker(t)
	topic := "wisp/test/" + testsvc.Unique(t)
	msgs := subscribe(t, sub, topic)
	clientID := testsvc.Unique(t)
	address := fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, clientID)
	p := factortest.Policy(t, "mqtt://"+hostPort)
	e := newEnv(t, mqtt.New(), "")
	ctx1, ctx2 := e.instance(p), e.instance(p)
	c1, c2 := e.open(ctx1, address), e.open(ctx2, address)
	e.publish(ctx1, c1, topic, []byte("one"), 1)
	e.publish(ctx2, c2, topic, []byte("two"), 1)
	receive(t, msgs)
	receive(t, msgs)
	if n := e.state().Connections(); n != 1 {
		t.Fatalf("%d broker connections, want 1", n)
	}
	other := e.open(ctx1, address+"_other")
	if n := e.state().Connections(); n != 2 {
		t.Fatalf("%d broker connections, want 2", n)
	}
	other.Drop()

	// Another client taking the client_id over makes the broker drop ours.
	thief := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + hostPort).SetClientID(clientID))
	if tok := thief.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	thief.Disconnect(100)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.call(ctx1, "[method]connection.publish", c1, topic, []byte("lost?"), uint32(1))
		if r.IsErr {
			if v := r.Value.(cabi.Variant); v.Case != connectionFailed {
				t.Fatalf("publish on a lost connection: %#v", v)
			}
			break
		}
		receive(t, msgs)
		if time.Now().After(deadline) {
			t.Fatal("the broker never dropped the connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c3 := e.open(ctx1, address) // replaces the lost connection
	e.publish(ctx1, c3, topic, []byte("three"), 1)
	if m := receive(t, msgs); string(m.Payload()) != "three" {
		t.Fatalf("received %q", m.Payload())
	}
	c1.Drop()
	c2.Drop()
	c3.Drop()
}

// TestDenied: an address outside allowed_outbound_hosts fails as in Spin
// (connection-failed, "not permitted"), nothing is dialled and the
// message shows no password.
func TestDenied(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	address := "mqtt://user:s3cr3t@" + ln.Addr().String() + "?client_id=x"
	e := newEnv(t, mqtt.New(), "")
	for name, ctx := range map[string]context.Context{
		"other host":   e.instance(factortest.Policy(t, "mqtt://10.1.2.3:1883")),
		"other port":   e.instance(factortest.Policy(t, "mqtt://127.0.0.1:1")),
		"other scheme": e.instance(factortest.Policy(t, "mqtts://127.0.0.1:*")),
		"no policy":    factortest.Prepare(t, e.app, "a"),
	} {
		v := e.call(ctx, "[static]connection.open", address, "u", "pw-s3cr3t", uint64(30)).Value.(cabi.Variant)
		msg, _ := v.Value.(string)
		if v.Case != connectionFailed || !strings.Contains(msg, "is not permitted") || strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: %#v", name, v)
		}
	}
	select {
	case <-accepted:
		t.Fatal("a denied open connected")
	case <-time.After(200 * time.Millisecond):
	}
	if n := e.state().Connections(); n != 0 {
		t.Fatalf("%d connections for denied opens", n)
	}
}

// TestOpenErrors: malformed addresses are invalid-address; unreachable
// brokers connection-failed without the password; bad keep-alive other.
func TestOpenErrors(t *testing.T) {
	e := newEnv(t, mqtt.New(), "")
	ctx := e.instance(factortest.Policy(t, "*://*:*"))
	for _, addr := range []string{
		"mqtt://127.0.0.1:1883",                     // no client_id: required, as in Spin
		"mqtt://127.0.0.1:1883?client_id=",          // empty
		"mqtt://127.0.0.1:1883?client_id=a&bogus=1", // unknown option
		"mqtt://127.0.0.1:1883?client_id=a&clean_session=maybe",
		"http://127.0.0.1:1883?client_id=a",
		"ws://127.0.0.1:1883?client_id=a",
		"127.0.0.1:1883",
		"mqtt://?client_id=a",
	} {
		if v := e.fails(ctx, "[static]connection.open", addr, "", "", uint64(30)); v.Case != invalidAddress {
			t.Errorf("%q: %#v", addr, v)
		}
	}
	v := e.fails(ctx, "[static]connection.open", "mqtt://u:url-s3cr3t@127.0.0.1:1?client_id=a", "", "", uint64(30))
	if msg, _ := v.Value.(string); v.Case != connectionFailed || strings.Contains(msg, "s3cr3t") {
		t.Errorf("refused: %#v", v)
	}
	v = e.fails(ctx, "[static]connection.open", "mqtt://127.0.0.1:1?client_id=a", "u", "arg-s3cr3t", uint64(30))
	if msg, _ := v.Value.(string); v.Case != connectionFailed || strings.Contains(msg, "s3cr3t") {
		t.Errorf("refused: %#v", v)
	}
	if v := e.fails(ctx, "[static]connection.open", "mqtt://127.0.0.1:1883?client_id=a", "", "", uint64(70000)); v.Case != other {
		t.Errorf("keep-alive over 65535: %#v", v)
	}
	if n := e.state().Connections(); n != 0 {
		t.Fatalf("%d connections kept after failures", n)
	}
}

// TestPublishErrors: invalid QoS, topics and oversized payloads are
// refused before anything reaches the broker.
func TestPublishErrors(t *testing.T) {
	hostPort, _ := broker(t)
	e := newEnv(t, mqtt.New(), "[outbound_mqtt]\nmax_payload_size_bytes = 4\n")
	ctx := e.instance(factortest.Policy(t, "mqtt://"+hostPort))
	c := e.open(ctx, fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, testsvc.Unique(t)))
	defer c.Drop()
	for _, tc := range []struct {
		topic   string
		payload string
		qos     uint32
		want    string
	}{
		{"t", "x", 3, "invalid qos"},
		{"", "x", 0, "invalid topic"},
		{"a/#", "x", 0, "invalid topic"},
		{"a/+/b", "x", 0, "invalid topic"},
		{"a/\x00", "x", 0, "invalid topic"},
		{"t", "12345", 0, "payload size 5 exceeds the maximum allowed size of 4 bytes"},
	} {
		v := e.fails(ctx, "[method]connection.publish", c, tc.topic, []byte(tc.payload), tc.qos)
		if msg, _ := v.Value.(string); v.Case != other || !strings.Contains(msg, tc.want) {
			t.Errorf("%q qos %d: %#v", tc.topic, tc.qos, v)
		}
	}
	e.publish(ctx, c, "wisp/test/"+testsvc.Unique(t), []byte("1234"), 0) // the connection survived
}

// TestConnectionLimits: an instance holds at most MaxConnectionsPerInstance
// connections; [outbound_mqtt] max_connections bounds the app's.
func TestConnectionLimits(t *testing.T) {
	hostPort, _ := broker(t)
	address := fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, testsvc.Unique(t))
	p := factortest.Policy(t, "mqtt://"+hostPort)

	e := newEnv(t, mqtt.NewWithLimits(mqtt.Limits{MaxConnectionsPerInstance: 2}), "")
	ctx := e.instance(p)
	c1, c2 := e.open(ctx, address), e.open(ctx, address)
	if v := e.fails(ctx, "[static]connection.open", address, "", "", uint64(30)); v.Case != tooManyConnections {
		t.Fatalf("third open: %#v", v)
	}
	c1.Drop()
	e.open(ctx, address).Drop()
	c2.Drop()

	e = newEnv(t, mqtt.New(), "[outbound_mqtt]\nmax_connections = 1\n")
	held := e.open(e.instance(p), address)
	short, cancel := context.WithTimeout(e.instance(p), 100*time.Millisecond)
	defer cancel()
	if v := e.fails(short, "[static]connection.open", address, "", "", uint64(30)); v.Case != tooManyConnections {
		t.Fatalf("open over max_connections: %#v", v)
	}
	held.Drop()
	e.open(e.instance(p), address).Drop()

	e = newEnv(t, mqtt.NewWithLimits(mqtt.Limits{MaxBrokerConnections: 1}), "")
	ctx = e.instance(p)
	e.open(ctx, address).Drop()
	c := e.open(ctx, address+"_2") // evicts the idle connection
	if v := e.fails(ctx, "[static]connection.open", address, "", "", uint64(30)); v.Case != tooManyConnections {
		t.Fatalf("open while the only connection is busy: %#v", v)
	}
	c.Drop()
}

// TestBadArguments: arguments of the wrong shape trap with an error; they
// never panic the host.
func TestBadArguments(t *testing.T) {
	hostPort, _ := broker(t)
	e := newEnv(t, mqtt.New(), "")
	ctx := e.instance(factortest.Policy(t, "mqtt://"+hostPort))
	c := e.open(ctx, fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, testsvc.Unique(t)))
	defer c.Drop()
	for _, call := range [][]any{
		{"[static]connection.open"},
		{"[static]connection.open", "mqtt://x?client_id=a", "", "", 30},
		{"[static]connection.open", 1, "", "", uint64(30)},
		{"[method]connection.publish"},
		{"[method]connection.publish", nil, "t", []byte("x"), uint32(0)},
		{"[method]connection.publish", c, "t", "not bytes", uint32(0)},
		{"[method]connection.publish", c, "t", []byte("x"), 0},
		{"[method]connection.publish", c, 5, []byte("x"), uint32(0)},
	} {
		if _, err := factortest.TryCall(t, ctx, e.ifaces, e.iface, call[0].(string), call[1:]...); err == nil {
			t.Errorf("%s%v: no error", call[0], call[1:])
		}
	}
	if _, err := factortest.TryCall(t, context.Background(), e.ifaces, e.iface, "[static]connection.open", "mqtt://x?client_id=a", "", "", uint64(1)); err == nil {
		t.Error("open without Prepare did not trap")
	}
}

func TestRuntimeConfig(t *testing.T) {
	for rc, want := range map[string]string{
		"[outbound_mqtt]\nmax_connections = 0\n":         "max_connections must be an integer",
		"[outbound_mqtt]\nmax_payload_size_bytes = -1\n": "max_payload_size_bytes must be an integer",
		"[outbound_mqtt]\nmax_conns = 1\n":               `unknown field "max_conns"`,
		"outbound_mqtt = \"x\"\n":                        "must be a table",
	} {
		ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), rc)
		err := factortest.ConfigureErr(t, ac, mqtt.New())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", rc, err, want)
		}
	}
}

// TestConcurrentInstances hammers one app's pooled connection from many
// instances at once: every message arrives.
func TestConcurrentInstances(t *testing.T) {
	hostPort, sub := broker(t)
	topic := "wisp/test/" + testsvc.Unique(t)
	msgs := subscribe(t, sub, topic)
	address := fmt.Sprintf("mqtt://%s?client_id=%s", hostPort, testsvc.Unique(t))
	p := factortest.Policy(t, "mqtt://"+hostPort)
	e := newEnv(t, mqtt.New(), "")
	const workers, rounds = 4, 5
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range rounds {
				ctx := e.instance(p)
				res, err := factortest.TryCall(t, ctx, e.ifaces, e.iface, "[static]connection.open", address, "", "", uint64(30))
				if err != nil || res[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("open: %v %v", err, res)
					return
				}
				c := res[0].(cabi.Result).Value.(component.Dropper)
				res, err = factortest.TryCall(t, ctx, e.ifaces, e.iface, "[method]connection.publish", c, topic, []byte("m"), uint32(1))
				c.Drop()
				if err != nil || res[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("publish: %v %v", err, res)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for range workers * rounds {
		receive(t, msgs)
	}
	if n := e.state().Connections(); n != 1 {
		t.Fatalf("%d broker connections", n)
	}
}

// TestTLS: mqtts:// speaks TLS through the policy's dialer: the broker
// receives a TLS ClientHello.
func TestTLS(t *testing.T) {
	hostPort, first := factortest.FirstBytes(t)
	e := newEnv(t, mqtt.NewWithLimits(mqtt.Limits{ConnectTimeout: 5 * time.Second}), "")
	ctx := e.instance(factortest.Policy(t, "mqtts://"+hostPort))
	v := e.fails(ctx, "[static]connection.open", "mqtts://"+hostPort+"?client_id=a", "", "", uint64(30))
	if v.Case != connectionFailed {
		t.Fatalf("TLS to a broker that hangs up: %#v", v)
	}
	if b := <-first; len(b) == 0 || b[0] != 0x16 {
		t.Fatalf("broker received %x, not a TLS handshake record", b)
	}
}
