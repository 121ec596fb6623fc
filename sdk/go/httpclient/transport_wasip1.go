//go:build wasip1

package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
	"github.com/wisp-dev/wisp/sdk/go/internal/wasi"
)

func init() { http.DefaultTransport = &Transport{} }

var methodCases = map[string]uint32{
	http.MethodGet: 0, http.MethodHead: 1, http.MethodPost: 2, http.MethodPut: 3, http.MethodDelete: 4,
	http.MethodConnect: 5, http.MethodOptions: 6, http.MethodTrace: 7, http.MethodPatch: 8,
}

// RoundTrip sends req and returns the response, whose Body streams from the
// host.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.roundTrip(req)
	if req.Body != nil {
		req.Body.Close()
	}
	return resp, err
}

func (t *Transport) roundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		return nil, errors.New("httpclient: nil Request.URL")
	}
	scheme := strings.ToLower(req.URL.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("httpclient: unsupported protocol scheme %q", req.URL.Scheme)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	authority := req.Host
	if authority == "" {
		authority = req.URL.Host
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}

	header := req.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody && req.ContentLength > 0 {
		// The host's body stream enforces the declared length.
		header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}

	outReq := wasi.NewOutgoingRequest(wasi.NewFields(header)) // takes the fields
	ok := setRequest(outReq, method, req.URL.RequestURI(), scheme, authority)
	if !ok {
		wasi.DropOutgoingRequest(outReq)
		return nil, fmt.Errorf("httpclient: invalid request %s %s", method, req.URL.Redacted())
	}
	var outBody uint32
	if hasBody {
		m := cabi.Save()
		ret := cabi.Alloc(8, 4)
		wasi.OutgoingRequestBody(outReq, ret) // result<outgoing-body>
		if cabi.U8(ret, 0) == 0 {
			outBody = cabi.U32(ret, 4)
		}
		cabi.Release(m)
		if outBody == 0 {
			wasi.DropOutgoingRequest(outReq)
			return nil, errors.New("httpclient: no request body")
		}
	}

	future, err := send(outReq, requestOptions(req))
	if err != nil {
		if outBody != 0 {
			wasi.DropOutgoingBody(outBody)
		}
		return nil, err
	}
	var w *bodyWriter
	if outBody != 0 {
		if w, err = startBody(outBody, req.Body); err != nil {
			wasi.DropFutureIncomingResponse(future)
			return nil, err
		}
	}
	resp, err := await(future, w)
	if err != nil {
		if w != nil && w.err != nil {
			return nil, fmt.Errorf("%w (sending the request body: %v)", err, w.err)
		}
		return nil, err
	}
	resp.Request = req
	return resp, nil
}

// setRequest sets the method, path, scheme and authority of an
// outgoing-request; false if the host refused one.
func setRequest(r uint32, method, pathWithQuery, scheme, authority string) bool {
	m := cabi.Save()
	defer cabi.Release(m)
	ok := true
	if c, known := methodCases[method]; known {
		ok = ok && wasi.OutgoingRequestSetMethod(r, c, 0, 0) == 0
	} else {
		p, n := cabi.PutString(method)
		ok = ok && wasi.OutgoingRequestSetMethod(r, 9, p, n) == 0
	}
	p, n := cabi.PutString(pathWithQuery)
	ok = ok && wasi.OutgoingRequestSetPathWithQuery(r, 1, p, n) == 0
	sc := uint32(0)
	if scheme == "https" {
		sc = 1
	}
	ok = ok && wasi.OutgoingRequestSetScheme(r, 1, sc, 0, 0) == 0
	p, n = cabi.PutString(authority)
	ok = ok && wasi.OutgoingRequestSetAuthority(r, 1, p, n) == 0
	return ok
}

// requestOptions turns the context's deadline into connect and first-byte
// timeouts; 0 means none (the host's defaults).
func requestOptions(req *http.Request) uint32 {
	deadline, ok := req.Context().Deadline()
	if !ok {
		return 0
	}
	d := uint64(max(time.Until(deadline), time.Millisecond))
	opts := wasi.NewRequestOptions()
	wasi.RequestOptionsSetConnectTimeout(opts, 1, d)
	wasi.RequestOptionsSetFirstByteTimeout(opts, 1, d)
	return opts
}

// send calls outgoing-handler.handle, which takes the request and options.
func send(outReq, opts uint32) (uint32, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(40, 8) // result<future-incoming-response, error-code>
	hasOpts := uint32(0)
	if opts != 0 {
		hasOpts = 1
	}
	wasi.OutgoingHandlerHandle(outReq, hasOpts, opts, ret)
	if cabi.U8(ret, 0) != 0 {
		return 0, errorCode(ret + 8)
	}
	return cabi.U32(ret, 8), nil
}

// startBody takes the outgoing-body's stream for a bodyWriter.
func startBody(outBody uint32, body io.Reader) (*bodyWriter, error) {
	m := cabi.Save()
	ret := cabi.Alloc(8, 4)
	wasi.OutgoingBodyWrite(outBody, ret) // result<output-stream>
	stream := cabi.U32(ret, 4)
	failed := cabi.U8(ret, 0) != 0
	cabi.Release(m)
	if failed {
		wasi.DropOutgoingBody(outBody)
		return nil, errors.New("httpclient: no request body stream")
	}
	return newBodyWriter(outBody, stream, body), nil
}

// await sends the request body (w, if any) until the response head
// arrives, and converts the head. A body not sent whole by then goes on
// being sent as the response body is read.
func await(future uint32, w *bodyWriter) (*http.Response, error) {
	defer wasi.DropFutureIncomingResponse(future)
	pollable := wasi.FutureIncomingResponseSubscribe(future)
	for w != nil && !w.done && wasi.PollableReady(pollable) == 0 {
		if !w.step() {
			wasi.WaitAny(pollable, w.pollable())
		}
	}
	wasi.PollableBlock(pollable)
	wasi.DropPollable(pollable)

	m := cabi.Save()
	defer cabi.Release(m)
	// option<result<result<incoming-response, error-code>>>
	ret := cabi.Alloc(56, 8)
	wasi.FutureIncomingResponseGet(future, ret)
	switch {
	case cabi.U8(ret, 0) == 0:
		return nil, errors.New("httpclient: response not ready after the pollable was")
	case cabi.U8(ret, 8) != 0:
		return nil, errors.New("httpclient: response already taken")
	case cabi.U8(ret, 16) != 0:
		return nil, errorCode(ret + 24)
	}
	in := cabi.U32(ret, 24)
	fields := wasi.IncomingResponseHeaders(in)
	header := wasi.ReadFields(fields)
	wasi.DropFields(fields)
	status := int(wasi.IncomingResponseStatus(in))

	body := &responseBody{response: in, writer: w}
	wasi.IncomingResponseConsume(in, ret) // result<incoming-body>
	if cabi.U8(ret, 0) == 0 {
		body.incoming = cabi.U32(ret, 4)
		wasi.IncomingBodyStream(body.incoming, ret) // result<input-stream>
		if cabi.U8(ret, 0) == 0 {
			body.stream = cabi.U32(ret, 4)
		}
	}
	if body.stream == 0 {
		body.Close()
		return nil, errors.New("httpclient: no response body stream")
	}
	resp := &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          body,
		ContentLength: -1,
	}
	if cl, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && cl >= 0 {
		resp.ContentLength = cl
	}
	return resp, nil
}

// responseBody streams an incoming-body. The stream, body and response
// resources are dropped at EOF or Close, whichever comes first.
type responseBody struct {
	response, incoming, stream uint32
	ready                      uint32      // the stream's pollable, while writer sends
	writer                     *bodyWriter // the request body, if not sent whole yet
	err                        error
}

var errClosed = errors.New("httpclient: read on closed response body")

func (b *responseBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.read(p)
	if err != nil {
		b.release()
		b.err = err
		if err != io.EOF {
			b.err = fmt.Errorf("httpclient: reading the response body: %w", err)
		}
	}
	return n, b.err
}

// read reads with blocking-read, or, while the request body is still
// being sent, alternates between sending and reading what has arrived.
func (b *responseBody) read(p []byte) (int, error) {
	for b.writer != nil && !b.writer.done {
		n, err := wasi.ReadStreamNow(b.stream, p)
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
		if !b.writer.step() {
			if b.ready == 0 {
				b.ready = wasi.InputStreamSubscribe(b.stream)
			}
			wasi.WaitAny(b.ready, b.writer.pollable())
		}
	}
	return wasi.ReadStream(b.stream, p)
}

func (b *responseBody) Close() error {
	b.release()
	if b.err == nil {
		b.err = errClosed
	}
	return nil
}

func (b *responseBody) release() {
	if b.writer != nil && !b.writer.done {
		b.writer.abort(errClosed)
	}
	if b.ready != 0 {
		wasi.DropPollable(b.ready)
		b.ready = 0
	}
	if b.stream != 0 {
		wasi.DropInputStream(b.stream)
		b.stream = 0
	}
	if b.incoming != 0 {
		wasi.DropIncomingBody(b.incoming)
		b.incoming = 0
	}
	if b.response != 0 {
		wasi.DropIncomingResponse(b.response)
		b.response = 0
	}
}

// errorCodes are wasi:http error-code's case names, in order.
var errorCodes = [...]string{
	"DNS-timeout", "DNS-error", "destination-not-found", "destination-unavailable",
	"destination-IP-prohibited", "destination-IP-unroutable", "connection-refused",
	"connection-terminated", "connection-timeout", "connection-read-timeout",
	"connection-write-timeout", "connection-limit-reached", "TLS-protocol-error",
	"TLS-certificate-error", "TLS-alert-received", "HTTP-request-denied",
	"HTTP-request-length-required", "HTTP-request-body-size", "HTTP-request-method-invalid",
	"HTTP-request-URI-invalid", "HTTP-request-URI-too-long", "HTTP-request-header-section-size",
	"HTTP-request-header-size", "HTTP-request-trailer-section-size", "HTTP-request-trailer-size",
	"HTTP-response-incomplete", "HTTP-response-header-section-size", "HTTP-response-header-size",
	"HTTP-response-body-size", "HTTP-response-trailer-section-size", "HTTP-response-trailer-size",
	"HTTP-response-transfer-coding", "HTTP-response-content-coding", "HTTP-response-timeout",
	"HTTP-upgrade-failed", "HTTP-protocol-error", "loop-detected", "configuration-error",
	"internal-error",
}

// Error is a failed request's wasi:http error-code.
type Error struct {
	Code    string // the error-code case, e.g. "HTTP-request-denied"
	Message string // internal-error's message, if any
}

func (e *Error) Error() string {
	if e.Message != "" {
		return "httpclient: " + e.Code + ": " + e.Message
	}
	return "httpclient: " + e.Code
}

// errorCode reads the error-code at address p (payload at p+8).
func errorCode(p uint32) error {
	c := int(cabi.U8(p, 0))
	e := &Error{Code: "error-code " + strconv.Itoa(c)}
	if c < len(errorCodes) {
		e.Code = errorCodes[c]
	}
	if e.Code == "internal-error" && cabi.U8(p, 8) == 1 { // option<string>
		e.Message = cabi.String(cabi.U32(p, 12), cabi.U32(p, 16))
	}
	return e
}
