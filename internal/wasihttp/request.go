package wasihttp

import (
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// method cases, in WIT order; other(string) is last.
var methodNames = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch,
}

const methodOther = uint32(9)

// methodVariant converts an HTTP method (case-sensitive, as the http
// crate compares it) to the method variant.
func methodVariant(m string) cabi.Variant {
	for i, n := range methodNames {
		if m == n {
			return cabi.Variant{Case: uint32(i)}
		}
	}
	return cabi.Variant{Case: methodOther, Value: m}
}

// methodString converts a method variant; ok is false for a malformed one.
func methodString(v cabi.Variant) (string, bool) {
	if int(v.Case) < len(methodNames) {
		return methodNames[v.Case], true
	}
	if v.Case != methodOther {
		return "", false
	}
	s, ok := v.Value.(string)
	return s, ok && validFieldName(s) // a method is a token
}

// scheme cases.
const (
	schemeHTTP uint32 = iota
	schemeHTTPS
	schemeOther
)

func schemeVariant(s string) cabi.Variant {
	switch strings.ToLower(s) {
	case "http":
		return cabi.Variant{Case: schemeHTTP}
	case "https":
		return cabi.Variant{Case: schemeHTTPS}
	}
	return cabi.Variant{Case: schemeOther, Value: s}
}

func schemeString(v cabi.Variant) (string, bool) {
	switch v.Case {
	case schemeHTTP:
		return "http", true
	case schemeHTTPS:
		return "https", true
	case schemeOther:
		s, ok := v.Value.(string)
		return s, ok && validScheme(s)
	}
	return "", false
}

// validScheme is RFC 3986's scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !alpha && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// IncomingRequest is the Go value of the incoming-request resource the
// executor hands to the guest's handle.
type IncomingRequest struct {
	method        string
	pathWithQuery string
	scheme        string
	authority     string
	headers       *fieldList
	body          *IncomingBody // nil once consumed
	origBody      *IncomingBody
}

// NewIncomingRequest converts r for a guest. header replaces r.Header
// when not nil; forbidden headers are dropped, as wasmtime drops them.
// The body is read only when the guest reads it.
func NewIncomingRequest(r *http.Request, header http.Header) *IncomingRequest {
	if header == nil {
		header = r.Header
	}
	return NewIncomingRequestWith(r, header, nil, nil)
}

// NewIncomingRequestWith is NewIncomingRequest for an executor that adds
// headers of its own without copying the request's: the guest sees
// header's fields except those hide reports (nil hides none), then extra
// (Spin's metadata headers, for instance). Neither header nor extra is
// retained.
func NewIncomingRequestWith(r *http.Request, header http.Header, hide func(name string) bool, extra [][2]string) *IncomingRequest {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	pq := r.RequestURI
	if !strings.HasPrefix(pq, "/") {
		// Absolute-form, "*", or a request built in-process.
		pq = r.URL.RequestURI()
	}
	authority := r.Host
	if authority == "" {
		authority = r.URL.Host
	}
	var src io.Reader
	if r.Body != nil && r.Body != http.NoBody {
		src = r.Body
	}
	body := newIncomingBody(src)
	if src != nil {
		body.trailer = func() http.Header { return r.Trailer }
	}
	req := &IncomingRequest{
		method:        r.Method,
		pathWithQuery: pq,
		scheme:        scheme,
		authority:     authority,
		headers:       newFieldList(header, hide, extra),
		body:          body,
		origBody:      body,
	}
	return req
}

// Body returns the request's body for the executor: to learn whether
// reading it failed (Err), and to stop it once the guest is done.
func (r *IncomingRequest) Body() *IncomingBody { return r.origBody }

// Close stops the body pump and reports whether it is still blocked in a
// read of the source (the executor then unblocks it with a read deadline
// and waits for it with Wait).
func (b *IncomingBody) Close() (stillReading bool) {
	b.p.closeRead(errBodyDropped)
	return b.pumping()
}

// Wait waits up to d for the pump to stop; it reports whether it did.
func (b *IncomingBody) Wait(d time.Duration) bool {
	if !b.pumping() {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.done:
		return true
	case <-t.C:
		return false
	}
}

func (r *IncomingRequest) consume() (*IncomingBody, bool) {
	b := r.body
	r.body = nil
	return b, b != nil
}

// Drop releases the body if the guest never consumed it.
func (r *IncomingRequest) Drop() {
	if r.body != nil {
		r.body.Drop()
	}
}

// OutgoingRequest is the Go value of an outgoing-request resource.
type OutgoingRequest struct {
	method        cabi.Variant
	pathWithQuery *string
	scheme        *cabi.Variant
	authority     *string
	headers       *fieldList
	body          *OutgoingBody
}

func newOutgoingRequest(h *Fields) *OutgoingRequest {
	return &OutgoingRequest{method: cabi.Variant{Case: 0}, headers: h.take()}
}

// contentLength parses the declared content-length: -1 if there is none;
// ok is false if it is malformed (body() then fails, as in wasmtime).
func contentLength(l *fieldList) (int64, bool) {
	vals := l.get("content-length")
	if len(vals) == 0 {
		return -1, true
	}
	if len(vals) > 1 {
		return 0, false
	}
	s := string(vals[0])
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (r *OutgoingRequest) takeBody() (*OutgoingBody, bool) {
	if r.body != nil {
		return nil, false
	}
	n, ok := contentLength(r.headers)
	if !ok {
		return nil, false
	}
	r.body = newOutgoingBody(false, n)
	return r.body, true
}

// validAuthority is what set-authority accepts: host[:port] with a valid
// port when there is a colon (wasmtime checks the http crate's Authority
// and the port), and no userinfo.
func validAuthority(s string) bool {
	if s == "" {
		return true // the http crate accepts an empty authority
	}
	if strings.ContainsAny(s, "/?#@ \t\r\n\\") {
		return false
	}
	port := ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		if _, err := netip.ParseAddr(s[1:end]); err != nil {
			return false
		}
		port = s[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		port = s[i:]
	}
	if port != "" {
		if _, err := strconv.ParseUint(port[1:], 10, 16); err != nil {
			return false
		}
	}
	return true
}

// validPathWithQuery is the http crate's PathAndQuery: no spaces, control
// characters or fragment.
func validPathWithQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' {
			return false
		}
	}
	return true
}

// RequestOptions is the Go value of a request-options resource; nil
// durations mean the host default.
type RequestOptions struct {
	connect, firstByte, betweenBytes *uint64 // nanoseconds
}

func optDuration(d *uint64) cabi.Option {
	if d == nil {
		return cabi.None
	}
	return cabi.Some(*d)
}

func durationOr(d *uint64, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	if *d > uint64(1<<63-1) {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(*d)
}
