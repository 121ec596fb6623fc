package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// Streams over io.Reader and io.Writer. A Go reader or writer may block for
// as long as it likes, but wasi:io's non-blocking operations must not, so
// the blocking call runs on a goroutine. That goroutine exists only while
// one Read or Write of the underlying reader/writer is outstanding: nothing
// keeps running once it returns, whether or not the guest dropped the
// stream, and dropping needs no Drop method. (A Read or Write that never
// returns pins its goroutine; closing the reader or writer is the owner's
// business, as these streams never close what they wrap.)

const (
	readChunk       = 32 << 10 // bytes asked of the reader per Read
	writeBufferSize = 64 << 10 // bytes an output stream accepts ahead of its writer
)

var errWriteExceedsPermit = errors.New("write exceeds check-write")

// NewInputStream returns an input-stream reading r; nil is an empty stream.
// It does not close r.
func NewInputStream(r io.Reader) wasiio.InputStream { return newReaderStream(r) }

// NewOutputStream returns an output-stream writing w; nil discards. Writes
// are buffered (up to 64 KiB) and passed to w off the guest's goroutine, so
// only a full buffer makes the guest wait; blocking-flush waits for w. It
// does not close w.
func NewOutputStream(w io.Writer) wasiio.OutputStream { return newWriterStream(w) }

// notifier is a broadcast "state changed" signal, guarded by its owner's
// mutex: waiters take the current channel, broadcast closes and replaces it.
type notifier struct{ ch chan struct{} }

func (n *notifier) wait() <-chan struct{} {
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

func (n *notifier) broadcast() {
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}

// waitFor blocks until cond (called with mu held) holds or ctx is done.
func waitFor(ctx context.Context, mu *sync.Mutex, n *notifier, cond func() bool) error {
	for {
		mu.Lock()
		if cond() {
			mu.Unlock()
			return nil
		}
		ch := n.wait()
		mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// condPollable is a pollable over some stream state.
type condPollable struct {
	mu      *sync.Mutex
	changed *notifier
	cond    func() bool // called with mu held
}

func (p *condPollable) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cond()
}

func (p *condPollable) Block(ctx context.Context) error {
	return waitFor(ctx, p.mu, p.changed, p.cond)
}

// readerStream is an InputStream over an io.Reader.
type readerStream struct {
	r io.Reader
	// direct marks readers that never block (in-memory ones): they are
	// read on the caller's goroutine.
	direct bool

	mu      sync.Mutex
	changed notifier
	buf     []byte // read from r, not yet consumed
	err     error  // r's final error (wasiio.ErrClosed for EOF), reported once buf is empty
	reading bool   // a goroutine is in r.Read
}

func newReaderStream(r io.Reader) *readerStream {
	s := &readerStream{r: r}
	switch r.(type) {
	case nil:
		s.err = wasiio.ErrClosed
	case *bytes.Reader, *strings.Reader, *bytes.Buffer:
		s.direct = true
	}
	return s
}

// fillLocked gets more data coming when the buffer is empty.
func (s *readerStream) fillLocked() {
	if len(s.buf) > 0 || s.err != nil || s.reading {
		return
	}
	if s.direct {
		p := make([]byte, readChunk)
		n, err := s.r.Read(p)
		s.gotLocked(p[:n], err)
		return
	}
	s.reading = true
	go func() {
		p := make([]byte, readChunk)
		n, err := s.r.Read(p)
		s.mu.Lock()
		s.reading = false
		s.gotLocked(p[:n], err)
		s.changed.broadcast()
		s.mu.Unlock()
	}()
}

func (s *readerStream) gotLocked(p []byte, err error) {
	if len(p) > 0 {
		s.buf = p
	}
	switch {
	case err == io.EOF:
		s.err = wasiio.ErrClosed
	case err != nil:
		s.err = err
	}
}

func (s *readerStream) readableLocked() bool {
	s.fillLocked()
	return len(s.buf) > 0 || s.err != nil
}

// takeLocked consumes up to n buffered bytes, or reports the final error
// once the buffer is empty.
func (s *readerStream) takeLocked(n uint64) ([]byte, error) {
	if len(s.buf) == 0 {
		return []byte{}, s.err
	}
	k := min(n, uint64(len(s.buf)))
	// The buffer's array is never written again, so the caller may keep
	// the slice.
	out := s.buf[:k:k]
	s.buf = s.buf[k:]
	return out, nil
}

func (s *readerStream) Read(n uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fillLocked()
	return s.takeLocked(n)
}

func (s *readerStream) BlockingRead(ctx context.Context, n uint64) ([]byte, error) {
	if err := waitFor(ctx, &s.mu, &s.changed, s.readableLocked); err != nil {
		return nil, err
	}
	return s.Read(n)
}

func (s *readerStream) Subscribe() wasiio.Pollable {
	return &condPollable{mu: &s.mu, changed: &s.changed, cond: s.readableLocked}
}

// writerStream is an OutputStream over an io.Writer.
type writerStream struct {
	w io.Writer // nil discards

	mu       sync.Mutex
	changed  notifier
	buf      []byte // accepted, not yet handed to w
	spare    []byte // the previous chunk's array, for reuse
	inflight int    // bytes in the outstanding w.Write
	writing  bool   // a goroutine is draining buf into w
	err      error  // w's error: the stream is closed after it
}

func newWriterStream(w io.Writer) *writerStream {
	if w == io.Discard {
		w = nil
	}
	return &writerStream{w: w}
}

func (s *writerStream) roomLocked() uint64 {
	return uint64(writeBufferSize - len(s.buf) - s.inflight)
}

func (s *writerStream) CheckWrite() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	return s.roomLocked(), nil
}

func (s *writerStream) Write(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if uint64(len(p)) > s.roomLocked() {
		return errWriteExceedsPermit
	}
	if s.w == nil || len(p) == 0 {
		return nil
	}
	s.buf = append(s.buf, p...)
	if !s.writing {
		s.writing = true
		go s.drain()
	}
	return nil
}

// drain hands buf to w until it is empty, then exits.
func (s *writerStream) drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.buf) > 0 && s.err == nil {
		chunk := s.buf
		s.buf, s.spare = s.spare[:0], nil
		s.inflight = len(chunk)
		s.mu.Unlock()
		_, err := s.w.Write(chunk)
		s.mu.Lock()
		s.inflight = 0
		s.spare = chunk
		if err != nil {
			s.err = err
			s.buf = nil
		}
		s.changed.broadcast()
	}
	s.writing = false
	s.changed.broadcast()
}

// Flush has nothing to start: writing begins as soon as bytes are accepted.
func (s *writerStream) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *writerStream) BlockingFlush(ctx context.Context) error {
	err := waitFor(ctx, &s.mu, &s.changed, func() bool {
		return s.err != nil || !s.writing
	})
	if err != nil {
		return err
	}
	return s.Flush()
}

func (s *writerStream) Subscribe() wasiio.Pollable {
	return &condPollable{mu: &s.mu, changed: &s.changed, cond: func() bool {
		return s.err != nil || s.roomLocked() > 0
	}}
}
