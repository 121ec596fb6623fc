package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrConnectionLimit is wrapped by errors for dials refused because the
// app already has as many outbound connections open as its ConnLimit
// allows (Spin: connection-limit-reached).
var ErrConnectionLimit = errors.New("too many outbound connections open")

// minWaitingDials is the fewest dials a ConnLimit lets wait for a
// connection slot at once (more wait when the limit is higher).
const minWaitingDials = 64

// ConnLimit bounds the outbound connections open at once under every
// Policy that shares it: Spin's [outbound_networking]
// max_total_connections, one per app, shared by all its components and
// instances and by every capability that dials (wasi:http, Redis,
// PostgreSQL, MySQL, MQTT). A connection holds its slot from just before
// it is dialed (name resolution included) until it is closed, pooled idle
// connections included, as a Spin connection permit does.
//
// A dial that finds every slot taken waits for one, as Spin's does, until
// its context ends or its dialer's Timeout/Deadline passes (Spin: the
// connect timeout covers waiting for the permit), then fails with a
// *LimitError. So that dials abandoned by their callers cannot pile up
// (net/http goes on dialing after the request that asked for the
// connection is cancelled), at most max(limit, 64) dials wait at once;
// further dials fail at once. A nil *ConnLimit limits nothing.
type ConnLimit struct {
	limit      int
	maxWaiting int64
	slots      chan struct{} // one element per open connection
	waiting    atomic.Int64
	refused    atomic.Uint64
}

// NewConnLimit returns a limit of n open connections; n == 0 refuses
// every dial (Spin's max_connections = 0). n must not be negative.
func NewConnLimit(n int) *ConnLimit {
	if n < 0 {
		panic("outbound: negative connection limit")
	}
	return &ConnLimit{limit: n, maxWaiting: int64(max(n, minWaitingDials)), slots: make(chan struct{}, n)}
}

// Limit returns the number of connections that may be open at once; -1
// for a nil (unlimited) ConnLimit.
func (l *ConnLimit) Limit() int {
	if l == nil {
		return -1
	}
	return l.limit
}

// ConnStats is a snapshot of a ConnLimit's use.
type ConnStats struct {
	Open    int    // connections holding a slot (dialing or open)
	Waiting int    // dials waiting for a slot
	Refused uint64 // dials refused since the limit was made
}

// Stats returns the current use of l (zero for nil).
func (l *ConnLimit) Stats() ConnStats {
	if l == nil {
		return ConnStats{}
	}
	return ConnStats{Open: len(l.slots), Waiting: int(l.waiting.Load()), Refused: l.refused.Load()}
}

// acquire takes a slot for a dial to addr, waiting until ctx, the wait
// bound in ctx (WithWaitBound) or deadline (zero: none) ends. It returns
// the function that gives the slot back.
func (l *ConnLimit) acquire(ctx context.Context, deadline time.Time, addr string) (func(), error) {
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	default:
	}
	if l.limit == 0 || l.waiting.Add(1) > l.maxWaiting {
		if l.limit != 0 {
			l.waiting.Add(-1)
		}
		l.refused.Add(1)
		return nil, &LimitError{Addr: addr, Limit: l.limit}
	}
	defer l.waiting.Add(-1)
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	var abandoned <-chan struct{}
	bound := waitBoundOf(ctx)
	if bound != nil {
		abandoned = bound.Done()
	}
	var cause error
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	case <-ctx.Done():
		cause = ctx.Err()
	case <-abandoned:
		cause = bound.Err()
	case <-expired:
		cause = context.DeadlineExceeded
	}
	l.refused.Add(1)
	return nil, &LimitError{Addr: addr, Limit: l.limit, Waited: cause}
}

func (l *ConnLimit) release() { <-l.slots }

// LimitError is the error of a dial refused by a ConnLimit. It wraps
// ErrConnectionLimit and, when the dial gave up waiting, the reason (a
// context error). It is a net.Error whose Timeout reports a wait that
// ran out of time, so clients report it as they report connect timeouts.
type LimitError struct {
	Addr  string
	Limit int
	// Waited is why the dial stopped waiting for a slot; nil when it was
	// refused without waiting (limit 0, or too many dials waiting).
	Waited error
}

func (e *LimitError) Error() string {
	msg := fmt.Sprintf("connect to %s: the app already has %d outbound connections open, its limit ([outbound_networking] max_total_connections)", e.Addr, e.Limit)
	switch {
	case e.Limit == 0:
		return fmt.Sprintf("connect to %s: outbound connections are disabled ([outbound_networking] max_total_connections = 0)", e.Addr)
	case e.Waited == nil:
		return msg + ", and too many dials are already waiting"
	}
	return msg + "; gave up waiting for one to close: " + e.Waited.Error()
}

func (e *LimitError) Unwrap() []error {
	if e.Waited == nil {
		return []error{ErrConnectionLimit}
	}
	return []error{ErrConnectionLimit, e.Waited}
}

// Timeout reports whether the dial waited until its deadline.
func (e *LimitError) Timeout() bool { return errors.Is(e.Waited, context.DeadlineExceeded) }

// Temporary is true: slots free up as connections close.
func (e *LimitError) Temporary() bool { return true }

var _ net.Error = (*LimitError)(nil)

type waitBoundKey struct{}

// WithWaitBound returns ctx marked so that a dial made with it, or with
// any context derived from it, stops waiting for a connection slot when
// ctx ends, even if the dial's own context was detached from ctx's
// cancellation (context.WithoutCancel keeps values: net/http.Transport
// dials under such a context so that the connection can serve a later
// request). Put it on an outgoing request's context: a request that is
// given up then leaves no dial waiting behind it.
func WithWaitBound(ctx context.Context) context.Context {
	return context.WithValue(ctx, waitBoundKey{}, ctx)
}

func waitBoundOf(ctx context.Context) context.Context {
	b, _ := ctx.Value(waitBoundKey{}).(context.Context)
	return b
}

// limitedConn is a connection holding a ConnLimit slot until closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// limitedSysConn keeps syscall.Conn visible: the MySQL and Redis clients
// use it to check pooled connections for liveness before reuse.
type limitedSysConn struct{ *limitedConn }

func (c limitedSysConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

// holdSlot returns c, releasing the slot (once) when it is closed.
func holdSlot(c net.Conn, release func()) net.Conn {
	lc := &limitedConn{Conn: c, release: release}
	if _, ok := c.(syscall.Conn); ok {
		return limitedSysConn{lc}
	}
	return lc
}

// dialDeadline is when a dial with d started at now must be done: the
// earlier of d.Deadline and now+d.Timeout; zero for none.
func dialDeadline(d *net.Dialer, now time.Time) time.Time {
	dl := d.Deadline
	if d.Timeout > 0 {
		if t := now.Add(d.Timeout); dl.IsZero() || t.Before(dl) {
			dl = t
		}
	}
	return dl
}
