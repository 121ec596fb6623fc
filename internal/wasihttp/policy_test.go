package wasihttp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/outboundnet"
	fv "github.com/wisp-dev/wisp/internal/factors/variables"
	vars "github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// These tests take the policy the way a guest call does: the
// outbound-networking factor (with the variables factor) configured from a
// LockedApp and runtime config, then Prepare for one component.

func ptr(s string) *string { return &s }

// policyApp configures the factors for app with runtime config rc and
// variable values, and returns a context prepared for component id that
// also carries logging plumbing.
func policyApp(t *testing.T, app *lockedapp.LockedApp, rc string, values map[string]string) func(id string) (context.Context, *logBuf) {
	t.Helper()
	fa := factortest.Configure(t, factortest.NewAppContext(t, app, rc), fv.New([]vars.Provider{vars.Static(values)}), outboundnet.New())
	return func(id string) (context.Context, *logBuf) {
		lb := &logBuf{}
		return WithOutbound(factortest.Prepare(t, fa, id), &Outbound{Logf: lb.logf}), lb
	}
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", args...)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func countingServer(t *testing.T) (*url.URL, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, &hits
}

func TestPolicyFromFactorGrantsAndTemplates(t *testing.T) {
	u, hits := countingServer(t)
	app := factortest.NewApp(
		lockedapp.Component{ID: "none"},
		lockedapp.Component{ID: "templated", AllowedOutboundHosts: []string{"http://{{ backend }}"}},
	)
	app.Variables = map[string]lockedapp.Variable{"backend": {Default: ptr("example.invalid")}}
	prepare := policyApp(t, app, "", map[string]string{"backend": u.Host})

	// No grant: denied before anything is sent.
	ctx, log := prepare("none")
	_, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/"), nil)
	if ec == nil || ec.Case != ecHTTPRequestDenied {
		t.Errorf("component without grant: error-code %#v, want HTTP-request-denied", ec)
	}
	if !strings.Contains(log.String(), "denied") {
		t.Errorf("denial not logged: %q", log)
	}

	// {{ backend }} rendered with the variable's value (127.0.0.1:port).
	ctx, _ = prepare("templated")
	resp, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/t"), nil)
	if ec != nil {
		t.Fatalf("templated grant: %v", (&ErrorCode{Code: *ec}).Error())
	}
	if got := readAll(t, resp); got != "hello /t" {
		t.Errorf("body %q", got)
	}
	// The default value is not what was granted.
	_, ec = await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "example.invalid", "/"), nil)
	if ec == nil || ec.Case != ecHTTPRequestDenied {
		t.Errorf("default value granted: %#v", ec)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestPolicyBlockNetworks(t *testing.T) {
	u, hits := countingServer(t)
	port := u.Port()
	app := factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{
		"http://localhost:" + port, "http://127.0.0.1:" + port, "http://[::ffff:127.0.0.1]:" + port,
	}})

	// Allowed and not blocked: the request goes out, and its connection
	// stays in the pool.
	open := policyApp(t, app, "", nil)
	ctx, _ := open("web")
	resp, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "127.0.0.1:"+port, "/open"), nil)
	if ec != nil {
		t.Fatalf("unblocked: %v", (&ErrorCode{Code: *ec}).Error())
	}
	readAll(t, resp)

	// The same grants under block_networks = ["private"]: the name that
	// resolves to loopback, the address, and its IPv4-mapped form are all
	// refused after resolution, and no pooled connection is reused.
	blocked := policyApp(t, app, "[outbound_networking]\nblock_networks = [\"private\"]\n", nil)
	for _, authority := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::ffff:127.0.0.1]:" + port} {
		ctx, log := blocked("web")
		_, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, authority, "/blocked"), nil)
		if ec == nil || ec.Case != ecDestinationIPProhibited {
			t.Errorf("%s: error-code %#v, want destination-IP-prohibited", authority, ec)
		}
		if !strings.Contains(log.String(), "block_networks") {
			t.Errorf("%s: refusal not logged: %q", authority, log)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}

	// A CIDR that does not cover the destination leaves it reachable.
	other := policyApp(t, app, "[outbound_networking]\nblock_networks = [\"10.0.0.0/8\"]\n", nil)
	ctx, _ = other("web")
	if resp, ec = await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "127.0.0.1:"+port, "/other"), nil); ec != nil {
		t.Fatalf("other network blocked: %v", (&ErrorCode{Code: *ec}).Error())
	}
	readAll(t, resp)
}

// wasi:http does not follow redirects: the guest gets the 3xx, and a
// request it makes to the Location is checked against the policy again.
func TestOutboundRedirectNotFollowed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "http://example.invalid/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	resp, ec := await(t, granted(t, nil, "http://"+u.Host), outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/"), nil)
	if ec != nil {
		t.Fatalf("error-code %v", (&ErrorCode{Code: *ec}).Error())
	}
	if resp.status != http.StatusFound || string(resp.headers.get("location")[0]) != "http://example.invalid/elsewhere" {
		t.Errorf("status %d, location %q", resp.status, resp.headers.get("location"))
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests", n)
	}
}
