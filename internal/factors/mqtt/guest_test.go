package mqtt_test

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/outbound"
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
	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), "")
	g := factortest.NewGuest(t, factortest.WAT(t, "testdata/mqttguest.wat", nil), ac, mqtt.New())
	policy := factortest.Policy(t, "mqtt://127.0.0.1:1883")
	for range 3 { // fresh instance per request
		g.Run(outbound.WithPolicy(context.Background(), policy), "a")
		if m := receive(t, msgs); string(m.Payload()) != "hello" || m.Qos() != 1 {
			t.Fatalf("received %q at qos %d", m.Payload(), m.Qos())
		}
	}
	st, _ := g.App.State(mqtt.Name)
	if n := st.(*mqtt.AppState).Connections(); n != 1 {
		t.Fatalf("%d broker connections after 3 requests, want 1", n)
	}
}
