package postgres

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pool is a bounded pool of connections to one address. (pgxpool would
// need github.com/jackc/puddle, which is not a dependency.) A connection
// is either held by a guest (holding one of size tokens) or idle, so a
// pool never has more than size connections.
type pool struct {
	cfg    *pgx.ConnConfig
	tokens chan struct{}

	mu     sync.Mutex
	idle   []idleConn // most recently used last
	closed bool
}

type idleConn struct {
	c     *pgx.Conn
	since time.Time
}

const (
	// maxIdle closes connections unused this long.
	maxIdle = 5 * time.Minute
	// pingAfter checks a connection idle this long before handing it out.
	pingAfter = time.Second
)

var errPoolClosed = errors.New("connection pool is closed")

func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, tokens: make(chan struct{}, size)}
}

// acquire returns a connection, waiting (until ctx is done) while size
// connections are held.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.tokens <- struct{}{}:
	case <-ctx.Done():
		return nil, errors.New("too many connections: timed out waiting for one to be released")
	}
	for {
		c, since, err := p.popIdle()
		if err != nil {
			<-p.tokens
			return nil, err
		}
		if c == nil {
			break
		}
		if time.Since(since) < pingAfter || c.Ping(ctx) == nil {
			return c, nil
		}
		closeConn(c)
	}
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.tokens
		return nil, err
	}
	return c, nil
}

// popIdle takes the most recently used idle connection, closing those
// idle too long.
func (p *pool) popIdle() (*pgx.Conn, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, time.Time{}, errPoolClosed
	}
	for len(p.idle) > 0 && time.Since(p.idle[0].since) > maxIdle {
		go closeConn(p.idle[0].c)
		p.idle = p.idle[1:]
	}
	if len(p.idle) == 0 {
		return nil, time.Time{}, nil
	}
	ic := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return ic.c, ic.since, nil
}

// release gives back a connection a guest dropped. Off the guest's path,
// the session is reset (settings, prepared statements, temporary tables,
// advisory locks: DISCARD ALL) so the next guest starts clean; a
// connection that is broken, busy or inside a transaction is closed
// instead.
func (p *pool) release(c *pgx.Conn) {
	go func() {
		defer func() { <-p.tokens }()
		if !resetSession(c) {
			closeConn(c)
			return
		}
		p.mu.Lock()
		closed := p.closed
		if !closed {
			p.idle = append(p.idle, idleConn{c: c, since: time.Now()})
		}
		p.mu.Unlock()
		if closed {
			closeConn(c)
		}
	}()
}

func resetSession(c *pgx.Conn) bool {
	pc := c.PgConn()
	if c.IsClosed() || pc.IsBusy() || pc.TxStatus() != 'I' {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pc.Exec(ctx, "DISCARD ALL").Close(); err != nil {
		return false
	}
	// DISCARD ALL dropped the server's prepared statements; forget pgx's.
	return c.DeallocateAll(ctx) == nil
}

// close closes the idle connections; held ones are closed on release.
func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, ic := range idle {
		go closeConn(ic.c)
	}
}

// closeConn says goodbye to the server, giving up after a while.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Close(ctx)
}
