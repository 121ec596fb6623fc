// Package postgres is the outbound PostgreSQL factor:
// fermyon:spin/postgres@2.0.0 (with fermyon:spin/rdbms-types@2.0.0),
// spin:postgres/postgres@3.0.0 and spin:postgres/postgres@4.2.0.
//
// connection.open(address) takes a PostgreSQL URL or keyword/value string.
// Every host it names must be allowed by the component's outbound policy
// (allowed_outbound_hosts, scheme "postgres"); otherwise open fails with
// connection-failed before any connection is attempted. Connections are
// dialed through the policy, so blocked networks apply after DNS.
//
// Connections come from a pool per component and address (at most
// Limits.PoolSize connections each, at most Limits.PoolsPerComponent
// pools per component, least recently used closed first). An open
// connection resource holds one pooled connection until the guest drops
// it; the session is then reset (DISCARD ALL) before another guest gets
// it, and a connection left inside a transaction is closed instead.
//
// Runtime config, as Spin's:
//
//	[outbound_pg]
//	max_connections = 10   # connections the app holds at once; default unlimited
package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Name is the factor's name in a factor.Set.
const Name = "outbound-pg"

// ConfigSection is the runtime-config table this factor takes.
const ConfigSection = "outbound_pg"

// Limits bound what an app and an instance may hold.
type Limits struct {
	// PoolSize bounds the connections of one pool (Spin: 64).
	PoolSize int
	// PoolsPerComponent bounds the pools (addresses) kept per component
	// (Spin: 16).
	PoolsPerComponent int
	// MaxPerInstance bounds the connections one instance holds open
	// (Spin's resource table: 1024).
	MaxPerInstance int
	// AcquireTimeout bounds how long open waits for a connection when the
	// pool or the app's max_connections is exhausted.
	AcquireTimeout time.Duration
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{PoolSize: 64, PoolsPerComponent: 16, MaxPerInstance: 1024, AcquireTimeout: 30 * time.Second}

// Factor is the outbound PostgreSQL factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with l (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.PoolSize <= 0 {
		l.PoolSize = DefaultLimits.PoolSize
	}
	if l.PoolsPerComponent <= 0 {
		l.PoolsPerComponent = DefaultLimits.PoolsPerComponent
	}
	if l.MaxPerInstance <= 0 {
		l.MaxPerInstance = DefaultLimits.MaxPerInstance
	}
	if l.AcquireTimeout <= 0 {
		l.AcquireTimeout = DefaultLimits.AcquireTimeout
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string   { return Name }
func (*Factor) Deps() []string { return nil }

// ConfigureApp takes [outbound_pg]. Pools are created on first use.
func (f *Factor) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	limiter, err := rdbms.TakeLimiter(ac.RuntimeConfig, ConfigSection)
	if err != nil {
		return nil, err
	}
	// An evicted pool's held connections close on release.
	drop := func(p *pool) { p.close() }
	return &AppState{
		limits:  f.limits,
		limiter: limiter,
		pools:   rdbms.NewCache[poolKey](f.limits.PoolsPerComponent, drop, errClosed),
	}, nil
}

// AppState is the factor's per-app state: the app's pools.
type AppState struct {
	limits  Limits
	limiter *rdbms.Limiter

	pools *rdbms.Cache[poolKey, *pool]
}

// poolKey identifies a pool: the component, its policy (whose dialer the
// pool uses) and the address.
type poolKey struct {
	component string
	policy    *outbound.Policy
	address   string
	caHash    string // connection-builder's root certificate, "" for none
}

var errClosed = errors.New("postgres: app is closed")

// Prepare gives the instance its view of the app's pools.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	return context.WithValue(ctx, ctxKey{}, &instance{state: s, component: componentID}), nil
}

// Close closes every pool. Connections still held by instances are closed
// when released.
func (s *AppState) Close() error {
	for _, p := range s.pools.Close() {
		p.close()
	}
	return nil
}

// pool returns the pool for key, creating it (connections are made on
// demand; the cache closes the component's least recently used pool if it
// has too many).
func (s *AppState) pool(key poolKey, cfg *pgx.ConnConfig) (*pool, error) {
	return s.pools.Get(key.component, key, func() (*pool, error) {
		return newPool(cfg, s.limits.PoolSize), nil
	})
}

type ctxKey struct{}

// instance is one instance's view of the factor.
type instance struct {
	state     *AppState
	component string
	open      rdbms.Counter
}

var errNotPrepared = errors.New("postgres: host function called without per-instance state (App.Prepare was not called)")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// conn is the connection resource: one pooled connection, returned to
// its pool when the guest drops it.
type conn struct {
	*rdbms.Conn[*pgx.Conn]
}

// openConn checks address against the policy in ctx and takes a
// connection from the pool.
func (in *instance) openConn(ctx context.Context, address string, ca *rootCA) (*conn, *rdbms.Error) {
	p := outbound.FromContext(ctx)
	cfg, e := parseAddress(address, p)
	if e != nil {
		return nil, e
	}
	key := poolKey{component: in.component, policy: p, address: address}
	if ca != nil {
		applyRootCA(&cfg.Config, ca)
		key.caHash = ca.hash
	}
	var pl *pool
	acquire := func(ctx context.Context) (*pgx.Conn, *rdbms.Error) {
		var err error
		if pl, err = in.state.pool(key, cfg); err != nil {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "%v", err)
		}
		pc, err := pl.acquire(ctx)
		if err != nil {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "%s", redact(err.Error(), address))
		}
		return pc, nil
	}
	release := func(pc *pgx.Conn) { pl.release(pc) }
	limits := in.state.limits
	c, e := rdbms.Open(ctx, &in.open, limits.MaxPerInstance, in.state.limiter, limits.AcquireTimeout, acquire, release)
	if e != nil {
		return nil, e
	}
	return &conn{c}, nil
}
