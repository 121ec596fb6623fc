//go:build wasip1

package wisphttp

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

const (
	maxRead  = 64 << 10 // bytes asked of blocking-read at once (the cabi arena holds them)
	maxWrite = 4096     // blocking-write-and-flush's guaranteed budget
)

//go:wasmexport wasi:http/incoming-handler@0.2.0#handle
func handle(request, responseOut uint32) {
	serve(request, responseOut)
}

func serve(request, out uint32) {
	setupInstance()
	r, body := newRequest(request)
	w := &responseWriter{out: out, header: http.Header{}}
	ok := w.run(r)
	body.Close()
	dropIncomingRequest(request)
	w.finish(ok)
	if stderr.stream != 0 {
		dropOutputStream(stderr.stream)
		stderr.stream = 0
	}
}

// run calls the handler; a panic becomes a 500 if the response has not
// started, or an aborted body if it has.
func (w *responseWriter) run(r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler {
				fmt.Fprintf(stderr, "wisphttp: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
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
	incomingRequestMethod(h, ret)
	var method string
	if d := cabi.U8(ret, 0); int(d) < len(methods) {
		method = methods[d]
	} else {
		method = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}
	pathWithQuery := "/"
	incomingRequestPathWithQuery(h, ret)
	if cabi.U8(ret, 0) == 1 {
		pathWithQuery = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}
	// option<scheme>, scheme: variant { HTTP, HTTPS, other(string) }
	scheme := "http"
	incomingRequestScheme(h, ret)
	if cabi.U8(ret, 0) == 1 {
		switch cabi.U8(ret, 4) {
		case 1:
			scheme = "https"
		case 2:
			scheme = cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12))
		}
	}
	var authority string
	incomingRequestAuthority(h, ret)
	if cabi.U8(ret, 0) == 1 {
		authority = cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8))
	}

	header := http.Header{}
	fields := incomingRequestHeaders(h)
	fieldsEntries(fields, ret)
	list, n := cabi.U32(ret, 0), cabi.U32(ret, 4)
	for i := range n {
		e := list + 16*i // tuple<string, list<u8>>
		name := textproto.CanonicalMIMEHeaderKey(cabi.String(cabi.U32(e, 0), cabi.U32(e, 4)))
		header[name] = append(header[name], cabi.String(cabi.U32(e, 8), cabi.U32(e, 12)))
	}
	dropFields(fields)

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
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			r.ContentLength = n
		}
	} else if header.Get("Transfer-Encoding") == "" {
		r.ContentLength = 0
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
	for {
		m := cabi.Save()
		ret := cabi.Alloc(12, 4)
		// result<list<u8>, stream-error>
		inputStreamBlockingRead(b.stream, uint64(min(len(p), maxRead)), ret)
		if cabi.U8(ret, 0) != 0 {
			b.err = streamError(ret + 4)
			cabi.Release(m)
			return 0, b.err
		}
		n := copy(p, cabi.Bytes(cabi.U32(ret, 4), cabi.U32(ret, 8)))
		cabi.Release(m)
		if n > 0 {
			return n, nil
		}
	}
}

func (b *body) consume() error {
	b.consumed = true
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(8, 4)
	incomingRequestConsume(b.request, ret) // result<incoming-body>
	if cabi.U8(ret, 0) != 0 {
		return errors.New("wisphttp: request body already consumed")
	}
	b.incoming = cabi.U32(ret, 4)
	incomingBodyStream(b.incoming, ret) // result<input-stream>
	if cabi.U8(ret, 0) != 0 {
		return errors.New("wisphttp: request body stream already taken")
	}
	b.stream = cabi.U32(ret, 4)
	return nil
}

// Close drops the stream and the incoming-body; further reads fail.
func (b *body) Close() error {
	if b.stream != 0 {
		dropInputStream(b.stream)
		b.stream = 0
	}
	if b.incoming != 0 {
		dropIncomingBody(b.incoming)
		b.incoming = 0
	}
	b.consumed = true
	if b.err == nil || b.err == io.EOF {
		b.err = errBodyClosed
	}
	return nil
}

// streamError converts the stream-error at address p (variant {
// last-operation-failed(error), closed }), dropping its error resource.
func streamError(p uint32) error {
	if cabi.U8(p, 0) == 1 {
		return io.EOF
	}
	e := cabi.U32(p, 4)
	ret := cabi.Alloc(8, 4)
	errorToDebugString(e, ret)
	msg := cabi.String(cabi.U32(ret, 0), cabi.U32(ret, 4))
	dropError(e)
	return errors.New("wisphttp: stream failed: " + msg)
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
	fields := newFields()
	ret := cabi.Alloc(8, 4)
	for k, vs := range w.header {
		name := strings.ToLower(k)
		for _, v := range vs {
			// result<_, header-error>: forbidden or malformed fields
			// (connection, transfer-encoding, …) are dropped, as net/http
			// drops hop-by-hop headers it manages itself.
			fieldsAppend(fields, name, v, ret)
		}
	}
	resp := newOutgoingResponse(fields) // takes fields
	if outgoingResponseSetStatusCode(resp, uint32(w.status)) != 0 {
		w.err = fmt.Errorf("wisphttp: invalid status code %d", w.status)
	}
	outgoingResponseBody(resp, ret) // result<outgoing-body>
	if cabi.U8(ret, 0) == 0 {
		w.body = cabi.U32(ret, 4)
		outgoingBodyWrite(w.body, ret) // result<output-stream>
		if cabi.U8(ret, 0) == 0 {
			w.stream = cabi.U32(ret, 4)
		}
	}
	if w.stream == 0 && w.err == nil {
		w.err = errors.New("wisphttp: no response body stream")
	}
	responseOutparamSet(w.out, 0, resp, 0, 0, 0, 0, 0, 0) // takes out and resp
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
	n, err := writeStream(w.stream, p)
	w.err = err
	return n, err
}

// writeStream writes p to an output-stream in chunks of at most maxWrite
// bytes with blocking-write-and-flush.
func writeStream(stream uint32, p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxWrite)]
		m := cabi.Save()
		ret := cabi.Alloc(12, 4)
		// The chunk's pointer is passed to the import, so its array is on
		// the heap (Go never moves heap objects); KeepAlive holds it for
		// the call.
		outputStreamBlockingWriteAndFlush(stream, unsafe.SliceData(chunk), uint32(len(chunk)), ret)
		runtime.KeepAlive(chunk)
		if cabi.U8(ret, 0) != 0 {
			err := streamError(ret + 4)
			cabi.Release(m)
			return n, err
		}
		cabi.Release(m)
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
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
		dropOutputStream(w.stream)
		w.stream = 0
	}
	if w.body == 0 {
		return
	}
	if !ok || w.err != nil {
		dropOutgoingBody(w.body)
		w.body = 0
		return
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(48, 8)
	outgoingBodyFinish(w.body, 0, 0, ret) // takes body; result<_, error-code>
	w.body = 0
	if cabi.U8(ret, 0) != 0 {
		fmt.Fprintf(stderr, "wisphttp: finishing the response body failed (error-code case %d)\n", cabi.U8(ret, 8))
	}
}
