package wasihttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// DefaultTimeout is Spin's default for each request-options timeout.
const DefaultTimeout = 600 * time.Second

// Outbound is the outbound HTTP plumbing of one component. It is built
// once per component and shared by its instances. What the component may
// reach is not here: it is the outbound.Policy in the call's context
// (outbound.FromContext, put there by the outbound-networking factor);
// without one every request is denied.
type Outbound struct {
	// Chain returns the HTTP handler of another component of the app, for
	// Spin's local service chaining (http://<id>.spin.internal/...): the
	// request is dispatched in-process, never over the network.
	Chain func(componentID string) (http.Handler, bool)
	// Self serves the app's own routes, for requests to "self" (a URL
	// without authority, or the host self.alt), in-process.
	Self http.Handler
	// Transport sends the other requests; nil uses a transport made for
	// guests (no proxy from the environment, no transparent gzip, the
	// request-options connect timeout, connections dialed through the
	// policy so blocked networks are refused after DNS resolution). A
	// Transport given here dials as it likes: tests only.
	Transport http.RoundTripper
	// Logf, if set, receives host messages (denied requests).
	Logf func(format string, args ...any)
}

type outboundKey struct{}

// WithOutbound returns ctx carrying the plumbing that
// outgoing-handler.handle uses for calls made with it (service chaining,
// self requests, the transport). Without it, requests to the network still
// go out if the policy allows them; chaining and self requests fail.
func WithOutbound(ctx context.Context, o *Outbound) context.Context {
	return context.WithValue(ctx, outboundKey{}, o)
}

func outboundFrom(ctx context.Context) *Outbound {
	o, _ := ctx.Value(outboundKey{}).(*Outbound)
	return o
}

type connectTimeoutKey struct{}

// guestTransports are the transports guests share, one per block list
// (outbound.BlockedNetworks.String()) and connection limit: connections
// are pooled by destination, and a connection dialed under one app's
// blocked networks is never reused under another's, nor one holding a slot
// of one app's ConnLimit by another app (which would use a connection its
// own limit never counted, and keep the first app's slot busy). Each
// request's allowlist check happens before it reaches the transport, so
// sharing a pool between components (and apps) with the same block list
// and limit grants nothing.
var guestTransports sync.Map // transportKey → *http.Transport

// transportKey picks a shared transport. The limit is held weakly so that
// an app's transport goes away with its ConnLimit (see guestTransport).
type transportKey struct {
	blocked string
	limit   weak.Pointer[outbound.ConnLimit] // zero: unlimited
}

// guestTransport returns the shared transport for policies blocking and
// limiting as p does. Its dialer takes the policy and the connect timeout
// from the request's context.
func guestTransport(p *outbound.Policy) *http.Transport {
	l := p.ConnLimit()
	key := transportKey{blocked: p.Blocked().String(), limit: weak.Make(l)}
	if t, ok := guestTransports.Load(key); ok {
		return t.(*http.Transport)
	}
	t, loaded := guestTransports.LoadOrStore(key, &http.Transport{
		Proxy:                 nil,
		DialContext:           dialGuest,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		// The guest sees the bytes the server sent, Content-Encoding
		// and all, as with Spin.
		DisableCompression: true,
	})
	if !loaded && l != nil {
		// The pooled connections hold l (their slots) until they close,
		// so l becomes unreachable once its app is gone and its idle
		// connections have timed out; then the transport is dropped.
		runtime.AddCleanup(l, func(k transportKey) {
			if t, ok := guestTransports.LoadAndDelete(k); ok {
				t.(*http.Transport).CloseIdleConnections()
			}
		}, key)
	}
	return t.(*http.Transport)
}

// dialGuest dials through the request's outbound policy, which refuses
// addresses in blocked networks after DNS resolution (Spin's
// destination-IP-prohibited) and dials beyond the app's connection limit
// (as Spin: connection-timeout when the wait for a slot ran out of
// connect timeout, connection-limit-reached otherwise).
func dialGuest(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second}
	if t, ok := ctx.Value(connectTimeoutKey{}).(time.Duration); ok {
		d.Timeout = t
	}
	c, err := outbound.FromContext(ctx).DialWith(ctx, &d, network, addr)
	var ne net.Error
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, outbound.ErrBlocked):
		return nil, &refusedError{errorCode(ecDestinationIPProhibited, nil), err}
	case errors.Is(err, outbound.ErrConnectionLimit) && errors.As(err, &ne) && ne.Timeout():
		return nil, &refusedError{errorCode(ecConnectionTimeout, nil), err}
	case errors.Is(err, outbound.ErrConnectionLimit):
		return nil, &refusedError{errorCode(ecConnectionLimitReached, nil), err}
	case errors.As(err, &ne) && ne.Timeout():
		return nil, errorCode(ecConnectionTimeout, nil)
	}
	return nil, err
}

// refusedError is the error-code of a dial the policy refused (blocked
// network, connection limit) that keeps the reason for the host's log.
type refusedError struct {
	*ErrorCode
	reason error
}

func (e *refusedError) Unwrap() []error { return []error{e.ErrorCode, e.reason} }

// handle implements outgoing-handler.handle. As in Spin, a denied or
// failed request still returns a future; the future resolves with the
// error-code.
func handle(ctx context.Context, req *OutgoingRequest, opts *RequestOptions) (cabi.Result, error) {
	o := outboundFrom(ctx)
	if o == nil {
		o = &Outbound{}
	}
	p := outbound.FromContext(ctx)
	var connect, firstByte, between *uint64
	if opts != nil {
		connect, firstByte, between = opts.connect, opts.firstByte, opts.betweenBytes
	}
	rctx, cancel := context.WithCancelCause(ctx)
	// net/http dials under a context detached from rctx's cancellation
	// (the connection may serve a later request), so without the bound a
	// request given up (future dropped, call over, first-byte timeout)
	// would leave its dial waiting for a connection slot up to the
	// connect timeout, taking a waiting place of the app's ConnLimit.
	rctx = outbound.WithWaitBound(rctx)
	fut := newFuture(cancel)

	hreq, target, ec := buildRequest(rctx, req)
	if ec == nil {
		ec = o.check(p, target)
	}
	if ec != nil {
		cancel(ec)
		fut.resolve(nil, ec)
		return cabi.Ok(fut), nil
	}

	rctx = context.WithValue(rctx, connectTimeoutKey{}, durationOr(connect, DefaultTimeout))
	hreq = hreq.WithContext(rctx)
	go fut.run(rctx, cancel, o, p, hreq, target, durationOr(firstByte, DefaultTimeout), durationOr(between, DefaultTimeout))
	return cabi.Ok(fut), nil
}

// target is where an outbound request goes.
type target struct {
	self      bool   // the app itself
	component string // a component, by service chaining
	scheme    string
	host      string
	port      int
}

// buildRequest converts the guest's request to an http.Request.
func buildRequest(ctx context.Context, r *OutgoingRequest) (*http.Request, target, *ErrorCode) {
	var t target
	method, ok := methodString(r.method)
	if !ok {
		return nil, t, errorCode(ecHTTPRequestMethodInvalid, nil)
	}
	t.scheme = "https" // Spin's default when the guest gives none
	if r.scheme != nil {
		s, ok := schemeString(*r.scheme)
		if !ok || (s != "http" && s != "https") {
			return nil, t, errorCode(ecHTTPProtocolError, nil)
		}
		t.scheme = s
	}
	pq := "/"
	if r.pathWithQuery != nil && *r.pathWithQuery != "" {
		pq = *r.pathWithQuery
	}
	if !strings.HasPrefix(pq, "/") {
		return nil, t, errorCode(ecHTTPRequestURIInvalid, nil)
	}
	authority := ""
	if r.authority != nil {
		authority = *r.authority
	}
	u, err := url.Parse(t.scheme + "://" + authority + pq)
	if err != nil {
		return nil, t, errorCode(ecHTTPRequestURIInvalid, nil)
	}
	t.host = u.Hostname()
	if p := u.Port(); p != "" {
		if t.port, err = strconv.Atoi(p); err != nil || t.port < 0 || t.port > 65535 {
			return nil, t, errorCode(ecHTTPRequestURIInvalid, nil)
		}
	}
	switch {
	case authority == "" || strings.EqualFold(t.host, "self.alt"):
		t.self = true
	case strings.HasSuffix(strings.ToLower(t.host), outbound.ServiceChainingSuffix):
		id := strings.TrimSuffix(strings.ToLower(t.host), outbound.ServiceChainingSuffix)
		if id == "" || strings.Contains(id, ".") {
			return nil, t, errorCode(ecDestinationNotFound, nil)
		}
		t.component = id
	}

	var body io.ReadCloser = http.NoBody
	length := int64(0)
	if b := r.body; b != nil {
		body, length = b.reader(ctx), b.declared
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, t, errorCode(ecHTTPRequestURIInvalid, nil)
	}
	hreq.ContentLength = length
	if body == http.NoBody {
		hreq.ContentLength = 0
	}
	hreq.Header = r.headers.header()
	// Some servers reject a Host header next to the authority (Spin
	// removes it too); forbidden names cannot be in it anyway.
	hreq.Header.Del("Host")
	hreq.Header.Del("Content-Length")
	return hreq, t, nil
}

// check applies the component's allowed_outbound_hosts (p; nil denies
// everything). Blocked networks are applied when the transport dials.
func (o *Outbound) check(p *outbound.Policy, t target) *ErrorCode {
	var allowed bool
	switch {
	case t.self:
		allowed = p.AllowsRelative("http", "https") && o.Self != nil
	default:
		allowed = p.Allows(t.scheme, t.host, t.port)
	}
	if !allowed {
		if o.Logf != nil {
			dest := "self"
			if !t.self {
				dest = t.scheme + "://" + t.host
			}
			o.Logf("outbound HTTP request to %s denied: not in allowed_outbound_hosts", dest)
		}
		return errorCode(ecHTTPRequestDenied, nil)
	}
	return nil
}

// run sends the request and resolves the future. Like Spin, wasi:http
// does not follow redirects: RoundTrip (not http.Client) hands the guest
// the 3xx, and a request the guest then makes to the Location goes through
// handle, and so through the allowlist, again.
func (f *FutureIncomingResponse) run(ctx context.Context, cancel context.CancelCauseFunc, o *Outbound, p *outbound.Policy, req *http.Request, t target, firstByte, between time.Duration) {
	timer := time.AfterFunc(firstByte, func() { cancel(errTimeout) })
	var resp *http.Response
	var err error
	switch {
	case t.self:
		resp, err = dispatch(ctx, o.Self, req)
	case t.component != "":
		h, ok := (http.Handler)(nil), false
		if o.Chain != nil {
			h, ok = o.Chain(t.component)
		}
		if !ok {
			timer.Stop()
			f.resolve(nil, errorCode(ecDestinationNotFound, nil))
			return
		}
		resp, err = dispatch(ctx, h, req)
	default:
		rt := o.Transport
		if rt == nil {
			rt = guestTransport(p)
		}
		resp, err = rt.RoundTrip(req)
	}
	timedOut := !timer.Stop()
	if err != nil {
		var refused *refusedError
		if errors.As(err, &refused) && o.Logf != nil {
			o.Logf("outbound HTTP request to %s://%s refused: %v", t.scheme, req.URL.Host, refused.reason)
		}
		ec := asErrorCode(err)
		if timedOut || errors.Is(context.Cause(ctx), errTimeout) {
			ec = errorCode(ecConnectionReadTimeout, nil)
		}
		cancel(err)
		f.resolve(nil, ec)
		return
	}
	body := newIncomingBody(resp.Body)
	body.closeSrc = func() error { cancel(errBodyDropped); return resp.Body.Close() }
	body.trailer = func() http.Header { return resp.Trailer }
	body.betweenBytes, body.cancel = between, cancel
	ir := &IncomingResponse{
		status:  uint16(resp.StatusCode),
		headers: fieldsFromHeader(resp.Header, true).list,
		body:    body,
	}
	if !f.resolve(ir, nil) {
		body.close()
	}
}
