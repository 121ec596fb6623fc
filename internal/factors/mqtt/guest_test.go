package mqtt_test

import (
	"context"
	"os"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host, App.Prepare's context and the
// component's outbound policy passed to the call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	hostPort, sub := broker(t)
	if hostPort != "127.0.0.1:1883" { // written into the guest
		t.Skipf("the guest expects a broker at 127.0.0.1:1883, not %s", hostPort)
	}
	msgs := subscribe(t, sub, "wisp/mqttguest")
	ctx := context.Background()
	wasm, err := os.ReadFile(testguest.WAT(t, "testdata/mqttguest.wat"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := factor.NewSet(mqtt.New())
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
	policy := mustPolicy(t, "mqtt://127.0.0.1:1883")
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
		if m := receive(t, msgs); string(m.Payload()) != "hello" || m.Qos() != 1 {
			t.Fatalf("received %q at qos %d", m.Payload(), m.Qos())
		}
	}
	st, _ := app.State(mqtt.Name)
	if n := st.(*mqtt.AppState).Connections(); n != 1 {
		t.Fatalf("%d broker connections after 3 requests, want 1", n)
	}
}
