package wasihttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// limited returns a context whose policy allows http://127.0.0.1:* under
// a limit of n open connections, with plumbing that logs to the returned
// buffer.
func limited(t *testing.T, n int) (context.Context, *outbound.ConnLimit, *logBuf) {
	t.Helper()
	p, err := outbound.NewPolicy([]string{"http://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	l := outbound.NewConnLimit(n)
	lb := &logBuf{}
	ctx := WithOutbound(outbound.WithPolicy(context.Background(), p.WithConnLimit(l)), &Outbound{Logf: lb.logf})
	return ctx, l, lb
}

// holdingServer answers /hold only when released (or when the client
// goes away); it reports each /hold request it got on held.
func holdingServer(t *testing.T) (u *url.URL, held <-chan struct{}, release func()) {
	t.Helper()
	got := make(chan struct{}, 8)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			got <- struct{}{}
			select {
			case <-done:
			case <-r.Context().Done():
			}
		}
	}))
	var closed bool
	release = func() {
		if !closed {
			closed = true
			close(done)
		}
	}
	t.Cleanup(srv.Close)
	t.Cleanup(release)
	u, _ = url.Parse(srv.URL)
	return u, got, release
}

// hold sends a request that keeps a connection (and its slot) busy until
// the server is released, and waits until the server has it.
func hold(t *testing.T, ctx context.Context, u *url.URL, held <-chan struct{}) *FutureIncomingResponse {
	t.Helper()
	fut := mustOk(t, callCtx(t, ctx, "handle", outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/hold"), cabi.None)).(*FutureIncomingResponse)
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the held request never reached the server")
	}
	return fut
}

// waitFor polls cond until it holds, failing after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting until %s", what)
		}
	}
}

// max_total_connections = 0, as the outbound-networking factor configures
// it: the request is allowed but its dial is refused, and the guest sees
// connection-limit-reached (as with Spin), not internal-error.
func TestOutboundConnLimitZero(t *testing.T) {
	u, hits := countingServer(t)
	app := factortest.NewApp(lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"http://127.0.0.1:*"}})
	prepare := policyApp(t, app, "[outbound_networking]\nmax_total_connections = 0\n", nil)
	ctx, log := prepare("web")

	_, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/"), nil)
	if ec == nil || ec.Case != ecConnectionLimitReached {
		t.Fatalf("error-code %#v, want connection-limit-reached", ec)
	}
	if !strings.Contains(log.String(), "max_total_connections = 0") {
		t.Errorf("refusal not logged with its reason: %q", log)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests", n)
	}
	if st := outbound.FromContext(ctx).ConnLimit().Stats(); st.Refused != 1 || st.Open != 0 {
		t.Errorf("limit stats %+v, want 1 refused, none open", st)
	}
}

// With the only slot taken by a request the server holds, a request whose
// connect timeout runs out waiting for a slot fails with
// connection-timeout (Spin: the connect timeout covers the wait).
func TestOutboundConnLimitTimeout(t *testing.T) {
	u, held, release := holdingServer(t)
	ctx, l, log := limited(t, 1)
	first := hold(t, ctx, u, held)
	defer first.Drop()

	opts := call(t, "[constructor]request-options").(*RequestOptions)
	mustOk(t, call(t, "[method]request-options.set-connect-timeout", opts, cabi.Some(uint64(100*time.Millisecond))))
	_, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/second"), cabi.Some(opts))
	if ec == nil || ec.Case != ecConnectionTimeout {
		t.Fatalf("error-code %#v, want connection-timeout", ec)
	}
	if !strings.Contains(log.String(), "gave up waiting") {
		t.Errorf("refusal not logged with its reason: %q", log)
	}
	if st := l.Stats(); st.Refused != 1 || st.Open != 1 || st.Waiting != 0 {
		t.Errorf("limit stats %+v, want 1 refused, 1 open, none waiting", st)
	}

	// Once the held request is answered its connection goes back to the
	// pool, slot and all, and serves the next request.
	release()
	waitFor(t, "the held request is answered", func() bool {
		return call(t, "[method]future-incoming-response.get", first).(cabi.Option).Some
	})
	if _, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/third"), nil); ec != nil {
		t.Fatalf("after release: %v", (&ErrorCode{Code: *ec}).Error())
	}
}

// A request given up while its dial waits for a slot leaves no dial
// waiting: net/http goes on dialing under a detached context, and only
// the wait bound handle puts on the request stops it before the connect
// timeout (600 s here).
func TestOutboundConnLimitAbandonedDialStopsWaiting(t *testing.T) {
	u, held, _ := holdingServer(t)
	ctx, l, _ := limited(t, 1)
	first := hold(t, ctx, u, held)
	defer first.Drop()

	second := mustOk(t, callCtx(t, ctx, "handle", outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/second"), cabi.None)).(*FutureIncomingResponse)
	waitFor(t, "the second dial waits for a slot", func() bool { return l.Stats().Waiting == 1 })
	second.Drop()
	waitFor(t, "the abandoned dial stops waiting", func() bool { return l.Stats().Waiting == 0 })
	if st := l.Stats(); st.Refused != 1 || st.Open != 1 {
		t.Errorf("limit stats %+v, want 1 refused, 1 open", st)
	}
}

// Pooled connections are not shared between limits: an idle connection
// dialed under one app's limit (holding its slot) is not reused by an app
// whose limit allows none.
func TestOutboundConnLimitPoolPerLimit(t *testing.T) {
	u, hits := countingServer(t)
	ctxA, la, _ := limited(t, 1)
	resp, ec := await(t, ctxA, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/a"), nil)
	if ec != nil {
		t.Fatalf("app A: %v", (&ErrorCode{Code: *ec}).Error())
	}
	readAll(t, resp)
	if st := la.Stats(); st.Open != 1 {
		t.Errorf("app A's pooled connection does not hold its slot: %+v", st)
	}

	ctxB, _, _ := limited(t, 0)
	_, ec = await(t, ctxB, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/b"), nil)
	if ec == nil || ec.Case != ecConnectionLimitReached {
		t.Errorf("app B: error-code %#v, want connection-limit-reached", ec)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

// An app's transport goes when its ConnLimit is no longer used.
func TestOutboundConnLimitTransportReleased(t *testing.T) {
	p, err := outbound.NewPolicy([]string{"http://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	key := func() transportKey {
		l := outbound.NewConnLimit(1)
		guestTransport(p.WithConnLimit(l))
		k := transportKey{blocked: p.Blocked().String(), limit: weak.Make(l)}
		if _, ok := guestTransports.Load(k); !ok {
			t.Fatal("no transport stored for the limit")
		}
		return k
	}()
	waitFor(t, "the transport is dropped", func() bool {
		runtime.GC()
		_, ok := guestTransports.Load(key)
		return !ok
	})
}
