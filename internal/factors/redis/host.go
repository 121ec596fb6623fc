package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Interface names.
const (
	FermyonV2 = "fermyon:spin/redis@2.0.0"
	SpinV3    = "spin:redis/redis@3.0.0"
)

// The error variant's cases, identical in both interfaces.
const (
	errInvalidAddress = iota
	errTooManyConnections
	errTypeError // never returned: see backendError
	errOther
)

// The redis-parameter and redis-result variants' cases.
const (
	paramInt64 = iota
	paramBinary
)

const (
	resultNil = iota
	resultStatus
	resultInt64
	resultBinary
)

func errVariant(kind uint32) cabi.Result { return cabi.Err(cabi.Variant{Case: kind}) }

func errOtherf(format string, args ...any) cabi.Result {
	return cabi.Err(cabi.Variant{Case: errOther, Value: fmt.Sprintf(format, args...)})
}

// backendError maps a go-redis error to the WIT error other(message), with
// server error replies worded as Spin words them (serverErrorText). Like
// Spin, no server reply is type-error, WRONGTYPE included: Spin's sadd maps
// only redis-rs's client-side TypeError (a reply it cannot convert, which
// an integer reply never is) to type-error, and redis-rs classifies
// WRONGTYPE as an extension error. go-redis messages carry no credentials.
func backendError(err error) cabi.Result {
	var re goredis.Error
	if errors.As(err, &re) && !strings.HasPrefix(re.Error(), "redis: ") {
		return errOtherf("%s", serverErrorText(re.Error()))
	}
	return cabi.Err(cabi.Variant{Case: errOther, Value: err.Error()})
}

// redisRSKinds are the error codes redis-rs (Spin's client) knows, with the
// names its messages give them; other codes are extension errors.
var redisRSKinds = map[string]string{
	"ERR":         "ResponseError",
	"EXECABORT":   "ExecAbortError",
	"LOADING":     "BusyLoadingError",
	"NOSCRIPT":    "NoScriptError",
	"MOVED":       "Moved",
	"ASK":         "Ask",
	"TRYAGAIN":    "TryAgain",
	"CLUSTERDOWN": "ClusterDown",
	"CROSSSLOT":   "CrossSlot",
	"MASTERDOWN":  "MasterDown",
	"READONLY":    "ReadOnly",
	"NOTBUSY":     "NotBusy",
	"NOSUB":       "NoSub",
}

// serverErrorText words a server error reply ("CODE detail") the way Spin's
// other(...) does, so guests see the same message on both:
// "An error was signalled by the server - ResponseError: unknown command
// ..." for the codes redis-rs knows, "WRONGTYPE: Operation against ..." for
// the rest.
func serverErrorText(line string) string {
	code, detail, hasDetail := strings.Cut(line, " ")
	if kind, known := redisRSKinds[code]; known {
		if !hasDetail {
			return "An error was signalled by the server- " + kind // sic, as redis-rs
		}
		return "An error was signalled by the server - " + kind + ": " + detail
	}
	if !hasDetail {
		detail = "Unknown extension error encountered"
	}
	return code + ": " + detail
}

var (
	errNotPrepared = errors.New("redis: host function called without per-instance state (App.Prepare was not called)")
	errBadArgs     = errors.New("redis: host function called with arguments of the wrong type")
)

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// conn is the connection resource: a borrowed pooled client for the typed
// operations, and the resource's own RESP2 connection for execute.
type conn struct {
	in      *instance
	p       *pooled
	dropped atomic.Bool

	// execMu guards exec, which execute dials on first use and drop closes
	// (see execute.go).
	execMu sync.Mutex
	exec   *respConn
}

// Drop closes execute's connection and returns the pooled client, the
// instance's slot and the app permit.
func (c *conn) Drop() { c.close(false) }

func (c *conn) close(failed bool) {
	if c.dropped.Swap(true) {
		return
	}
	c.closeExec()
	c.in.app.release(c.p, failed)
	c.in.app.returnPermit()
	c.in.held.Add(-1)
}

// Timeouts of pooled clients. Commands also end at the request's deadline
// (ContextTimeoutEnabled).
const (
	dialTimeout = 10 * time.Second
	ioTimeout   = 30 * time.Second
	idleTimeout = 5 * time.Minute
)

// clientOptions parses a redis:// or rediss:// address into go-redis
// options for a pooled client that dials through fallback's policy (or the
// calling instance's). Only the address's destination, credentials,
// database and TLS are taken from it: pool sizes and timeouts are the
// host's, whatever query options the guest adds.
func (s *AppState) clientOptions(address string, fallback *outbound.Policy) (*goredis.Options, bool) {
	scheme, _, ok := strings.Cut(address, "://")
	if !ok || (scheme != "redis" && scheme != "rediss") {
		return nil, false
	}
	u, err := goredis.ParseURL(address)
	if err != nil { // never shown: url errors quote the password
		return nil, false
	}
	host, port, err := net.SplitHostPort(u.Addr)
	if err != nil || host == "" || port == "" {
		return nil, false
	}
	return &goredis.Options{
		Network:               "tcp",
		Addr:                  u.Addr,
		Username:              u.Username,
		Password:              u.Password,
		DB:                    u.DB,
		Protocol:              2, // RESP2 replies, as Spin's client (arrays, not maps)
		DisableIndentity:      true,
		Dialer:                dialer(fallback, u.TLSConfig),
		MaxRetries:            -1, // a retried INCR may apply twice; Spin does not retry
		DialTimeout:           dialTimeout,
		ReadTimeout:           ioTimeout,
		WriteTimeout:          ioTimeout,
		ContextTimeoutEnabled: true,
		PoolSize:              s.limits.PoolSize,
		MaxIdleConns:          max(1, s.limits.PoolSize/4),
		ConnMaxIdleTime:       idleTimeout,
	}, true
}

// dialer connects through the calling instance's outbound policy (go-redis
// passes the command's context), or through fallback for go-redis's own
// background redials, and adds TLS for rediss.
func dialer(fallback *outbound.Policy, tlsConf *tls.Config) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		// go-redis applies DialTimeout only to its own dialer.
		ctx, cancel := context.WithTimeout(ctx, dialTimeout)
		defer cancel()
		c, err := policyOf(ctx, fallback).DialContext(ctx, network, addr)
		if err != nil || tlsConf == nil {
			return c, err
		}
		tc := tls.Client(c, tlsConf.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
}

// open checks the address against the policy, takes the instance's and
// the app's connection slots, borrows the pooled client and pings it. It
// returns the connection, or nil and the WIT error result.
func (in *instance) open(ctx context.Context, address string) (*conn, cabi.Result) {
	policy := outbound.FromContext(ctx)
	if !policy.AllowsURL(address, "redis") {
		return nil, errVariant(errInvalidAddress)
	}
	opt, ok := in.app.clientOptions(address, policy)
	if !ok {
		return nil, errVariant(errInvalidAddress)
	}
	if int(in.held.Add(1)) > in.app.limits.MaxConnectionsPerInstance {
		in.held.Add(-1)
		return nil, errVariant(errTooManyConnections)
	}
	if !in.app.takePermit(ctx) {
		in.held.Add(-1)
		return nil, errVariant(errTooManyConnections)
	}
	p, err := in.app.acquire(address, opt)
	if err != nil {
		in.app.returnPermit()
		in.held.Add(-1)
		if errors.Is(err, errPoolFull) {
			return nil, errVariant(errTooManyConnections)
		}
		return nil, errOtherf("%v", err)
	}
	c := &conn{in: in, p: p}
	if err := p.client.Ping(ctx).Err(); err != nil {
		c.close(true)
		return nil, backendError(err)
	}
	return c, cabi.Result{}
}

// argReader decodes a host call's arguments in order (the binding lifts
// them by the WIT types). A missing or mistyped argument is ABI misuse, so
// it traps, never panics: the first one sticks in err and later reads
// return zero values. Go evaluates the calls of one statement left to
// right, so a command reads its arguments in one line and checks err once:
//
//	a := argsOf(args)
//	c, key := a.conn(), a.str()
//	if a.err != nil {
//		return nil, a.err
//	}
type argReader struct {
	vals []any
	next int
	err  error
}

func argsOf(args []any) *argReader { return &argReader{vals: args} }

// take returns the next argument, nil when there is none.
func (a *argReader) take() any {
	i := a.next
	a.next++
	if i < len(a.vals) {
		return a.vals[i]
	}
	return nil
}

func (a *argReader) bad() {
	if a.err == nil {
		a.err = errBadArgs
	}
}

func (a *argReader) conn() *conn {
	c, ok := a.take().(*conn)
	if !ok || c == nil {
		a.bad()
	}
	return c
}

func (a *argReader) str() string {
	s, ok := a.take().(string)
	if !ok {
		a.bad()
	}
	return s
}

func (a *argReader) bytes() []byte {
	switch v := a.take().(type) {
	case []byte:
		return v
	case nil: // an empty list
		return nil
	}
	a.bad()
	return nil
}

// list returns a list argument; nil is an empty list.
func (a *argReader) list() []any {
	v := a.take()
	l, ok := v.([]any)
	if !ok && v != nil {
		a.bad()
	}
	return l
}

// strList returns a list<string> argument, its items still as any (as
// go-redis takes set members).
func (a *argReader) strList() []any {
	l := a.list()
	for _, v := range l {
		if _, ok := v.(string); !ok {
			a.bad()
			return nil
		}
	}
	return l
}

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = v.(string)
	}
	return out
}

// done is the result of a command that returns nothing.
func done(err error) []any {
	if err != nil {
		return []any{backendError(err)}
	}
	return []any{cabi.Ok(nil)}
}

// count returns a Redis count as the WIT u32.
func count(n int64, err error) []any {
	if err != nil {
		return []any{backendError(err)}
	}
	return []any{cabi.Ok(uint32(min(max(n, 0), 1<<32-1)))}
}

func tooLarge(c *conn) cabi.Result {
	return errOtherf("query result exceeds limit of %d bytes", c.in.app.limits.MaxResultBytes)
}

func openFunc(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	a := argsOf(args)
	address := a.str()
	if a.err != nil {
		return nil, a.err
	}
	c, res := in.open(ctx, address)
	if c == nil {
		return []any{res}, nil
	}
	return []any{cabi.Ok(c)}, nil
}

func publish(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, channel, payload := a.conn(), a.str(), a.bytes()
	if a.err != nil {
		return nil, a.err
	}
	return done(c.p.client.Publish(ctx, channel, payload).Err()), nil
}

func get(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key := a.conn(), a.str()
	if a.err != nil {
		return nil, a.err
	}
	v, err := c.p.client.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return []any{cabi.Ok(cabi.None)}, nil
	case err != nil:
		return []any{backendError(err)}, nil
	case len(v) > c.in.app.limits.MaxResultBytes:
		return []any{tooLarge(c)}, nil
	}
	return []any{cabi.Ok(cabi.Some(v))}, nil
}

func set(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key, value := a.conn(), a.str(), a.bytes()
	if a.err != nil {
		return nil, a.err
	}
	return done(c.p.client.Set(ctx, key, value, 0).Err()), nil
}

func incr(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key := a.conn(), a.str()
	if a.err != nil {
		return nil, a.err
	}
	n, err := c.p.client.IncrBy(ctx, key, 1).Result()
	if err != nil {
		return []any{backendError(err)}, nil
	}
	return []any{cabi.Ok(n)}, nil
}

func del(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, keys := a.conn(), a.strList()
	if a.err != nil {
		return nil, a.err
	}
	return count(c.p.client.Del(ctx, toStrings(keys)...).Result()), nil
}

func sadd(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key, members := a.conn(), a.str(), a.strList()
	if a.err != nil {
		return nil, a.err
	}
	return count(c.p.client.SAdd(ctx, key, members...).Result()), nil
}

func srem(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key, members := a.conn(), a.str(), a.strList()
	if a.err != nil {
		return nil, a.err
	}
	return count(c.p.client.SRem(ctx, key, members...).Result()), nil
}

func smembers(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, key := a.conn(), a.str()
	if a.err != nil {
		return nil, a.err
	}
	members, err := c.p.client.SMembers(ctx, key).Result()
	if err != nil {
		return []any{backendError(err)}, nil
	}
	out := make([]any, len(members))
	size := 0
	for i, m := range members {
		if !utf8.ValidString(m) { // WIT strings are UTF-8; Spin fails the conversion too
			return []any{errOtherf("set member %d is not valid UTF-8", i)}, nil
		}
		if size += len(m); size > c.in.app.limits.MaxResultBytes {
			return []any{tooLarge(c)}, nil
		}
		out[i] = m
	}
	return []any{cabi.Ok(out)}, nil
}

// Interfaces implements fermyon:spin/redis@2.0.0 and spin:redis/redis@3.0.0
// (its async functions served synchronously); both have the same shape.
func (*Factor) Interfaces() []component.Interface {
	funcs := func() map[string]component.HostFunc {
		return map[string]component.HostFunc{
			"[static]connection.open":     openFunc,
			"[method]connection.publish":  publish,
			"[method]connection.get":      get,
			"[method]connection.set":      set,
			"[method]connection.incr":     incr,
			"[method]connection.del":      del,
			"[method]connection.sadd":     sadd,
			"[method]connection.smembers": smembers,
			"[method]connection.srem":     srem,
			"[method]connection.execute":  execute,
		}
	}
	return []component.Interface{
		{Name: FermyonV2, Funcs: funcs()},
		{Name: SpinV3, Funcs: funcs()},
	}
}
