package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// chainedClientAddr is the client address a chained request shows (Spin's
// CHAINED_CLIENT_ADDR).
const chainedClientAddr = "0.0.0.0:0"

// dispatch serves req with h in-process (service chaining, self
// requests): h runs on its own goroutine and its response streams back
// through a pipe, so neither side buffers the whole body.
func dispatch(ctx context.Context, h http.Handler, req *http.Request) (*http.Response, error) {
	req = req.Clone(ctx)
	req.RemoteAddr = chainedClientAddr
	req.RequestURI = req.URL.RequestURI()
	req.Host = req.URL.Host
	if req.Body == nil {
		req.Body = http.NoBody
	}
	pr, pw := io.Pipe()
	cw := &chainWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			if v := recover(); v != nil {
				err := fmt.Errorf("chained handler panicked: %v", v)
				if v == http.ErrAbortHandler {
					err = errors.New("chained handler aborted the response")
				}
				cw.fail(err)
				return
			}
			cw.writeHeader(http.StatusOK)
			pw.Close()
		}()
		h.ServeHTTP(cw, req)
	}()
	select {
	case <-cw.ready:
	case <-ctx.Done():
		pr.CloseWithError(context.Cause(ctx))
		return nil, context.Cause(ctx)
	}
	if cw.err != nil {
		return nil, cw.err
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", cw.status, http.StatusText(cw.status)),
		StatusCode:    cw.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        cw.sent,
		Body:          pr,
		ContentLength: -1,
		Request:       req,
	}, nil
}

// chainWriter is the http.ResponseWriter of an in-process request.
type chainWriter struct {
	header http.Header
	pw     *io.PipeWriter

	once   sync.Once
	ready  chan struct{} // closed when the head (or a failure) is known
	status int
	sent   http.Header
	err    error
}

func (w *chainWriter) Header() http.Header { return w.header }

func (w *chainWriter) WriteHeader(code int) {
	if code < 200 {
		return // informational: not the response
	}
	w.writeHeader(code)
}

func (w *chainWriter) writeHeader(code int) {
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *chainWriter) Write(p []byte) (int, error) {
	w.writeHeader(http.StatusOK)
	return w.pw.Write(p)
}

func (w *chainWriter) Flush() { w.writeHeader(http.StatusOK) }

// fail ends the response with err: before the head, the request fails;
// after it, the body does.
func (w *chainWriter) fail(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.ready)
	})
	w.pw.CloseWithError(err)
}
