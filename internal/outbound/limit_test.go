package outbound

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countingServer is a loopback TCP server that counts the connections it
// has open at once. A client ends a connection with hangUp: the server
// counts it closed before acknowledging, so its count never lags behind a
// slot the client gives back on Close.
type countingServer struct {
	ln       net.Listener
	mu       sync.Mutex
	open     int
	max      int
	accepted int
}

func newCountingServer(t *testing.T) *countingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &countingServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted++
			s.open++
			s.max = max(s.max, s.open)
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

// serve waits for the client's goodbye byte (or EOF), counts the
// connection closed, then acknowledges.
func (s *countingServer) serve(c net.Conn) {
	defer c.Close()
	b := make([]byte, 1)
	c.Read(b)
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	c.Write([]byte{'k'})
	c.Read(b) // until the client closes
}

func (s *countingServer) addr() string { return s.ln.Addr().String() }

func (s *countingServer) counts() (open, max, accepted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open, s.max, s.accepted
}

// hangUp ends a connection to a countingServer.
func hangUp(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := c.Write([]byte{'b'}); err != nil {
		t.Error(err)
	}
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

// eventually polls cond until it holds (failing after a generous while:
// this is no timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func limitedPolicy(t *testing.T, n int) *Policy {
	t.Helper()
	p, err := NewPolicy([]string{"tcp://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	return p.WithConnLimit(NewConnLimit(n))
}

func TestConnLimitCapsOpenConnections(t *testing.T) {
	const limit, dialers = 3, 12
	srv := newCountingServer(t)
	p := limitedPolicy(t, limit)
	l := p.ConnLimit()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Take every slot.
	var held []net.Conn
	for range limit {
		c, err := p.DialContext(ctx, "tcp", srv.addr())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	eventually(t, "the server has the first connections", func() bool { _, _, a := srv.counts(); return a == limit })

	// Further dials wait, before connecting.
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	for range dialers {
		wg.Go(func() {
			c, err := p.DialContext(ctx, "tcp", srv.addr())
			if err != nil {
				errs <- err
				return
			}
			hangUp(t, c)
		})
	}
	eventually(t, "every dialer waits", func() bool { return l.Stats().Waiting == dialers })
	if _, _, accepted := srv.counts(); accepted != limit {
		t.Fatalf("server accepted %d connections while %d slots were taken", accepted, limit)
	}
	if st := l.Stats(); st.Open != limit || st.Refused != 0 {
		t.Errorf("stats %+v", st)
	}

	// Closing one lets exactly one waiting dial through.
	hangUp(t, held[0])
	eventually(t, "one waiting dial connects", func() bool { _, _, a := srv.counts(); return a >= limit+1 })
	// The rest proceed as connections close, never more than the limit at once.
	for _, c := range held[1:] {
		hangUp(t, c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("dial: %v", err)
	}
	open, maxOpen, accepted := srv.counts()
	if maxOpen > limit {
		t.Errorf("server saw %d connections open at once, limit %d", maxOpen, limit)
	}
	if accepted != limit+dialers || open != 0 {
		t.Errorf("server accepted %d connections (%d open), want %d (0 open)", accepted, open, limit+dialers)
	}
	if st := l.Stats(); st != (ConnStats{}) {
		t.Errorf("stats after all closed: %+v", st)
	}
}

func TestConnLimitWaitEnds(t *testing.T) {
	srv := newCountingServer(t)
	p := limitedPolicy(t, 1)
	l := p.ConnLimit()
	held, err := p.DialContext(context.Background(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}

	// dial waits for a slot in the background and returns its error.
	dial := func(ctx context.Context, d *net.Dialer) <-chan error {
		ch := make(chan error, 1)
		go func() {
			c, err := p.DialWith(ctx, d, "tcp", srv.addr())
			if c != nil {
				c.Close()
			}
			ch <- err
		}()
		return ch
	}
	check := func(name string, err error, cause error, timeout bool) {
		t.Helper()
		var le *LimitError
		if !errors.As(err, &le) || !errors.Is(err, ErrConnectionLimit) || !errors.Is(err, cause) {
			t.Fatalf("%s: err = %v, want a LimitError for %v", name, err, cause)
		}
		var ne net.Error
		if !errors.As(err, &ne) || ne.Timeout() != timeout {
			t.Errorf("%s: Timeout() = %v, want %v", name, ne != nil && ne.Timeout(), timeout)
		}
	}

	// The dial's context is cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	ch := dial(ctx, &net.Dialer{})
	eventually(t, "the dial waits", func() bool { return l.Stats().Waiting == 1 })
	cancel()
	check("cancelled", <-ch, context.Canceled, false)

	// Its deadline passes.
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	check("deadline", <-dial(ctx, &net.Dialer{}), context.DeadlineExceeded, true)

	// The dialer's timeout covers the wait.
	check("dialer timeout", <-dial(context.Background(), &net.Dialer{Timeout: 20 * time.Millisecond}), context.DeadlineExceeded, true)

	// The wait bound ends, though the dial's context was detached from it
	// as net/http.Transport detaches its dials.
	bound, cancelBound := context.WithCancel(context.Background())
	ch = dial(context.WithoutCancel(WithWaitBound(bound)), &net.Dialer{})
	eventually(t, "the detached dial waits", func() bool { return l.Stats().Waiting == 1 })
	cancelBound()
	check("wait bound", <-ch, context.Canceled, false)

	if st := l.Stats(); st.Open != 1 || st.Waiting != 0 || st.Refused != 4 {
		t.Errorf("stats %+v, want 1 open, 0 waiting, 4 refused", st)
	}
	if _, _, accepted := srv.counts(); accepted != 1 {
		t.Errorf("server accepted %d connections, want only the held one", accepted)
	}

	// Closing twice gives the slot back once.
	hangUp(t, held)
	held.Close()
	c, err := p.DialContext(context.Background(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	ch = dial(ctx, &net.Dialer{})
	eventually(t, "a second dial waits", func() bool { return l.Stats().Waiting == 1 })
	cancel()
	check("after double close", <-ch, context.Canceled, false)
	hangUp(t, c)
}

func TestConnLimitRefusesWithoutWaiting(t *testing.T) {
	srv := newCountingServer(t)

	// Limit 0: no connection at all.
	p := limitedPolicy(t, 0)
	_, err := p.DialContext(context.Background(), "tcp", srv.addr())
	var le *LimitError
	if !errors.As(err, &le) || le.Waited != nil || !errors.Is(err, ErrConnectionLimit) {
		t.Fatalf("limit 0: err = %v", err)
	}

	// Too many dials waiting: the next one fails at once.
	p = limitedPolicy(t, 1)
	l := p.ConnLimit()
	held, err := p.DialContext(context.Background(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range minWaitingDials {
		wg.Go(func() {
			if _, err := p.DialContext(ctx, "tcp", srv.addr()); !errors.Is(err, context.Canceled) {
				t.Errorf("waiting dial: %v", err)
			}
		})
	}
	eventually(t, "the waiting room is full", func() bool { return l.Stats().Waiting == minWaitingDials })
	_, err = p.DialContext(context.Background(), "tcp", srv.addr())
	if !errors.As(err, &le) || le.Waited != nil || le.Timeout() {
		t.Errorf("dial past the waiting room: err = %v", err)
	}
	cancel()
	wg.Wait()
	hangUp(t, held)
	if _, _, accepted := srv.counts(); accepted != 1 {
		t.Errorf("server accepted %d connections, want 1", accepted)
	}
}

func TestConnLimitFailedDialsGiveBack(t *testing.T) {
	// A port with nothing listening: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	p := limitedPolicy(t, 1)
	if _, err := p.DialContext(context.Background(), "tcp", closed); err == nil || errors.Is(err, ErrConnectionLimit) {
		t.Fatalf("dial refused port: %v", err)
	}
	// A blocked address, refused after taking the slot.
	blocked, err := NewPolicyBlocking([]string{"tcp://127.0.0.1:*"}, mustBlocked(t, "private"))
	if err != nil {
		t.Fatal(err)
	}
	blocked = blocked.WithConnLimit(p.ConnLimit())
	if _, err := blocked.DialContext(context.Background(), "tcp", closed); !errors.Is(err, ErrBlocked) {
		t.Fatalf("dial blocked: %v", err)
	}
	if st := p.ConnLimit().Stats(); st.Open != 0 {
		t.Errorf("failed dials hold slots: %+v", st)
	}
}

func TestConnLimitShared(t *testing.T) {
	srv := newCountingServer(t)
	a := limitedPolicy(t, 1)
	b, err := NewPolicy([]string{"tcp://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	b = b.WithConnLimit(a.ConnLimit())
	c, err := a.DialContext(context.Background(), "tcp", srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	// The connection keeps its syscall.Conn (clients check pooled
	// connections for liveness with it).
	if _, ok := c.(syscall.Conn); !ok {
		t.Errorf("%T is not a syscall.Conn", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.DialContext(ctx, "tcp", srv.addr()); !errors.Is(err, ErrConnectionLimit) {
		t.Errorf("second policy sharing the limit: %v", err)
	}
	hangUp(t, c)
	if c, err = b.DialContext(context.Background(), "tcp", srv.addr()); err != nil {
		t.Fatal(err)
	}
	hangUp(t, c)

	// Without a limit nothing is wrapped or counted.
	if p := a.WithConnLimit(nil); p.ConnLimit() != nil || a.ConnLimit() == nil {
		t.Error("WithConnLimit modifies its receiver")
	}
	if (*ConnLimit)(nil).Limit() != -1 || a.ConnLimit().Limit() != 1 {
		t.Error("Limit")
	}
}
