// Package redis is the outbound Redis factor: fermyon:spin/redis@2.0.0 and
// spin:redis/redis@3.0.0, a connection resource with publish, get, set,
// incr, del, sadd, smembers, srem and execute. The typed operations are
// served by go-redis; execute speaks RESP2 itself (resp.go, execute.go) on
// a connection of the resource's own, so its results keep Spin's kinds
// (a status reply is status, a bulk string binary).
//
// A guest opens a connection by address ("redis://[user:pass@]host[:port]
// [/db]" or "rediss://…"). The address must be allowed by the component's
// allowed_outbound_hosts (checked like Spin: scheme "redis" by default);
// otherwise open fails with invalid-address before anything is dialled.
// Every network connection goes through the component's outbound policy
// (outbound.Policy.DialContext), so blocked networks apply after DNS.
//
// Connections are pooled per app and address: a guest's open borrows the
// app's go-redis client for that address (bounded pool) instead of dialling
// per request, and a PING checks the server answers. A connection resource
// that calls execute dials one more network connection for execute, kept
// until the resource is dropped. Limits follow Spin:
// an instance holds at most 1024 open connections (too-many-connections),
// and results of get/smembers/execute are bounded (128 MiB, "query result
// exceeds limit"). The runtime config may cap the app's concurrently open
// connections, as Spin's does:
//
//	[outbound_redis]
//	max_connections = 10   # open waits for a free slot until the request's deadline
//
// Errors follow Spin: every server error reply is other(message), worded as
// Spin's client words it (WRONGTYPE included, which Spin never reports as
// type-error either). Difference from Spin: a connection's typed
// operations and its execute calls use different network connections, so
// state a guest sets with execute (SELECT, MULTI) does not carry over to
// get/set/…; on Spin one connection serves both.
package redis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Name is the factor's name in a factor.Set.
const Name = "outbound-redis"

// Limits bound what one app and one instance may use.
type Limits struct {
	// MaxConnectionsPerInstance bounds the connection handles one instance
	// holds at once (Spin: 1024); beyond it open fails with
	// too-many-connections.
	MaxConnectionsPerInstance int
	// MaxResultBytes bounds the payload bytes get, smembers and execute
	// return (Spin: 128 MiB); execute also counts 32 bytes for every value
	// of the reply, as Spin does.
	MaxResultBytes int
	// MaxAddresses bounds the distinct addresses an app keeps a pooled
	// client for; when full, the least recently used idle client is closed,
	// and if none is idle open fails with too-many-connections.
	MaxAddresses int
	// PoolSize bounds the network connections of one pooled client (one app,
	// one address). [outbound_redis] max_connections lowers it.
	PoolSize int
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{
	MaxConnectionsPerInstance: 1024,
	MaxResultBytes:            128 << 20,
	MaxAddresses:              64,
	PoolSize:                  32,
}

// Factor is the outbound Redis factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with limits (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.MaxConnectionsPerInstance <= 0 {
		l.MaxConnectionsPerInstance = DefaultLimits.MaxConnectionsPerInstance
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultLimits.MaxResultBytes
	}
	if l.MaxAddresses <= 0 {
		l.MaxAddresses = DefaultLimits.MaxAddresses
	}
	if l.PoolSize <= 0 {
		l.PoolSize = DefaultLimits.PoolSize
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string { return Name }

// Deps is empty: the outbound policy reaches host functions through the
// context (outbound.FromContext), not through a Lookup.
func (*Factor) Deps() []string { return nil }

// parseConfig reads [outbound_redis] strictly: max_connections (>= 1) or
// nothing (0: unlimited).
func parseConfig(ac *factor.AppContext) (maxConns int, err error) {
	t, err := ac.RuntimeConfig.TakeTable("outbound_redis")
	if t == nil {
		return 0, err
	}
	t.Strict("", "max_connections")
	n, _ := t.Int("max_connections", 1, 1<<20)
	return int(n), t.Err()
}

// ConfigureApp takes [outbound_redis]. Nothing is dialled until a guest
// opens a connection.
func (f *Factor) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	maxConns, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	s := &AppState{limits: f.limits, clients: map[string]*pooled{}}
	if maxConns > 0 {
		s.permits = make(chan struct{}, maxConns)
		s.limits.PoolSize = min(s.limits.PoolSize, maxConns)
	}
	return s, nil
}

// AppState is the factor's per-app state: the pooled clients, by address.
type AppState struct {
	limits Limits
	// permits holds one token per open connection handle when the runtime
	// config sets max_connections; nil means unlimited.
	permits chan struct{}

	mu      sync.Mutex
	clients map[string]*pooled
	closed  bool
}

var _ factor.AppState = (*AppState)(nil)

// pooled is one app's go-redis client for one address.
type pooled struct {
	address  string
	client   *goredis.Client
	refs     int // open connection handles using it
	lastUsed time.Time
}

type ctxKey struct{}

// instance is one instance's view: the app state and how many connections
// it holds.
type instance struct {
	app  *AppState
	held atomic.Int32 // open connection handles
}

// Prepare gives the instance its connection table. Every component may
// call open; the outbound policy in the context decides what it reaches.
func (s *AppState) Prepare(ctx context.Context, _ string) (context.Context, error) {
	return context.WithValue(ctx, ctxKey{}, &instance{app: s}), nil
}

// Clients reports how many pooled clients the app holds (tests).
func (s *AppState) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Close closes every pooled client.
func (s *AppState) Close() error {
	s.mu.Lock()
	clients := s.clients
	s.clients, s.closed = nil, true
	s.mu.Unlock()
	var errs []error
	for _, p := range clients {
		errs = append(errs, p.client.Close())
	}
	return errors.Join(errs...)
}

var (
	errPoolFull  = errors.New("too many redis addresses in use by the app")
	errAppClosed = errors.New("app is shutting down")
)

// acquire returns the pooled client for address, creating it with opt
// (which dials through policy) if there is none, and counts a reference.
func (s *AppState) acquire(address string, opt *goredis.Options) (*pooled, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errAppClosed
	}
	if p := s.clients[address]; p != nil {
		p.refs++
		s.mu.Unlock()
		return p, nil
	}
	var evicted *pooled
	if len(s.clients) >= s.limits.MaxAddresses {
		var lru string
		for a, p := range s.clients {
			if p.refs == 0 && (evicted == nil || p.lastUsed.Before(evicted.lastUsed)) {
				lru, evicted = a, p
			}
		}
		if evicted == nil {
			s.mu.Unlock()
			return nil, errPoolFull
		}
		delete(s.clients, lru)
	}
	p := &pooled{address: address, client: goredis.NewClient(opt), refs: 1}
	s.clients[address] = p
	s.mu.Unlock()
	if evicted != nil {
		evicted.client.Close() // idle: nothing in flight uses it
	}
	return p, nil
}

// release drops a reference taken by acquire. A client whose server did
// not answer is closed once unused, rather than kept redialling in the
// background.
func (s *AppState) release(p *pooled, failed bool) {
	s.mu.Lock()
	p.refs--
	p.lastUsed = time.Now()
	discard := failed && p.refs == 0 && s.clients[p.address] == p
	if discard {
		delete(s.clients, p.address)
	}
	s.mu.Unlock()
	if discard {
		p.client.Close()
	}
}

// takePermit waits for a slot under [outbound_redis] max_connections
// until ctx is done.
func (s *AppState) takePermit(ctx context.Context) bool {
	if s.permits == nil {
		return true
	}
	select {
	case s.permits <- struct{}{}:
		return true
	default:
	}
	select {
	case s.permits <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *AppState) returnPermit() {
	if s.permits != nil {
		<-s.permits
	}
}

// policyOf returns the outbound policy in ctx, or fallback.
func policyOf(ctx context.Context, fallback *outbound.Policy) *outbound.Policy {
	if p := outbound.FromContext(ctx); p != nil {
		return p
	}
	return fallback
}
