package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
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
	errTypeError
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

// backendError maps a go-redis error to the WIT error: WRONGTYPE replies
// are type-error, anything else other(message). go-redis messages carry no
// credentials.
func backendError(err error) cabi.Result {
	var re goredis.Error
	if errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE") {
		return errVariant(errTypeError)
	}
	return cabi.Err(cabi.Variant{Case: errOther, Value: err.Error()})
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

// conn is the connection resource: a borrowed pooled client.
type conn struct {
	in      *instance
	p       *pooled
	dropped atomic.Bool
}

// Drop returns the pooled client, the instance's slot and the app permit.
func (c *conn) Drop() { c.close(false) }

func (c *conn) close(failed bool) {
	if c.dropped.Swap(true) {
		return
	}
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

// Argument helpers: a missing or mistyped argument is ABI misuse (the
// binding lifts arguments by the WIT types), so it traps; it never panics.

func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func connArg(args []any) (*conn, error) {
	c, ok := arg(args, 0).(*conn)
	if !ok || c == nil {
		return nil, errBadArgs
	}
	return c, nil
}

func strArg(args []any, i int) (string, error) {
	s, ok := arg(args, i).(string)
	if !ok {
		return "", errBadArgs
	}
	return s, nil
}

func bytesArg(args []any, i int) ([]byte, error) {
	switch v := arg(args, i).(type) {
	case []byte:
		return v, nil
	case nil: // an empty list
		return nil, nil
	}
	return nil, errBadArgs
}

func strListArg(args []any, i int) ([]any, error) {
	l, ok := arg(args, i).([]any)
	if !ok && arg(args, i) != nil {
		return nil, errBadArgs
	}
	for _, v := range l {
		if _, ok := v.(string); !ok {
			return nil, errBadArgs
		}
	}
	return l, nil
}

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = v.(string)
	}
	return out
}

func openFunc(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	address, err := strArg(args, 0)
	if err != nil {
		return nil, err
	}
	c, res := in.open(ctx, address)
	if c == nil {
		return []any{res}, nil
	}
	return []any{cabi.Ok(c)}, nil
}

func publish(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	channel, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	payload, err := bytesArg(args, 2)
	if err != nil {
		return nil, err
	}
	if err := c.p.client.Publish(ctx, channel, payload).Err(); err != nil {
		return []any{backendError(err)}, nil
	}
	return []any{cabi.Ok(nil)}, nil
}

func get(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
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

func tooLarge(c *conn) cabi.Result {
	return errOtherf("query result exceeds limit of %d bytes", c.in.app.limits.MaxResultBytes)
}

func set(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	value, err := bytesArg(args, 2)
	if err != nil {
		return nil, err
	}
	if err := c.p.client.Set(ctx, key, value, 0).Err(); err != nil {
		return []any{backendError(err)}, nil
	}
	return []any{cabi.Ok(nil)}, nil
}

func incr(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	n, err := c.p.client.IncrBy(ctx, key, 1).Result()
	if err != nil {
		return []any{backendError(err)}, nil
	}
	return []any{cabi.Ok(n)}, nil
}

// count returns a Redis count as the WIT u32.
func count(n int64, err error) []any {
	if err != nil {
		return []any{backendError(err)}
	}
	return []any{cabi.Ok(uint32(min(max(n, 0), 1<<32-1)))}
}

func del(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	keys, err := strListArg(args, 1)
	if err != nil {
		return nil, err
	}
	return count(c.p.client.Del(ctx, toStrings(keys)...).Result()), nil
}

func sadd(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	values, err := strListArg(args, 2)
	if err != nil {
		return nil, err
	}
	return count(c.p.client.SAdd(ctx, key, values...).Result()), nil
}

func srem(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	values, err := strListArg(args, 2)
	if err != nil {
		return nil, err
	}
	return count(c.p.client.SRem(ctx, key, values...).Result()), nil
}

func smembers(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	key, err := strArg(args, 1)
	if err != nil {
		return nil, err
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

func execute(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, err := connArg(args)
	if err != nil {
		return nil, err
	}
	command, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	params, ok := arg(args, 2).([]any)
	if !ok && arg(args, 2) != nil {
		return nil, errBadArgs
	}
	cmdArgs := make([]any, 0, 1+len(params))
	cmdArgs = append(cmdArgs, command)
	for _, p := range params {
		v, ok := p.(cabi.Variant)
		if !ok {
			return nil, errBadArgs
		}
		switch x := v.Value.(type) {
		case int64:
			if v.Case != paramInt64 {
				return nil, errBadArgs
			}
			cmdArgs = append(cmdArgs, x)
		case []byte:
			if v.Case != paramBinary {
				return nil, errBadArgs
			}
			cmdArgs = append(cmdArgs, x)
		default:
			return nil, errBadArgs
		}
	}
	reply, err := c.p.client.Do(ctx, cmdArgs...).Result()
	if errors.Is(err, goredis.Nil) {
		return []any{cabi.Ok([]any{cabi.Variant{Case: resultNil}})}, nil
	}
	if err != nil {
		return []any{backendError(err)}, nil
	}
	budget := c.in.app.limits.MaxResultBytes
	results, err := appendResults(nil, reply, &budget)
	if errors.Is(err, errTooLarge) {
		return []any{tooLarge(c)}, nil
	}
	if err != nil {
		return []any{errOtherf("%v", err)}, nil
	}
	return []any{cabi.Ok(results)}, nil
}

var errTooLarge = errors.New("result too large")

// appendResults converts a reply into redis-result values the way Spin
// does: arrays are flattened, integers are int64, strings binary, nil nil;
// an error inside an array fails the whole call. budget counts the bytes
// left under MaxResultBytes.
func appendResults(out []any, v any, budget *int) ([]any, error) {
	binary := func(b []byte) ([]any, error) {
		if *budget -= len(b); *budget < 0 {
			return nil, errTooLarge
		}
		return append(out, cabi.Variant{Case: resultBinary, Value: b}), nil
	}
	switch x := v.(type) {
	case nil:
		return append(out, cabi.Variant{Case: resultNil}), nil
	case int64:
		return append(out, cabi.Variant{Case: resultInt64, Value: x}), nil
	case string:
		return binary([]byte(x))
	case []byte:
		return binary(x)
	case bool: // RESP3 only; as Spin
		n := int64(0)
		if x {
			n = 1
		}
		return append(out, cabi.Variant{Case: resultInt64, Value: n}), nil
	case float64: // RESP3 only; as Spin, its decimal text
		return binary([]byte(strconv.FormatFloat(x, 'g', -1, 64)))
	case []any:
		var err error
		for _, e := range x {
			if out, err = appendResults(out, e, budget); err != nil {
				return nil, err
			}
		}
		return out, nil
	case error: // an error reply inside an array
		return nil, x
	}
	return nil, fmt.Errorf("redis reply of type %T is not supported", v)
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
