package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// outRequest builds an outgoing request the way a guest does.
func outRequest(t *testing.T, method cabi.Variant, scheme uint32, authority, pq string, hdrs ...[2]string) *OutgoingRequest {
	t.Helper()
	h := mustOk(t, call(t, "[static]fields.from-list", list(hdrs...))).(*Fields)
	req := call(t, "[constructor]outgoing-request", h).(*OutgoingRequest)
	mustOk(t, call(t, "[method]outgoing-request.set-method", req, method))
	mustOk(t, call(t, "[method]outgoing-request.set-scheme", req, cabi.Some(cabi.Variant{Case: scheme})))
	if authority != "" {
		mustOk(t, call(t, "[method]outgoing-request.set-authority", req, cabi.Some(authority)))
	}
	mustOk(t, call(t, "[method]outgoing-request.set-path-with-query", req, cabi.Some(pq)))
	return req
}

// await sends req and waits for the future: the response or the error-code.
func await(t *testing.T, ctx context.Context, req *OutgoingRequest, opts any) (*IncomingResponse, *cabi.Variant) {
	t.Helper()
	if opts == nil {
		opts = cabi.None
	}
	fut := mustOk(t, callCtx(t, ctx, "handle", req, opts)).(*FutureIncomingResponse)
	bctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := call(t, "[method]future-incoming-response.subscribe", fut).(wasiio.Pollable).Block(bctx); err != nil {
		t.Fatal(err)
	}
	got := call(t, "[method]future-incoming-response.get", fut).(cabi.Option)
	if again := call(t, "[method]future-incoming-response.get", fut).(cabi.Option); !again.Value.(cabi.Result).IsErr {
		t.Error("second get did not fail")
	}
	inner := got.Value.(cabi.Result).Value.(cabi.Result)
	if inner.IsErr {
		v := inner.Value.(cabi.Variant)
		return nil, &v
	}
	return inner.Value.(*IncomingResponse), nil
}

func readAll(t *testing.T, resp *IncomingResponse) string {
	t.Helper()
	body := mustOk(t, call(t, "[method]incoming-response.consume", resp)).(*IncomingBody)
	s := mustOk(t, call(t, "[method]incoming-body.stream", body)).(wasiio.InputStream)
	var sb strings.Builder
	for {
		b, err := s.BlockingRead(context.Background(), 4096)
		if errors.Is(err, wasiio.ErrClosed) {
			return sb.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
	}
}

// granted returns a context carrying the policy allowed_outbound_hosts =
// hosts, as the outbound-networking factor prepares it, and o (if not nil).
func granted(t *testing.T, o *Outbound, hosts ...string) context.Context {
	t.Helper()
	p, err := outbound.NewPolicy(hosts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := outbound.WithPolicy(context.Background(), p)
	if o != nil {
		ctx = WithOutbound(ctx, o)
	}
	return ctx
}

func TestOutboundAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Got", r.Header.Get("X-Guest"))
		w.Header().Set("Content-Encoding", "identity-test")
		w.WriteHeader(201)
		io.WriteString(w, "echo:"+string(b)+":"+r.URL.RequestURI())
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	ctx := granted(t, nil, "http://127.0.0.1:*")

	req := outRequest(t, cabi.Variant{Case: 2}, schemeHTTP, u.Host, "/p?q=1", [2]string{"x-guest", "hi"})
	body := mustOk(t, call(t, "[method]outgoing-request.body", req)).(*OutgoingBody)
	s, _ := body.write()
	s.Write([]byte("payload"))
	mustOk(t, call(t, "[static]outgoing-body.finish", body, cabi.None))
	resp, ec := await(t, ctx, req, nil)
	if ec != nil {
		t.Fatalf("error-code %v", (&ErrorCode{Code: *ec}).Error())
	}
	if st := call(t, "[method]incoming-response.status", resp); st != uint16(201) {
		t.Errorf("status %v", st)
	}
	h := call(t, "[method]incoming-response.headers", resp).(*Fields)
	if got := h.Get("x-method"); string(got[0]) != "POST" {
		t.Errorf("method %q", got)
	}
	if got := h.Get("x-got"); string(got[0]) != "hi" {
		t.Errorf("header %q", got)
	}
	if got := headerErr(t, call(t, "[method]fields.append", h, "x", []byte("y"))); got != headerErrImmutable {
		t.Error("incoming-response headers are mutable")
	}
	if got := readAll(t, resp); got != "echo:payload:/p?q=1" {
		t.Errorf("body %q", got)
	}
	if r := call(t, "[method]incoming-response.consume", resp).(cabi.Result); !r.IsErr {
		t.Error("consume twice")
	}
}

func TestOutboundDenied(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	for name, ctx := range map[string]context.Context{
		"no policy":      context.Background(),
		"plumbing only":  WithOutbound(context.Background(), &Outbound{}),
		"empty":          granted(t, &Outbound{}),
		"other host":     granted(t, &Outbound{}, "http://example.com:*"),
		"other port":     granted(t, &Outbound{}, "http://127.0.0.1:1"),
		"other scheme":   granted(t, &Outbound{}, "https://127.0.0.1:*"),
		"self not given": granted(t, &Outbound{}, "http://self"),
	} {
		authority := u.Host
		if name == "self not given" {
			authority = ""
		}
		req := outRequest(t, cabi.Variant{Case: 0}, schemeHTTP, authority, "/")
		_, ec := await(t, ctx, req, nil)
		if ec == nil || ec.Case != ecHTTPRequestDenied {
			t.Errorf("%s: error-code %#v, want HTTP-request-denied", name, ec)
		}
	}
	if hits != 0 {
		t.Errorf("server got %d requests", hits)
	}
}

func TestOutboundTimeouts(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Write([]byte("first"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	u, _ := url.Parse(srv.URL)
	ctx := granted(t, nil, "http://127.0.0.1:*")

	opts := call(t, "[constructor]request-options").(*RequestOptions)
	if got := call(t, "[method]request-options.first-byte-timeout", opts); got != cabi.None {
		t.Errorf("default timeout %v", got)
	}
	mustOk(t, call(t, "[method]request-options.set-first-byte-timeout", opts, cabi.Some(uint64(100*time.Millisecond))))
	mustOk(t, call(t, "[method]request-options.set-between-bytes-timeout", opts, cabi.Some(uint64(100*time.Millisecond))))
	mustOk(t, call(t, "[method]request-options.set-connect-timeout", opts, cabi.Some(uint64(time.Second))))
	if got := call(t, "[method]request-options.between-bytes-timeout", opts); got != cabi.Some(uint64(100*time.Millisecond)) {
		t.Errorf("between-bytes %v", got)
	}
	// Pending: get has nothing yet.
	pending := mustOk(t, callCtx(t, ctx, "handle", outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/slow"), cabi.None)).(*FutureIncomingResponse)
	if g := call(t, "[method]future-incoming-response.get", pending).(cabi.Option); g.Some {
		t.Errorf("get of a pending request = %#v", g)
	}
	pending.Drop() // cancels it

	start := time.Now()
	_, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/slow"), cabi.Some(opts))
	if ec == nil || ec.Case != ecConnectionReadTimeout {
		t.Errorf("first byte: error-code %#v", ec)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}

	resp, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, u.Host, "/slow-body"), cabi.Some(opts))
	if ec != nil {
		t.Fatalf("slow body: %#v", ec)
	}
	body, _ := resp.consume()
	s, _ := body.stream()
	var err error
	for err == nil {
		_, err = s.BlockingRead(context.Background(), 100)
	}
	if got := httpErrorCode(err); !got.Some || got.Value.(cabi.Variant).Case != ecConnectionReadTimeout {
		t.Errorf("between bytes: %v", err)
	}
}

func TestOutboundChainingAndSelf(t *testing.T) {
	backend := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Client", r.RemoteAddr)
		w.WriteHeader(202)
		io.WriteString(w, "backend "+r.Method+" "+r.URL.RequestURI())
	})
	o := &Outbound{}
	o.Chain = func(id string) (http.Handler, bool) { return backend, id == "backend" }
	o.Self = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "self "+r.URL.Path) })
	o.Transport = roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Error("chained request went to the network")
		return nil, errors.New("no network")
	})
	ctx := granted(t, o, "http://*.spin.internal", "http://self")

	resp, ec := await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "backend.spin.internal", "/x?y=1"), nil)
	if ec != nil {
		t.Fatalf("chain: %#v", ec)
	}
	if resp.status != 202 || readAll(t, resp) != "backend GET /x?y=1" {
		t.Errorf("chain: status %d", resp.status)
	}
	if got := resp.headers.get("x-client"); string(got[0]) != chainedClientAddr {
		t.Errorf("client addr %q", got)
	}
	_, ec = await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "nobody.spin.internal", "/"), nil)
	if ec == nil || ec.Case != ecDestinationNotFound {
		t.Errorf("unknown component: %#v", ec)
	}
	resp, ec = await(t, ctx, outRequest(t, cabi.Variant{}, schemeHTTP, "", "/me"), nil)
	if ec != nil || readAll(t, resp) != "self /me" {
		t.Errorf("self: %#v", ec)
	}

	// Chaining needs the grant like any host.
	_, ec = await(t, granted(t, o, "http://other.spin.internal"), outRequest(t, cabi.Variant{}, schemeHTTP, "backend.spin.internal", "/"), nil)
	if ec == nil || ec.Case != ecHTTPRequestDenied {
		t.Errorf("ungranted chain: %#v", ec)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestOutgoingRequestSetters(t *testing.T) {
	req := call(t, "[constructor]outgoing-request", NewFields()).(*OutgoingRequest)
	if m := call(t, "[method]outgoing-request.method", req); m != (cabi.Variant{Case: 0}) {
		t.Errorf("default method %v", m)
	}
	for _, tc := range []struct {
		fn   string
		arg  any
		okay bool
	}{
		{"set-method", cabi.Variant{Case: methodOther, Value: "PURGE"}, true},
		{"set-method", cabi.Variant{Case: methodOther, Value: "BAD METHOD"}, false},
		{"set-scheme", cabi.Some(cabi.Variant{Case: schemeOther, Value: "ftp"}), true},
		{"set-scheme", cabi.Some(cabi.Variant{Case: schemeOther, Value: "1bad"}), false},
		{"set-scheme", cabi.None, true},
		{"set-authority", cabi.Some("example.com:8080"), true},
		{"set-authority", cabi.Some("[::1]:80"), true},
		{"set-authority", cabi.Some("example.com:"), false},
		{"set-authority", cabi.Some("example.com:99999"), false},
		{"set-authority", cabi.Some("user@example.com"), false},
		{"set-path-with-query", cabi.Some("/a?b=c"), true},
		{"set-path-with-query", cabi.Some("/a b"), false},
		{"set-path-with-query", cabi.None, true},
	} {
		r := call(t, "[method]outgoing-request."+tc.fn, req, tc.arg).(cabi.Result)
		if r.IsErr == tc.okay {
			t.Errorf("%s(%v) ok=%v", tc.fn, tc.arg, !r.IsErr)
		}
	}
	if a := call(t, "[method]outgoing-request.authority", req); a != cabi.Some("[::1]:80") {
		t.Errorf("authority %v", a)
	}
	if pq := call(t, "[method]outgoing-request.path-with-query", req); pq != cabi.None {
		t.Errorf("path %v", pq)
	}
	if s := call(t, "[method]outgoing-request.scheme", req); s != cabi.None {
		t.Errorf("scheme %v", s)
	}
	mustOk(t, call(t, "[method]outgoing-request.body", req))
	if r := call(t, "[method]outgoing-request.body", req).(cabi.Result); !r.IsErr {
		t.Error("body twice")
	}
}
