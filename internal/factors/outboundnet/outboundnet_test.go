package outboundnet_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

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
		{name: "negative limit", rc: "[outbound_networking]\nmax_total_connections = -1\n",
			want: []string{"[outbound_networking]", "max_total_connections must be a whole number"}},
		{name: "string limit", rc: "[outbound_networking]\nmax_total_connections = \"10\"\n",
			want: []string{"max_total_connections must be a whole number"}},
		{name: "fractional socket limit", rc: "[outbound_networking]\nmax_socket_connections = 1.5\n",
			want: []string{"max_socket_connections must be a whole number"}},
		{name: "huge limit", rc: "[outbound_networking]\nmax_total_connections = 10000000000\n",
			want: []string{"max_total_connections must be a whole number from 0 to"}},
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

func TestConnectionLimit(t *testing.T) {
	srv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		var conns []net.Conn // held open until the listener closes
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	app := factortest.NewApp(
		lockedapp.Component{ID: "a", AllowedOutboundHosts: []string{"tcp://127.0.0.1:*"}},
		lockedapp.Component{ID: "b", AllowedOutboundHosts: []string{"tcp://127.0.0.1:*"}},
	)
	configureWith := func(f *outboundnet.Factor, rc string) *factor.App {
		t.Helper()
		set, err := factor.NewSet(fv.New(nil), f)
		if err != nil {
			t.Fatal(err)
		}
		fa, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, app, rc))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fa.Close() })
		return fa
	}
	limitOf := func(fa *factor.App) *outbound.ConnLimit {
		st, _ := fa.State(outboundnet.Name)
		return st.(*outboundnet.AppState).ConnLimit()
	}

	// As Spin: unlimited unless configured.
	if l := limitOf(configureWith(outboundnet.New(), "")); l != nil {
		t.Errorf("New without config: limit %d", l.Limit())
	}
	// The factor's default applies without config; the runtime config
	// overrides it, 0 included.
	if l := limitOf(configureWith(outboundnet.NewWithLimits(outboundnet.Limits{MaxTotalConnections: 7}), "")); l.Limit() != 7 {
		t.Errorf("default limit %d, want 7", l.Limit())
	}
	if l := limitOf(configureWith(outboundnet.NewWithLimits(outboundnet.Limits{MaxTotalConnections: 7}), "[outbound_networking]\nmax_total_connections = 0\n")); l.Limit() != 0 {
		t.Errorf("configured limit %d, want 0", l.Limit())
	}
	if l := limitOf(configureWith(outboundnet.New(), "[outbound_networking]\nmax_socket_connections = 3\n")); l != nil {
		t.Errorf("max_socket_connections alone limits: %d", l.Limit())
	}

	// One limit for the whole app: both components' dials share it.
	fa := configureWith(outboundnet.New(), "[outbound_networking]\nmax_total_connections = 1\n")
	a := outbound.FromContext(factortest.Prepare(t, fa, "a"))
	b := outbound.FromContext(factortest.Prepare(t, fa, "b"))
	if a.ConnLimit() == nil || a.ConnLimit() != b.ConnLimit() || a.ConnLimit() != limitOf(fa) {
		t.Fatal("components do not share the app's limit")
	}
	c, err := a.DialContext(context.Background(), "tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.DialContext(ctx, "tcp", srv.Addr().String()); !errors.Is(err, outbound.ErrConnectionLimit) {
		t.Errorf("b dials past a's connection: %v", err)
	}
	c.Close()
	if c, err = b.DialContext(context.Background(), "tcp", srv.Addr().String()); err != nil {
		t.Fatalf("b after a closed: %v", err)
	}
	c.Close()
}
