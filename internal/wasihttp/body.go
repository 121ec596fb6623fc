package wasihttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// Buffer sizes. A request body is read ahead at most incomingBuffer bytes;
// a response body may be written ahead of the client at most
// outgoingBuffer bytes (wasmtime buffers one 1 MiB chunk), offered to the
// guest at most writeBudget bytes per check-write.
const (
	incomingBuffer = 64 << 10
	pumpChunk      = 16 << 10
	outgoingBuffer = 1 << 20
	writeBudget    = 64 << 10
	drainChunk     = 32 << 10
)

// Chunk buffers are reused across requests: the pipe copies in and out of
// them, so none outlives the pump or drain that holds it, and a request
// does not cost 48 KiB of fresh Go heap.
var (
	pumpBufs  = sync.Pool{New: func() any { b := make([]byte, pumpChunk); return &b }}
	drainBufs = sync.Pool{New: func() any { b := make([]byte, drainChunk); return &b }}
)

// IncomingBody is the Go value of an incoming-body resource: the body of
// the incoming request or of an outbound response. A pump goroutine,
// started when the guest first asks for data, reads the source into a
// bounded buffer, so reads never block the guest and a large upload is
// never held whole.
type IncomingBody struct {
	src io.Reader
	// closeSrc closes the source when the guest drops the body early
	// (outbound responses, to release the connection); nil for a server
	// request body, which net/http closes itself.
	closeSrc func() error
	// trailer returns the source's trailers once it hit EOF.
	trailer func() http.Header
	// betweenBytes, with cancel, bounds each read of the source
	// (request-options' between-bytes-timeout).
	betweenBytes time.Duration
	cancel       context.CancelCauseFunc

	p         *pipe // &pipeMem: one allocation for both
	pipeMem   pipe
	startOnce sync.Once
	done      chan struct{} // made by start; closed when the pump has stopped
	started   bool          // under p.mu; done is set before it

	streamTaken bool
	finished    bool
	discard     bool    // finish was called: drop data, wait for trailers
	trailers    *Fields // set by the pump at EOF
	err         error   // source failure other than EOF, for the executor
}

func newIncomingBody(src io.Reader) *IncomingBody {
	b := &IncomingBody{src: src}
	b.pipeMem.max = incomingBuffer
	b.p = &b.pipeMem
	return b
}

// start launches the pump once. The done channel is made here, not in
// newIncomingBody, so that a body nobody reads costs no channel; readers
// of done look at started (under p.mu) first.
func (b *IncomingBody) start() {
	b.startOnce.Do(func() {
		b.p.mu.Lock()
		b.done = make(chan struct{})
		b.started = true
		b.p.mu.Unlock()
		go b.pump()
	})
}

func (b *IncomingBody) pump() {
	defer close(b.done)
	if b.src == nil {
		b.finish(io.EOF)
		return
	}
	bp := pumpBufs.Get().(*[]byte)
	defer pumpBufs.Put(bp)
	chunk := *bp
	for {
		var room int
		if err := b.p.wait(context.Background(), func() bool {
			room = b.p.max - b.p.buffered()
			return room > 0 || b.p.rclosed != nil || b.discard
		}); err != nil {
			return
		}
		b.p.mu.Lock()
		stop := b.p.rclosed != nil
		if b.discard {
			room = len(chunk)
		}
		b.p.mu.Unlock()
		if stop {
			b.finish(errBodyDropped)
			return
		}
		n, err := b.readSrc(chunk[:min(room, len(chunk))])
		b.p.mu.Lock()
		if n > 0 && !b.discard && b.p.rclosed == nil {
			b.p.pushLocked(chunk[:n])
		}
		b.p.mu.Unlock()
		if err != nil {
			b.finish(err)
			return
		}
	}
}

// readSrc reads once, bounded by the between-bytes timeout.
func (b *IncomingBody) readSrc(p []byte) (int, error) {
	if b.betweenBytes <= 0 || b.cancel == nil {
		return b.src.Read(p)
	}
	t := time.AfterFunc(b.betweenBytes, func() { b.cancel(errTimeout) })
	n, err := b.src.Read(p)
	if !t.Stop() && err != nil {
		err = errorCode(ecConnectionReadTimeout, nil)
	}
	return n, err
}

// finish records the end of the source: its trailers or its failure.
func (b *IncomingBody) finish(err error) {
	var tr *Fields
	if err == io.EOF && b.trailer != nil {
		if h := b.trailer(); len(h) > 0 {
			tr = fieldsFromHeader(h, false)
		}
	}
	b.p.mu.Lock()
	b.trailers = tr
	if err != io.EOF && err != errBodyDropped {
		b.err = err
		err = asErrorCode(err)
	}
	b.p.mu.Unlock()
	b.p.closeWrite(err)
}

var errBodyDropped = errors.New("body dropped by the guest")

// stream implements [method]incoming-body.stream: the body's data, once.
func (b *IncomingBody) stream() (*incomingStream, bool) {
	if b.streamTaken || b.finished {
		return nil, false
	}
	b.streamTaken = true
	return &incomingStream{b: b}, true
}

// finishBody implements [static]incoming-body.finish: the rest of the data
// is skipped, and the future resolves with the trailers once the source
// ends.
func (b *IncomingBody) finishBody() *FutureTrailers {
	b.finished = true
	b.p.mu.Lock()
	b.discard = true
	b.buf0()
	b.p.changedLocked()
	b.p.mu.Unlock()
	b.start()
	return &FutureTrailers{b: b}
}

// buf0 drops buffered data (p.mu held).
func (b *IncomingBody) buf0() { b.p.buf, b.p.off = nil, 0 }

// Drop stops the pump when the guest lets the body go unfinished.
func (b *IncomingBody) Drop() {
	if b.finished {
		return // the future-trailers owns it now
	}
	b.close()
}

func (b *IncomingBody) close() {
	b.p.closeRead(errBodyDropped)
	if b.closeSrc != nil {
		b.closeSrc()
	}
}

// Err returns how reading the source failed (nil for a complete or
// unread body): the executor tells "body too large" from guest failures.
func (b *IncomingBody) Err() error {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	return b.err
}

// pumping reports whether the pump is running.
func (b *IncomingBody) pumping() bool {
	b.p.mu.Lock()
	started := b.started
	b.p.mu.Unlock()
	if !started {
		return false
	}
	select {
	case <-b.done:
		return false
	default:
		return true
	}
}

// incomingStream is the input-stream of an incoming body.
type incomingStream struct{ b *IncomingBody }

var _ wasiio.InputStream = (*incomingStream)(nil)

func (s *incomingStream) Read(n uint64) ([]byte, error) {
	s.b.start()
	p := s.b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if avail := p.buffered(); avail > 0 {
		out := make([]byte, min(uint64(avail), n))
		p.popLocked(out)
		return out, nil
	}
	switch p.werr {
	case nil:
		return []byte{}, nil
	case io.EOF, errBodyDropped:
		return nil, wasiio.ErrClosed
	default:
		return nil, p.werr
	}
}

func (s *incomingStream) BlockingRead(ctx context.Context, n uint64) ([]byte, error) {
	if n == 0 {
		return s.Read(0)
	}
	s.b.start()
	p := s.b.p
	if err := p.wait(ctx, func() bool { return p.buffered() > 0 || p.werr != nil }); err != nil {
		return nil, err
	}
	return s.Read(n)
}

func (s *incomingStream) Subscribe() wasiio.Pollable {
	s.b.start()
	p := s.b.p
	return pollable{p: p, ready: func() bool { return p.buffered() > 0 || p.werr != nil }}
}

// FutureTrailers is the Go value of a future-trailers resource.
type FutureTrailers struct {
	b     *IncomingBody
	taken bool
}

func (f *FutureTrailers) subscribe() wasiio.Pollable {
	p := f.b.p
	return pollable{p: p, ready: func() bool { return p.werr != nil }}
}

// get implements [method]future-trailers.get:
// option<result<result<option<trailers>, error-code>>>.
func (f *FutureTrailers) get() cabi.Option {
	p := f.b.p
	p.mu.Lock()
	werr, tr := p.werr, f.b.trailers
	p.mu.Unlock()
	if werr == nil {
		return cabi.None
	}
	if f.taken {
		return cabi.Some(cabi.Err(nil))
	}
	f.taken = true
	var ec *ErrorCode
	if errors.As(werr, &ec) {
		return cabi.Some(cabi.Ok(cabi.Err(ec.Code)))
	}
	if tr == nil {
		return cabi.Some(cabi.Ok(cabi.Ok(cabi.None)))
	}
	return cabi.Some(cabi.Ok(cabi.Ok(cabi.Some(tr))))
}

// Drop stops reading the source if the trailers are no longer wanted.
func (f *FutureTrailers) Drop() { f.b.close() }

// OutgoingBody is the Go value of an outgoing-body resource: what the
// guest writes goes through a bounded pipe to the response writer (a
// response) or to the HTTP client (an outbound request).
type OutgoingBody struct {
	p           *pipe
	response    bool  // a response body (chooses the body-size error-code)
	declared    int64 // content-length the guest declared, -1 if none
	streamTaken bool
	finished    bool
	trailers    *fieldList

	// Flushing, under p.mu: the guest asks for everything written so far
	// to reach the client (flushWant); the consumer reports how much it
	// has flushed (flushed) and whether it runs at all (attached).
	flushWant uint64
	flushed   uint64
	attached  bool
}

func newOutgoingBody(response bool, declared int64) *OutgoingBody {
	return &OutgoingBody{p: newPipe(outgoingBuffer), response: response, declared: declared}
}

// ErrBodyAborted is the body error of an outgoing body the guest dropped
// without calling finish.
var ErrBodyAborted = errors.New("outgoing body dropped without finish")

func (b *OutgoingBody) sizeError(n uint64) *ErrorCode {
	if b.response {
		return errorCode(ecHTTPResponseBodySize, cabi.Some(n))
	}
	return errorCode(ecHTTPRequestBodySize, cabi.Some(n))
}

// write implements [method]outgoing-body.write: the output-stream, once.
func (b *OutgoingBody) write() (*outgoingStream, bool) {
	if b.streamTaken {
		return nil, false
	}
	b.streamTaken = true
	return &outgoingStream{b: b}, true
}

// finish implements [static]outgoing-body.finish.
func (b *OutgoingBody) finish(trailers *Fields) *ErrorCode {
	b.finished = true
	b.p.mu.Lock()
	written := b.p.written
	if trailers != nil {
		b.trailers = trailers.take()
	}
	b.p.mu.Unlock()
	if b.declared >= 0 && written != uint64(b.declared) {
		ec := b.sizeError(written)
		b.p.closeWrite(ec)
		return ec
	}
	b.p.closeWrite(io.EOF)
	return nil
}

// Drop aborts a body the guest never finished: the receiver must see a
// broken message, not a short one that looks complete.
func (b *OutgoingBody) Drop() {
	if !b.finished {
		b.p.closeWrite(ErrBodyAborted)
	}
}

// complete reports whether the body ended with finish (and no failure).
// written returns how many body bytes the guest wrote.
func (b *OutgoingBody) written() uint64 {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	return b.p.written
}

func (b *OutgoingBody) complete() bool {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	return b.p.werr == io.EOF
}

// drain copies the body to w until it ends, calling flush when the guest
// asked for it. It runs on its own goroutine and is the only user of w
// while it runs. It returns nil once a finished body was fully written.
func (b *OutgoingBody) drain(w io.Writer, flush func()) error {
	p := b.p
	p.mu.Lock()
	b.attached = true
	p.changedLocked()
	p.mu.Unlock()
	bp := drainBufs.Get().(*[]byte)
	defer drainBufs.Put(bp)
	chunk := *bp
	for {
		var n int
		var werr error
		var doFlush bool
		var want uint64
		p.wait(context.Background(), func() bool {
			return p.buffered() > 0 || p.werr != nil || b.flushWant > b.flushed
		})
		p.mu.Lock()
		n = p.popLocked(chunk)
		werr = p.werr
		if p.buffered() == 0 && b.flushWant > b.flushed {
			doFlush, want = true, b.flushWant
		}
		p.mu.Unlock()
		if n > 0 {
			if _, err := w.Write(chunk[:n]); err != nil {
				p.closeRead(err)
				return err
			}
		}
		if doFlush && flush != nil {
			flush()
		}
		if doFlush {
			p.mu.Lock()
			b.flushed = want
			p.changedLocked()
			p.mu.Unlock()
		}
		if werr != nil && n == 0 {
			p.mu.Lock()
			empty := p.buffered() == 0
			p.mu.Unlock()
			if empty {
				if werr == io.EOF {
					return nil
				}
				p.closeRead(werr)
				return werr
			}
		}
	}
}

// reader returns the body as an io.ReadCloser for an outbound request.
func (b *OutgoingBody) reader(ctx context.Context) io.ReadCloser {
	b.p.mu.Lock()
	b.attached = true
	b.p.mu.Unlock()
	return &bodyReader{b: b, ctx: ctx}
}

type bodyReader struct {
	b   *OutgoingBody
	ctx context.Context
}

func (r *bodyReader) Read(dst []byte) (int, error) {
	p := r.b.p
	if err := p.wait(r.ctx, func() bool { return p.buffered() > 0 || p.werr != nil }); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffered() > 0 {
		n := p.popLocked(dst)
		// An outbound request has no flush target: data handed to the
		// transport counts as flushed.
		r.b.flushed = p.read
		return n, nil
	}
	return 0, p.werr
}

func (r *bodyReader) Close() error {
	r.b.p.closeRead(errors.New("outbound request body closed"))
	return nil
}

// outgoingStream is the output-stream of an outgoing body.
type outgoingStream struct{ b *OutgoingBody }

var _ wasiio.OutputStream = (*outgoingStream)(nil)

// stateLocked returns the error a write gets now, if any.
func (s *outgoingStream) stateLocked() error {
	p := s.b.p
	switch {
	case p.rclosed != nil:
		// The client went away or the transport stopped reading.
		return asErrorCode(p.rclosed)
	case p.werr != nil:
		return wasiio.ErrClosed
	}
	return nil
}

func (s *outgoingStream) CheckWrite() (uint64, error) {
	p := s.b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := s.stateLocked(); err != nil {
		return 0, err
	}
	return uint64(min(p.max-p.buffered(), writeBudget)), nil
}

func (s *outgoingStream) Write(b []byte) error {
	p := s.b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := s.stateLocked(); err != nil {
		return err
	}
	if len(b) > min(p.max-p.buffered(), writeBudget) {
		return errors.New("write exceeds the permitted check-write budget")
	}
	if d := s.b.declared; d >= 0 && p.written+uint64(len(b)) > uint64(d) {
		return s.b.sizeError(p.written + uint64(len(b)))
	}
	p.pushLocked(b)
	return nil
}

func (s *outgoingStream) Flush() error {
	p := s.b.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := s.stateLocked(); err != nil {
		return err
	}
	s.b.flushWant = p.written
	p.changedLocked()
	return nil
}

// BlockingFlush waits until the data reached the client. Before the
// response is sent nothing consumes the body: the data is safe in the
// buffer, and waiting would deadlock a guest that writes before it calls
// response-outparam.set, so it returns at once.
func (s *outgoingStream) BlockingFlush(ctx context.Context) error {
	if err := s.Flush(); err != nil {
		return err
	}
	p := s.b.p
	err := p.wait(ctx, func() bool {
		return !s.b.attached || s.b.flushed >= s.b.flushWant || p.rclosed != nil
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rclosed != nil {
		return asErrorCode(p.rclosed)
	}
	return nil
}

func (s *outgoingStream) Subscribe() wasiio.Pollable {
	p := s.b.p
	return pollable{p: p, ready: func() bool {
		return p.max-p.buffered() > 0 || p.rclosed != nil || p.werr != nil
	}}
}
