package outboundnet_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/outboundnet"
	fv "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/outbound"
	vars "github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

func ptr(s string) *string { return &s }

func testApp() *lockedapp.LockedApp {
	app := factortest.NewApp(
		lockedapp.Component{ID: "none"},
		lockedapp.Component{ID: "api", AllowedOutboundHosts: []string{
			"https://{{ api_host }}", "redis://*:6379", "{{ optional }}", "http://{{ optional }}",
		}},
		lockedapp.Component{ID: "chain", AllowedOutboundHosts: []string{"http://*.spin.internal", "http://self"}},
	)
	app.Variables = map[string]lockedapp.Variable{
		"api_host": {Default: ptr("api.example.com")},
		"optional": {Default: ptr("")},
		"token":    {Required: true, Secret: true},
	}
	return app
}

func configure(t *testing.T, app *lockedapp.LockedApp, rc string, values map[string]string) (*factor.App, error) {
	t.Helper()
	ac := factortest.NewAppContext(t, app, rc)
	set, err := factor.NewSet(fv.New([]vars.Provider{vars.Static(values)}), outboundnet.New())
	if err != nil {
		t.Fatal(err)
	}
	fa, err := set.ConfigureApp(context.Background(), ac)
	if err == nil {
		t.Cleanup(func() { fa.Close() })
	}
	return fa, err
}

func TestPolicies(t *testing.T) {
	app, err := configure(t, testApp(), "", map[string]string{"token": "t0p"})
	if err != nil {
		t.Fatal(err)
	}
	none := outbound.FromContext(factortest.Prepare(t, app, "none"))
	api := outbound.FromContext(factortest.Prepare(t, app, "api"))
	chain := outbound.FromContext(factortest.Prepare(t, app, "chain"))
	if none == nil || api == nil || chain == nil {
		t.Fatal("Prepare put no policy in the context")
	}
	// No grant: denied.
	if none.Allows("https", "api.example.com", 0) || none.AllowsRelative("http") {
		t.Error("component without allowed_outbound_hosts is allowed out")
	}
	// The template is rendered with the app variable.
	if !api.Allows("https", "api.example.com", 443) || api.Allows("https", "other.example.com", 443) {
		t.Error("templated grant")
	}
	if !api.Allows("redis", "10.1.2.3", 6379) || api.Allows("http", "api.example.com", 0) {
		t.Error("literal grant")
	}
	if !chain.Allows("http", "backend.spin.internal", 0) || !chain.AllowsRelative("http") {
		t.Error("chaining / self grant")
	}

	st, _ := app.State(outboundnet.Name)
	s := st.(*outboundnet.AppState)
	if s.Policy("api") != api || s.Policy("nope") != nil || !s.Blocked().IsEmpty() {
		t.Error("AppState accessors")
	}
	if _, err := app.Prepare(context.Background(), "nope"); err == nil {
		t.Error("Prepare for an unknown component")
	}
}

func TestTemplateValueFromProvider(t *testing.T) {
	app, err := configure(t, testApp(), "", map[string]string{"token": "x", "api_host": "eu.example.net:8443"})
	if err != nil {
		t.Fatal(err)
	}
	p := outbound.FromContext(factortest.Prepare(t, app, "api"))
	if !p.Allows("https", "eu.example.net", 8443) || p.Allows("https", "api.example.com", 443) {
		t.Error("provider value not used")
	}
}

func TestBlockNetworks(t *testing.T) {
	app, err := configure(t, testApp(), `
[outbound_networking]
block_networks = ["1.2.3.0/24", "private"]
`, map[string]string{"token": "x"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := app.State(outboundnet.Name)
	b := st.(*outboundnet.AppState).Blocked()
	for addr, want := range map[string]bool{"1.2.3.4": true, "10.0.0.1": true, "127.0.0.1": true, "8.8.8.8": false} {
		if b.Blocks(netip.MustParseAddr(addr)) != want {
			t.Errorf("Blocks(%s) != %v", addr, want)
		}
	}
	// Every component's policy dials under the app's block list.
	p := outbound.FromContext(factortest.Prepare(t, app, "api"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := p.DialContext(context.Background(), "tcp", ln.Addr().String()); !errors.Is(err, outbound.ErrBlocked) {
		t.Errorf("dial loopback: %v", err)
	}

	// An empty section blocks nothing.
	app, err = configure(t, testApp(), "[outbound_networking]\n", map[string]string{"token": "x"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ = app.State(outboundnet.Name)
	if !st.(*outboundnet.AppState).Blocked().IsEmpty() {
		t.Error("empty section blocks")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, rc string
		app      *lockedapp.LockedApp
		want     []string
		not      string
	}{
		{name: "unknown field", rc: "[outbound_networking]\nblock_network = [\"private\"]\n",
			want: []string{"[outbound_networking]", `unknown field "block_network"`}},
		{name: "bad network", rc: "[outbound_networking]\nblock_networks = [\"1.2.3.4\"]\n",
			want: []string{`block_networks entry "1.2.3.4"`, "CIDR notation or the keyword 'private'"}},
		{name: "not a list", rc: "[outbound_networking]\nblock_networks = \"private\"\n",
			want: []string{"list of strings"}},
		{name: "not strings", rc: "[outbound_networking]\nblock_networks = [1]\n",
			want: []string{"list of strings"}},
		{name: "not a table", rc: "outbound_networking = 1\n", want: []string{"must be a table"}},
		{name: "connection limits", rc: "[outbound_networking]\nmax_total_connections = 10\n",
			want: []string{"max_total_connections is not supported"}},
		{name: "bad entry", app: factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"http://ok.example.com", "example.com"}}),
			want: []string{`component "web"`, `"example.com"`, "no scheme"}},
		{name: "allow-all", app: factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"insecure:allow-all"}}),
			want: []string{`component "web"`, "'*://*:*'"}},
		{name: "bad rendered entry", app: func() *lockedapp.LockedApp {
			a := factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"{{ host }}"}})
			a.Variables = map[string]lockedapp.Variable{"host": {Default: ptr("just-a-host")}}
			return a
		}(), want: []string{`component "web"`, `"{{ host }}"`, "no scheme"}},
		{name: "secret rendered entry", app: func() *lockedapp.LockedApp {
			a := factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"{{ host }}"}})
			a.Variables = map[string]lockedapp.Variable{"host": {Default: ptr("hunter2-secret"), Secret: true}}
			return a
		}(), want: []string{`component "web"`, `"{{ host }}"`, "secret"}, not: "hunter2"},
		{name: "undeclared variable", app: factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"https://{{ nope }}"}}),
			want: []string{`component "web"`, `"https://{{ nope }}"`, "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := tc.app
			if app == nil {
				app = factortest.NewApp(lockedapp.Component{ID: "web"})
			}
			_, err := configure(t, app, tc.rc, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.not != "" && strings.Contains(err.Error(), tc.not) {
				t.Errorf("error %q reveals %q", err, tc.not)
			}
		})
	}
}
