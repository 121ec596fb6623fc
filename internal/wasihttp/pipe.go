package wasihttp

import (
	"context"
	"sync"

	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// pipe is a bounded byte buffer between two goroutines: the guest on one
// side, a pump (request body, outbound response) or a drainer (response
// body, outbound request) on the other. Its memory never exceeds max plus
// one chunk, whatever the size of the body flowing through it.
type pipe struct {
	mu   sync.Mutex
	wake chan struct{} // closed when the state changes; nil until someone waits

	buf []byte // buffered data is buf[off:]
	off int
	max int

	written uint64 // bytes ever pushed
	read    uint64 // bytes ever popped

	werr    error // producer finished: io.EOF or why it failed
	rclosed error // consumer gone (and why); the producer stops
}

func newPipe(max int) *pipe { return &pipe{max: max} }

// changedLocked wakes every waiter.
func (p *pipe) changedLocked() {
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
}

func (p *pipe) buffered() int { return len(p.buf) - p.off }

// wait blocks until cond (called with p.mu held) is true or ctx is done.
func (p *pipe) wait(ctx context.Context, cond func() bool) error {
	for {
		p.mu.Lock()
		if cond() {
			p.mu.Unlock()
			return nil
		}
		if p.wake == nil {
			p.wake = make(chan struct{})
		}
		ch := p.wake
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pushLocked appends b, compacting first so the backing array stays
// bounded.
func (p *pipe) pushLocked(b []byte) {
	if p.off > 0 && (p.off >= len(p.buf)/2 || len(p.buf)+len(b) > cap(p.buf)) {
		n := copy(p.buf, p.buf[p.off:])
		p.buf = p.buf[:n]
		p.off = 0
	}
	p.buf = append(p.buf, b...)
	p.written += uint64(len(b))
	p.changedLocked()
}

// popLocked copies up to len(dst) buffered bytes into dst.
func (p *pipe) popLocked(dst []byte) int {
	n := copy(dst, p.buf[p.off:])
	p.off += n
	p.read += uint64(n)
	if p.off == len(p.buf) {
		p.buf, p.off = p.buf[:0], 0
	}
	p.changedLocked()
	return n
}

// closeWrite ends the data; err is io.EOF for a complete body.
func (p *pipe) closeWrite(err error) {
	p.mu.Lock()
	if p.werr == nil {
		p.werr = err
	}
	p.changedLocked()
	p.mu.Unlock()
}

// closeRead tells the producer nobody reads any more.
func (p *pipe) closeRead(why error) {
	p.mu.Lock()
	if p.rclosed == nil {
		p.rclosed = why
	}
	p.changedLocked()
	p.mu.Unlock()
}

// pollable is a wasi:io pollable over a pipe condition.
type pollable struct {
	p     *pipe
	ready func() bool // called with p.mu held
}

var _ wasiio.Pollable = pollable{}

func (q pollable) Ready() bool {
	q.p.mu.Lock()
	defer q.p.mu.Unlock()
	return q.ready()
}

func (q pollable) Block(ctx context.Context) error { return q.p.wait(ctx, q.ready) }

// readyPollable is always ready (for example the pollable of a future that
// can never resolve again).
type readyPollable struct{}

func (readyPollable) Ready() bool                 { return true }
func (readyPollable) Block(context.Context) error { return nil }
