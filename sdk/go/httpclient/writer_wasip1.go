//go:build wasip1

package httpclient

import (
	"io"
	"runtime"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
	"github.com/wisp-dev/wisp/sdk/go/internal/wasi"
)

// bodyWriter copies a request body into an outgoing-body without ever
// blocking in the host, so that the response can be read while the
// request is still being sent (a server may answer as it reads: an echo
// of a large body would otherwise deadlock, each side waiting for the
// other to read). step makes what progress it can; pollable is what to
// wait on when it can make none.
type bodyWriter struct {
	body, stream, ready uint32 // outgoing-body, its output-stream, the stream's pollable
	src                 io.Reader
	buf, pending        []byte
	eof, flushing, done bool
	err                 error // the source's or the stream's first error
}

func newBodyWriter(body, stream uint32, src io.Reader) *bodyWriter {
	return &bodyWriter{body: body, stream: stream, ready: wasi.OutputStreamSubscribe(stream), src: src, buf: make([]byte, 32<<10)}
}

func (w *bodyWriter) pollable() uint32 { return w.ready }

// step advances the copy without blocking in the host (reading the source
// may block, as any io.Reader may); it reports whether it did anything.
func (w *bodyWriter) step() bool {
	if w.done {
		return false
	}
	if len(w.pending) == 0 && !w.eof {
		n, err := w.src.Read(w.buf)
		w.pending = w.buf[:n]
		switch {
		case err == io.EOF:
			w.eof = true
		case err != nil:
			w.abort(err)
			return true
		}
		if n > 0 || w.eof {
			return true
		}
		return true // a reader may return 0, nil; try again
	}
	budget, err := w.checkWrite()
	if err != nil {
		w.abort(err)
		return true
	}
	if budget == 0 {
		return false // the host is still taking earlier bytes
	}
	if len(w.pending) > 0 {
		n := min(uint64(len(w.pending)), budget)
		if err := w.write(w.pending[:n]); err != nil {
			w.abort(err)
			return true
		}
		w.pending = w.pending[n:]
		return true
	}
	if !w.flushing {
		// All written: flush, and finish once check-write shows the
		// flush is done.
		w.flushing = true
		if err := w.flush(); err != nil {
			w.abort(err)
		}
		return true
	}
	w.finish()
	return true
}

func (w *bodyWriter) checkWrite() (uint64, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 8)
	wasi.OutputStreamCheckWrite(w.stream, ret) // result<u64, stream-error>
	if cabi.U8(ret, 0) != 0 {
		return 0, wasi.StreamError(ret + 8)
	}
	return cabi.U64(ret, 8), nil
}

func (w *bodyWriter) write(p []byte) error {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(12, 4)
	// p is part of w.buf, on the heap, which Go does not move.
	wasi.OutputStreamWrite(w.stream, unsafe.SliceData(p), uint32(len(p)), ret)
	runtime.KeepAlive(p)
	if cabi.U8(ret, 0) != 0 {
		return wasi.StreamError(ret + 4)
	}
	return nil
}

func (w *bodyWriter) flush() error {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(12, 4)
	wasi.OutputStreamFlush(w.stream, ret)
	if cabi.U8(ret, 0) != 0 {
		return wasi.StreamError(ret + 4)
	}
	return nil
}

// release drops the pollable and the stream (in that order: the pollable
// is the stream's child).
func (w *bodyWriter) release() {
	w.done = true
	if w.ready != 0 {
		wasi.DropPollable(w.ready)
		w.ready = 0
	}
	if w.stream != 0 {
		wasi.DropOutputStream(w.stream)
		w.stream = 0
	}
}

// finish completes the body.
func (w *bodyWriter) finish() {
	w.release()
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(40, 8)
	wasi.OutgoingBodyFinish(w.body, 0, 0, ret) // takes the body; result<_, error-code>
	w.body = 0
	if cabi.U8(ret, 0) != 0 && w.err == nil {
		w.err = errorCode(ret + 8)
	}
}

// abort stops the copy: the body is dropped unfinished, which tells the
// host the request body is incomplete.
func (w *bodyWriter) abort(err error) {
	if w.err == nil {
		w.err = err
	}
	w.release()
	if w.body != 0 {
		wasi.DropOutgoingBody(w.body)
		w.body = 0
	}
}
