package trigger_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

const app = `spin_manifest_version = 2
[application]
name = "invoke"
[application.trigger.redis]
address = "redis://127.0.0.1:6379"
[application.trigger.mqtt]
address = "mqtt://127.0.0.1:1883"
[[trigger.redis]]
channel = "a"
component = "v2"
[[trigger.redis]]
channel = "b"
component = "v3"
[[trigger.mqtt]]
component = "mqtt"
topic = "t"
qos = "0"
[[trigger.cron]]
component = "cron"
cron_expression = "* * * * * *"
[component.v2]
source = "v2.wasm"
environment = { GREETING = "hi" }
[component.v3]
source = "v3.wasm"
[component.mqtt]
source = "mqtt.wasm"
[component.cron]
source = "cron.wasm"
`

func load(t *testing.T) *triggertest.App {
	return triggertest.Load(t, app, map[string]string{
		"v2.wasm":   triggertest.Guest(t, triggertest.RedisV2),
		"v3.wasm":   triggertest.Guest(t, triggertest.RedisV3),
		"mqtt.wasm": triggertest.Guest(t, triggertest.MQTT),
		"cron.wasm": triggertest.Guest(t, triggertest.Cron),
	}, nil)
}

var (
	redisV2 = trigger.InterfaceFunc("fermyon:spin/inbound-redis", "handle-message")
	redisV3 = trigger.InterfaceFunc("spin:redis/inbound-redis@3.0.0", "handle-message")
	mqtt    = trigger.WorldFunc("spin:mqtt-trigger/spin-mqtt@3.0.0", "handle-message")
	cron    = trigger.WorldFunc("fermyon:spin-cron/spin-cron@2.0.0", "handle-cron-event")
)

func TestInvokerCallsEveryExportForm(t *testing.T) {
	a := load(t)
	ctx := context.Background()
	cases := []struct {
		component string
		args      []any
		wantErr   string
	}{
		{"v2", []any{[]byte("hello")}, ""},
		{"v2", []any{[]byte("fail")}, "guest returned an error: error"},
		{"v3", []any{[]byte("hello")}, ""},
		{"v3", []any{[]byte("fail")}, "guest returned an error: other: failed on purpose"},
		{"mqtt", []any{[]byte("hello"), []any{"sensors/1"}}, ""},
		{"mqtt", []any{[]byte("fail"), []any{"sensors/1"}}, "guest returned an error: other: failed on purpose"},
		{"cron", []any{[]any{uint64(1700000000)}}, ""},
	}
	for _, c := range cases {
		inv, err := trigger.NewInvoker(a.Component(c.component), trigger.Options{Timeout: 5 * time.Second}, redisV2, redisV3, mqtt, cron)
		if err != nil {
			t.Fatalf("%s: %v", c.component, err)
		}
		err = inv.Call(ctx, c.args...)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s %q: %v", c.component, c.args[0], err)
		case c.wantErr != "" && (err == nil || err.Error() != c.wantErr || !errors.Is(err, trigger.ErrGuest)):
			t.Errorf("%s %q: error %v, want %q", c.component, c.args[0], err, c.wantErr)
		}
	}
	calls := a.Recorder.Calls()
	if len(calls) != len(cases) {
		t.Fatalf("guests recorded %d calls, want %d", len(calls), len(cases))
	}
	if string(calls[0].Message) != "hello" || calls[4].Info != "sensors/1" || calls[6].N != 1700000000 {
		t.Errorf("guests saw %+v", calls)
	}
}

func TestInvokerTrapIsAnErrorAndTheNextCallWorks(t *testing.T) {
	a := load(t)
	inv, err := trigger.NewInvoker(a.Component("v2"), trigger.Options{}, redisV2)
	if err != nil {
		t.Fatal(err)
	}
	err = inv.Call(context.Background(), []byte("trap"))
	if err == nil || errors.Is(err, trigger.ErrGuest) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("trap: %v", err)
	}
	if err := inv.Call(context.Background(), []byte("ok")); err != nil {
		t.Fatalf("call after a trap (fresh instance): %v", err)
	}
}

func TestInvokerRefusesMissingOrMistypedExports(t *testing.T) {
	a := load(t)
	_, err := trigger.NewInvoker(a.Component("cron"), trigger.Options{}, redisV2, redisV3)
	if err == nil || !strings.Contains(err.Error(), `component "cron" exports none of fermyon:spin/inbound-redis#handle-message, spin:redis/inbound-redis@3.0.0#handle-message`) {
		t.Fatalf("missing export: %v", err)
	}
	wrong := trigger.Export{Func: "handle-cron-event", Type: &cabi.FuncType{Params: []cabi.Param{{Name: "x", Type: &cabi.Type{Kind: cabi.KindU32}}}}}
	_, err = trigger.NewInvoker(a.Component("cron"), trigger.Options{}, wrong)
	if err == nil || !strings.Contains(err.Error(), "wrong type: parameter 1: record where u32 is expected") {
		t.Fatalf("mistyped export: %v", err)
	}
}
