// Package mysql is the outbound MySQL factor: fermyon:spin/mysql@2.0.0
// (with fermyon:spin/rdbms-types@2.0.0) and spin:mysql/mysql@3.0.0.
//
// connection.open(address) takes Spin's address form,
// mysql://user:password@host:port/database[?ssl-mode=...]. The address
// must be allowed by the component's outbound policy
// (allowed_outbound_hosts, scheme "mysql"); otherwise open fails with
// connection-failed before any connection is attempted. Connections are
// dialed through the policy, so blocked networks apply after DNS.
//
// As in Spin, every open makes a fresh server connection, held until the
// guest drops the resource and then closed: no session state (variables,
// temporary tables, an open transaction) passes from one guest to the
// next. Statements are always prepared (the binary protocol), as Spin's
// driver does.
//
// Runtime config, as Spin's:
//
//	[outbound_mysql]
//	max_connections = 10   # connections the app holds at once; default unlimited
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Name is the factor's name in a factor.Set.
const Name = "outbound-mysql"

// ConfigSection is the runtime-config table this factor takes.
const ConfigSection = "outbound_mysql"

// Limits bound what an app and an instance may hold.
type Limits struct {
	// PerAddress bounds the connections open at once to one address from
	// one component.
	PerAddress int
	// AddressesPerComponent bounds the addresses whose connectors are kept
	// per component (least recently used dropped first).
	AddressesPerComponent int
	// MaxPerInstance bounds the connections one instance holds open
	// (Spin's resource table: 1024).
	MaxPerInstance int
	// AcquireTimeout bounds how long open waits when PerAddress or the
	// app's max_connections is exhausted.
	AcquireTimeout time.Duration
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{PerAddress: 64, AddressesPerComponent: 16, MaxPerInstance: 1024, AcquireTimeout: 30 * time.Second}

// Factor is the outbound MySQL factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with l (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.PerAddress <= 0 {
		l.PerAddress = DefaultLimits.PerAddress
	}
	if l.AddressesPerComponent <= 0 {
		l.AddressesPerComponent = DefaultLimits.AddressesPerComponent
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

// ConfigureApp takes [outbound_mysql].
func (f *Factor) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	limiter, err := rdbms.TakeLimiter(ac.RuntimeConfig, ConfigSection)
	if err != nil {
		return nil, err
	}
	// An evicted handle's connections close off the guest's path.
	drop := func(d *sql.DB) { go d.Close() }
	return &AppState{
		limits:  f.limits,
		limiter: limiter,
		dbs:     rdbms.NewCache[dbKey](f.limits.AddressesPerComponent, drop, errClosed),
	}, nil
}

// AppState is the factor's per-app state: a database handle per
// component, policy and address.
type AppState struct {
	limits  Limits
	limiter *rdbms.Limiter

	dbs *rdbms.Cache[dbKey, *sql.DB]
}

// dbKey identifies a handle: the component, its policy (whose dialer it
// uses) and the address.
type dbKey struct {
	component string
	policy    *outbound.Policy
	address   string
}

var errClosed = errors.New("mysql: app is closed")

// Prepare gives the instance its view of the app's state.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	return context.WithValue(ctx, ctxKey{}, &instance{state: s, component: componentID}), nil
}

// Close closes every handle; connections still held are closed when the
// instance drops them.
func (s *AppState) Close() error {
	var errs []error
	for _, d := range s.dbs.Close() {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

// db returns the handle for key, creating it (the cache drops the
// component's least recently used one if it has too many).
func (s *AppState) db(key dbKey, cfg *driver.Config) (*sql.DB, error) {
	return s.dbs.Get(key.component, key, func() (*sql.DB, error) {
		connector, err := driver.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		d := sql.OpenDB(connector)
		d.SetMaxOpenConns(s.limits.PerAddress)
		// No idle connections: a released connection is closed, so every
		// open starts a fresh session, as in Spin.
		d.SetMaxIdleConns(0)
		return d, nil
	})
}

type ctxKey struct{}

// instance is one instance's view of the factor.
type instance struct {
	state     *AppState
	component string
	open      rdbms.Counter
}

var errNotPrepared = errors.New("mysql: host function called without per-instance state (App.Prepare was not called)")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// conn is the connection resource: one server connection.
type conn struct {
	*rdbms.Conn[*sql.Conn]
}

// openConn checks address against the policy in ctx and connects.
func (in *instance) openConn(ctx context.Context, address string) (*conn, *rdbms.Error) {
	p := outbound.FromContext(ctx)
	cfg, e := parseAddress(address, p)
	if e != nil {
		return nil, e
	}
	limits := in.state.limits
	acquire := func(ctx context.Context) (*sql.Conn, *rdbms.Error) {
		d, err := in.state.db(dbKey{component: in.component, policy: p, address: address}, cfg)
		if err != nil {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "%v", err)
		}
		sc, err := d.Conn(ctx)
		if err != nil {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "%s", scrub(err.Error(), cfg.Passwd))
		}
		return sc, nil
	}
	// A dropped connection closes, the driver saying goodbye to the server
	// off the guest's path.
	closeConn := func(sc *sql.Conn) { go sc.Close() }
	c, e := rdbms.Open(ctx, &in.open, limits.MaxPerInstance, in.state.limiter, limits.AcquireTimeout, acquire, closeConn)
	if e != nil {
		return nil, e
	}
	return &conn{c}, nil
}
