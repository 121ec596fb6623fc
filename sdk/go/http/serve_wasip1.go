//go:build wasip1

package wisphttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
	"github.com/wisp-dev/wisp/sdk/go/internal/wasi"
)

//go:wasmexport wasi:http/incoming-handler@0.2.0#handle
func handle(request, responseOut uint32) {
	serve(request, responseOut)
}

func serve(request, out uint32) {
	wasi.SetupInstance()
	r, body := newRequest(request)
	w := &responseWriter{out: out, header: http.Header{}}
	ok := w.run(r)
	body.Close()
	wasi.DropIncomingRequest(request)
	w.finish(ok)
	wasi.CloseStderr()
}

// run calls the handler; a panic becomes a 500 if the response has not
// started, or an aborted body if it has.
func (w *responseWriter) run(r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler {
				fmt.Fprintf(wasi.Stderr, "wisphttp: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
			}
			if !w.wrote {
				w.header = http.Header{}
				w.WriteHeader(http.StatusInternalServerError)
				ok = true
			}
		}
	}()
	currentHandler().ServeHTTP(w, r)
	return true
}

var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch,
}

// newRequest reads an incoming-request into a *http.Request whose Body
// streams the incoming-body.
func newRequest(h uint32) (*http.Request, *body) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)

	// method: variant { get, …, patch, other(string) }
	wasi.IncomingRequestMethod(h, ret)
	var method string
	if d := cabi.U8(ret, 0); int(d) < len(methods) {
		method = methods[d]
	} else {
		method = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}
	pathWithQuery := "/"
	wasi.IncomingRequestPathWithQuery(h, ret)
	if cabi.U8(ret, 0) == 1 {
		pathWithQuery = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}
	// option<scheme>, scheme: variant { HTTP, HTTPS, other(string) }
	scheme := "http"
	wasi.IncomingRequestScheme(h, ret)
	if cabi.U8(ret, 0) == 1 {
		switch cabi.U8(ret, 4) {
		case 1:
			scheme = "https"
		case 2:
			scheme = cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12))
		}
	}
	var authority string
	wasi.IncomingRequestAuthority(h, ret)
	if cabi.U8(ret, 0) == 1 {
		authority = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}

	fields := wasi.IncomingRequestHeaders(h)
	header := wasi.ReadFields(fields)
	wasi.DropFields(fields)

	u, err := url.ParseRequestURI(pathWithQuery)
	if err != nil {
		u = &url.URL{Path: pathWithQuery}
	}
	u.Scheme, u.Host = scheme, authority
	b := &body{request: h}
	r := &http.Request{
		Method:        method,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          b,
		ContentLength: -1,
		Host:          authority,
		RequestURI:    pathWithQuery,
		RemoteAddr:    header.Get("Spin-Client-Addr"),
	}
	// Without Content-Length the length is unknown (-1): the host drops
	// hop-by-hop headers such as Transfer-Encoding, so a chunked body and
	// no body look alike here.
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			r.ContentLength = n
		}
	}
	return r, b
}

// body is a request body: the incoming-body's input-stream, read with
// blocking-read. It is consumed on the first Read.
type body struct {
	request        uint32
	incoming       uint32 // incoming-body, 0 until consumed
	stream         uint32 // input-stream, 0 until consumed
	consumed, done bool
	err            error
}

var errBodyClosed = errors.New("wisphttp: read on closed body")

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !b.consumed {
		if err := b.consume(); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := wasi.ReadStream(b.stream, p)
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *body) consume() error {
	b.consumed = true
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(8, 4)
	wasi.IncomingRequestConsume(b.request, ret) // result<incoming-body>
	if cabi.U8(ret, 0) != 0 {
		return errors.New("wisphttp: request body already consumed")
	}
	b.incoming = cabi.U32(ret, 4)
	wasi.IncomingBodyStream(b.incoming, ret) // result<input-stream>
	if cabi.U8(ret, 0) != 0 {
		return errors.New("wisphttp: request body stream already taken")
	}
	b.stream = cabi.U32(ret, 4)
	return nil
}

// Close drops the stream and the incoming-body; further reads fail.
func (b *body) Close() error {
	if b.stream != 0 {
		wasi.DropInputStream(b.stream)
		b.stream = 0
	}
	if b.incoming != 0 {
		wasi.DropIncomingBody(b.incoming)
		b.incoming = 0
	}
	b.consumed = true
	if b.err == nil || b.err == io.EOF {
		b.err = errBodyClosed
	}
	return nil
}

// responseWriter answers through the response-outparam. The head is sent
// (outgoing-response built, response-outparam.set called) on the first
// Write, WriteHeader or Flush; each Write then streams through the body's
// output-stream with blocking-write-and-flush.
type responseWriter struct {
	out    uint32 // response-outparam
	header http.Header
	wrote  bool
	status int
	noBody bool
	body   uint32 // outgoing-body
	stream uint32 // output-stream
	err    error
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 {
		return // informational responses are not supported; ignored
	}
	w.wrote, w.status = true, code
	w.noBody = code == http.StatusNoContent || code == http.StatusNotModified
	w.sendHead()
}

func (w *responseWriter) sendHead() {
	m := cabi.Save()
	defer cabi.Release(m)
	fields := wasi.NewFields(w.header)
	ret := cabi.Alloc(8, 4)
	resp := wasi.NewOutgoingResponse(fields) // takes fields
	if wasi.OutgoingResponseSetStatusCode(resp, uint32(w.status)) != 0 {
		w.err = fmt.Errorf("wisphttp: invalid status code %d", w.status)
	}
	wasi.OutgoingResponseBody(resp, ret) // result<outgoing-body>
	if cabi.U8(ret, 0) == 0 {
		w.body = cabi.U32(ret, 4)
		wasi.OutgoingBodyWrite(w.body, ret) // result<output-stream>
		if cabi.U8(ret, 0) == 0 {
			w.stream = cabi.U32(ret, 4)
		}
	}
	if w.stream == 0 && w.err == nil {
		w.err = errors.New("wisphttp: no response body stream")
	}
	wasi.ResponseOutparamSet(w.out, 0, resp, 0, 0, 0, 0, 0, 0) // takes out and resp
	w.out = 0
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		if _, ok := w.header["Content-Type"]; !ok && w.header.Get("Content-Encoding") == "" {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := wasi.WriteStream(w.stream, p)
	w.err = err
	return n, err
}

// Flush sends the head if it has not been sent; written data is always
// flushed already.
func (w *responseWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
}

// finish completes the response: the body is finished if the handler
// returned normally, dropped unfinished (so the host aborts the response)
// if it panicked after the response started.
func (w *responseWriter) finish(ok bool) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.stream != 0 {
		wasi.DropOutputStream(w.stream)
		w.stream = 0
	}
	if w.body == 0 {
		return
	}
	if !ok || w.err != nil {
		wasi.DropOutgoingBody(w.body)
		w.body = 0
		return
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(48, 8)
	wasi.OutgoingBodyFinish(w.body, 0, 0, ret) // takes body; result<_, error-code>
	w.body = 0
	if cabi.U8(ret, 0) != 0 {
		fmt.Fprintf(wasi.Stderr, "wisphttp: finishing the response body failed (error-code case %d)\n", cabi.U8(ret, 8))
	}
}
