package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// Error variant cases.
const (
	invalidAddress = iota
	tooManyConnections
	_ // type-error: never returned, as on Spin
	other
)

// env is a configured app and the interfaces to call.
type env struct {
	t      *testing.T
	f      *redis.Factor
	app    *factor.App
	ifaces []component.Interface
	iface  string
}

func newEnv(t *testing.T, f *redis.Factor, runtimeConfig string) *env {
	t.Helper()
	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), runtimeConfig)
	return &env{t: t, f: f, app: factortest.Configure(t, ac, f), ifaces: f.Interfaces(), iface: redis.FermyonV2}
}

func (e *env) state() *redis.AppState {
	st, _ := e.app.State(redis.Name)
	return st.(*redis.AppState)
}

// instance returns the context of a fresh instance whose component may
// reach the given hosts.
func (e *env) instance(p *outbound.Policy) context.Context {
	return outbound.WithPolicy(factortest.Prepare(e.t, e.app, "a"), p)
}

func (e *env) call(ctx context.Context, fn string, args ...any) cabi.Result {
	e.t.Helper()
	res := factortest.Call(e.t, ctx, e.ifaces, e.iface, fn, args...)
	r, ok := res[0].(cabi.Result)
	if !ok {
		e.t.Fatalf("%s returned %#v", fn, res)
	}
	return r
}

// ok calls fn and fails unless it returns ok; it returns the ok value.
func (e *env) ok(ctx context.Context, fn string, args ...any) any {
	e.t.Helper()
	r := e.call(ctx, fn, args...)
	if r.IsErr {
		e.t.Fatalf("%s(%v): error %#v", fn, args[1:], r.Value)
	}
	return r.Value
}

// fails calls fn and returns its error variant.
func (e *env) fails(ctx context.Context, fn string, args ...any) cabi.Variant {
	e.t.Helper()
	r := e.call(ctx, fn, args...)
	if !r.IsErr {
		e.t.Fatalf("%s succeeded: %#v", fn, r.Value)
	}
	return r.Value.(cabi.Variant)
}

func (e *env) open(ctx context.Context, address string) component.Dropper {
	e.t.Helper()
	return e.ok(ctx, "[static]connection.open", address).(component.Dropper)
}

func directClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func bin(s string) cabi.Variant { return cabi.Variant{Case: 1, Value: []byte(s)} }
func i64(n int64) cabi.Variant  { return cabi.Variant{Case: 0, Value: n} }
func params(p ...any) []any     { return p }
func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}
func resBin(s string) cabi.Variant    { return cabi.Variant{Case: 3, Value: []byte(s)} }
func resStatus(s string) cabi.Variant { return cabi.Variant{Case: 1, Value: s} }

// wrongType is Spin's message for a WRONGTYPE reply.
const wrongType = "WRONGTYPE: Operation against a key holding the wrong kind of value"

// TestOperations runs every function of both interface versions against
// the real Redis and checks the effects with a separate client.
func TestOperations(t *testing.T) {
	url := testsvc.Redis(t)
	direct := directClient(t, url)
	for _, iface := range []string{redis.FermyonV2, redis.SpinV3} {
		t.Run(iface, func(t *testing.T) {
			e := newEnv(t, redis.New(), "")
			e.iface = iface
			ctx := e.instance(factortest.Policy(t, url))
			bg := context.Background()
			k := testsvc.Unique(t)
			t.Cleanup(func() { direct.Del(bg, k, k+":n", k+":set", k+":x", k+":list") })
			c := e.open(ctx, url)
			defer c.Drop()

			// set / get
			e.ok(ctx, "[method]connection.set", c, k, []byte("v\x00\xff"))
			if v, err := direct.Get(bg, k).Bytes(); err != nil || !bytes.Equal(v, []byte("v\x00\xff")) {
				t.Fatalf("value in Redis = %q, %v", v, err)
			}
			if got := e.ok(ctx, "[method]connection.get", c, k).(cabi.Option); !got.Some || !bytes.Equal(got.Value.([]byte), []byte("v\x00\xff")) {
				t.Fatalf("get = %#v", got)
			}
			if got := e.ok(ctx, "[method]connection.get", c, k+":missing").(cabi.Option); got.Some {
				t.Fatalf("get missing = %#v", got)
			}
			e.ok(ctx, "[method]connection.set", c, k+":x", nil) // empty payload
			if v, err := direct.Get(bg, k+":x").Result(); err != nil || v != "" {
				t.Fatalf("empty value in Redis = %q, %v", v, err)
			}

			// incr
			for want := int64(1); want <= 2; want++ {
				if n := e.ok(ctx, "[method]connection.incr", c, k+":n"); n != want {
					t.Fatalf("incr = %v, want %d", n, want)
				}
			}
			if v := e.fails(ctx, "[method]connection.incr", c, k); v.Case != other || !strings.Contains(v.Value.(string), "not an integer") {
				t.Fatalf("incr of non-integer: %#v", v)
			}

			// sets
			if n := e.ok(ctx, "[method]connection.sadd", c, k+":set", strs("a", "b", "c", "a")); n != uint32(3) {
				t.Fatalf("sadd = %v", n)
			}
			if m, err := direct.SMembers(bg, k+":set").Result(); err != nil || len(m) != 3 {
				t.Fatalf("set in Redis = %v, %v", m, err)
			}
			if n := e.ok(ctx, "[method]connection.srem", c, k+":set", strs("a", "zz")); n != uint32(1) {
				t.Fatalf("srem = %v", n)
			}
			members := e.ok(ctx, "[method]connection.smembers", c, k+":set").([]any)
			slices.SortFunc(members, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			if fmt.Sprint(members) != "[b c]" {
				t.Fatalf("smembers = %v", members)
			}
			// As on Spin, WRONGTYPE is other, worded as redis-rs words it.
			if v := e.fails(ctx, "[method]connection.sadd", c, k, strs("x")); v.Case != other || v.Value != wrongType {
				t.Fatalf("sadd on a string: %#v", v)
			}
			if v := e.fails(ctx, "[method]connection.smembers", c, k); v.Case != other || v.Value != wrongType {
				t.Fatalf("smembers of a string: %#v", v)
			}

			// del
			if n := e.ok(ctx, "[method]connection.del", c, strs(k, k+":n", k+":nothing")); n != uint32(2) {
				t.Fatalf("del = %v", n)
			}
			if n, _ := direct.Exists(bg, k, k+":n").Result(); n != 0 {
				t.Fatalf("%d keys still exist after del", n)
			}

			// publish arrives at a subscriber
			sub := direct.Subscribe(bg, k+":chan")
			defer sub.Close()
			if _, err := sub.Receive(bg); err != nil { // subscription confirmed
				t.Fatal(err)
			}
			e.ok(ctx, "[method]connection.publish", c, k+":chan", []byte("hello"))
			select {
			case msg := <-sub.Channel():
				if msg.Payload != "hello" {
					t.Fatalf("received %q", msg.Payload)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("published message did not arrive")
			}

			// execute
			exec := func(cmd string, p ...any) []any {
				t.Helper()
				return e.ok(ctx, "[method]connection.execute", c, cmd, params(p...)).([]any)
			}
			check := func(got []any, want ...cabi.Variant) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("execute = %#v, want %#v", got, want)
				}
				for i := range want {
					g := got[i].(cabi.Variant)
					if g.Case != want[i].Case || fmt.Sprint(g.Value) != fmt.Sprint(want[i].Value) {
						t.Fatalf("execute result %d = %#v, want %#v", i, g, want[i])
					}
				}
			}
			check(exec("set", bin(k), bin("Eureka!")), resStatus("OK")) // a status reply
			check(exec("append", bin(k), bin(" I've got it!")), cabi.Variant{Case: 2, Value: int64(20)})
			check(exec("get", bin(k)), resBin("Eureka! I've got it!"))
			check(exec("set", bin(k+":n"), i64(41)), resStatus("OK"))
			check(exec("incr", bin(k+":n")), cabi.Variant{Case: 2, Value: int64(42)})
			check(exec("get", bin(k+":missing")), cabi.Variant{Case: 0})
			check(exec("mget", bin(k+":n"), bin(k+":missing")), resBin("42"), cabi.Variant{Case: 0})
			check(exec("rpush", bin(k+":list"), bin("x"), bin("y")), cabi.Variant{Case: 2, Value: int64(2)})
			check(exec("lrange", bin(k+":list"), i64(0), i64(-1)), resBin("x"), resBin("y"))
			// Nested arrays are flattened, as Spin does.
			check(exec("eval", bin("return {1, {2, 'x'}, 'y'}"), i64(0)),
				cabi.Variant{Case: 2, Value: int64(1)}, cabi.Variant{Case: 2, Value: int64(2)}, resBin("x"), resBin("y"))
			if v := e.fails(ctx, "[method]connection.execute", c, "nosuchcommand", params()); v.Case != other || !strings.Contains(v.Value.(string), "unknown command") {
				t.Fatalf("unknown command: %#v", v)
			}
			if v := e.fails(ctx, "[method]connection.execute", c, "eval", params(bin("return {1, redis.error_reply('boom')}"), i64(0))); v.Case != other || !strings.Contains(v.Value.(string), "boom") {
				t.Fatalf("error inside an array: %#v", v)
			}
		})
	}
}

// TestDenied: an address outside allowed_outbound_hosts is invalid-address
// and nothing is dialled; no policy at all denies everything.
func TestDenied(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
			accepted <- struct{}{}
		}
	}()
	addr := "redis://" + ln.Addr().String()
	e := newEnv(t, redis.New(), "")
	for name, ctx := range map[string]context.Context{
		"other host":   e.instance(factortest.Policy(t, "redis://10.1.2.3:6379")),
		"other port":   e.instance(factortest.Policy(t, "redis://127.0.0.1:1")),
		"other scheme": e.instance(factortest.Policy(t, "rediss://127.0.0.1:*")),
		"no policy":    factortest.Prepare(t, e.app, "a"),
	} {
		if v := e.fails(ctx, "[static]connection.open", addr); v.Case != invalidAddress {
			t.Errorf("%s: %#v", name, v)
		}
	}
	select {
	case <-accepted:
		t.Fatal("a denied open connected")
	case <-time.After(200 * time.Millisecond):
	}
	if n := e.state().Clients(); n != 0 {
		t.Fatalf("%d clients created for denied opens", n)
	}
}

// TestInvalidAddress: allowed but unusable addresses are invalid-address.
func TestInvalidAddress(t *testing.T) {
	e := newEnv(t, redis.New(), "")
	ctx := e.instance(factortest.Policy(t, "*://*:*"))
	for _, addr := range []string{
		"unix:///tmp/redis.sock", "http://127.0.0.1:6379", "127.0.0.1:6379",
		"redis://127.0.0.1:6379/notadb", "redis://127.0.0.1:99999", "redis://[::1",
		"redis://u:p%zz@127.0.0.1:6379",
	} {
		if v := e.fails(ctx, "[static]connection.open", addr); v.Case != invalidAddress {
			t.Errorf("%q: %#v", addr, v)
		}
	}
}

// TestErrorsHideSecrets: failing to connect or authenticate never echoes
// the password in the address.
func TestErrorsHideSecrets(t *testing.T) {
	url := testsvc.Redis(t)
	e := newEnv(t, redis.New(), "")
	ctx := e.instance(factortest.Policy(t, "redis://127.0.0.1:*"))
	host := strings.TrimPrefix(url, "redis://")
	for _, addr := range []string{
		"redis://user:s3cr3t-pw@127.0.0.1:1",       // refused
		"redis://nobody:s3cr3t-pw@" + host,         // bad credentials
		"redis://:s3cr3t-pw@127.0.0.1:6379/notadb", // unparsable
		"redis://:s3cr3t-pw@127.0.0.1:bad",
	} {
		v := e.fails(ctx, "[static]connection.open", addr)
		t.Logf("%s: %#v", addr, v)
		if msg := fmt.Sprint(v.Value); strings.Contains(msg, "s3cr3t") {
			t.Errorf("%q: error shows the password: %s", addr, msg)
		}
	}
	if n := e.state().Clients(); n != 0 {
		t.Errorf("%d clients kept for servers that did not answer", n)
	}
}

// TestConnectionLimits: an instance holds at most MaxConnectionsPerInstance
// connections; [outbound_redis] max_connections bounds the app's.
func TestConnectionLimits(t *testing.T) {
	url := testsvc.Redis(t)
	p := factortest.Policy(t, url)

	e := newEnv(t, redis.NewWithLimits(redis.Limits{MaxConnectionsPerInstance: 2}), "")
	ctx := e.instance(p)
	c1, c2 := e.open(ctx, url), e.open(ctx, url)
	if v := e.fails(ctx, "[static]connection.open", url); v.Case != tooManyConnections {
		t.Fatalf("third open: %#v", v)
	}
	e.open(e.instance(p), url).Drop() // another instance has its own table
	c1.Drop()
	e.open(ctx, url).Drop()
	c2.Drop()
	if n := e.state().Clients(); n != 1 {
		t.Fatalf("%d pooled clients for one address, want 1", n)
	}

	e = newEnv(t, redis.New(), "[outbound_redis]\nmax_connections = 1\n")
	held := e.open(e.instance(p), url)
	short, cancel := context.WithTimeout(e.instance(p), 100*time.Millisecond)
	defer cancel()
	if v := e.fails(short, "[static]connection.open", url); v.Case != tooManyConnections {
		t.Fatalf("open over max_connections: %#v", v)
	}
	done := make(chan component.Dropper)
	go func() {
		res, err := factortest.TryCall(t, e.instance(p), e.ifaces, e.iface, "[static]connection.open", url)
		if err != nil || res[0].(cabi.Result).IsErr {
			done <- nil
			return
		}
		done <- res[0].(cabi.Result).Value.(component.Dropper)
	}()
	time.Sleep(50 * time.Millisecond)
	held.Drop() // the waiting open proceeds
	select {
	case c := <-done:
		if c == nil {
			t.Fatal("waiting open failed")
		}
		c.Drop()
	case <-time.After(5 * time.Second):
		t.Fatal("waiting open never proceeded")
	}
}

// TestAddressPool: the app keeps at most MaxAddresses clients, evicting
// idle ones.
func TestAddressPool(t *testing.T) {
	url := testsvc.Redis(t)
	p := factortest.Policy(t, url)
	e := newEnv(t, redis.NewWithLimits(redis.Limits{MaxAddresses: 1}), "")
	ctx := e.instance(p)
	e.open(ctx, url+"/0").Drop()
	c := e.open(ctx, url+"/1") // evicts the idle /0 client
	if v := e.fails(ctx, "[static]connection.open", url+"/0"); v.Case != tooManyConnections {
		t.Fatalf("open while the only client is busy: %#v", v)
	}
	if n := e.state().Clients(); n != 1 {
		t.Fatalf("%d clients", n)
	}
	c.Drop()
	e.open(ctx, url+"/0").Drop()
}

// TestResultLimit: get, smembers and execute refuse results over
// MaxResultBytes, with Spin's message.
func TestResultLimit(t *testing.T) {
	url := testsvc.Redis(t)
	direct := directClient(t, url)
	k := testsvc.Unique(t)
	bg := context.Background()
	defer direct.Del(bg, k, k+":s")
	direct.Set(bg, k, strings.Repeat("x", 100), 0)
	direct.SAdd(bg, k+":s", strings.Repeat("a", 60), strings.Repeat("b", 60))
	e := newEnv(t, redis.NewWithLimits(redis.Limits{MaxResultBytes: 99}), "")
	ctx := e.instance(factortest.Policy(t, url))
	c := e.open(ctx, url)
	defer c.Drop()
	for _, call := range [][]any{
		{"[method]connection.get", c, k},
		{"[method]connection.smembers", c, k + ":s"},
		{"[method]connection.execute", c, "get", params(bin(k))},
		{"[method]connection.execute", c, "smembers", params(bin(k + ":s"))},
	} {
		v := e.fails(ctx, call[0].(string), call[1:]...)
		if v.Case != other || !strings.Contains(v.Value.(string), "query result exceeds limit of 99 bytes") {
			t.Errorf("%s: %#v", call[0], v)
		}
	}
}

// TestBadArguments: arguments of the wrong shape trap with an error; they
// never panic the host.
func TestBadArguments(t *testing.T) {
	url := testsvc.Redis(t)
	e := newEnv(t, redis.New(), "")
	ctx := e.instance(factortest.Policy(t, url))
	c := e.open(ctx, url)
	defer c.Drop()
	for _, call := range [][]any{
		{"[static]connection.open"},
		{"[static]connection.open", 42},
		{"[method]connection.get"},
		{"[method]connection.get", nil, "k"},
		{"[method]connection.get", "not a connection", "k"},
		{"[method]connection.get", c},
		{"[method]connection.set", c, "k", "not bytes"},
		{"[method]connection.del", c, []any{1, 2}},
		{"[method]connection.sadd", c, "k", "not a list"},
		{"[method]connection.execute", c, "get", []any{"not a variant"}},
		{"[method]connection.execute", c, "get", []any{cabi.Variant{Case: 0, Value: []byte("x")}}},
		{"[method]connection.execute", c, "get", []any{cabi.Variant{Case: 7, Value: int64(1)}}},
		{"[method]connection.execute", c, 3, nil},
	} {
		if _, err := factortest.TryCall(t, ctx, e.ifaces, e.iface, call[0].(string), call[1:]...); err == nil {
			t.Errorf("%s%v: no error", call[0], call[1:])
		}
	}
	// Without Prepare the host function traps instead of guessing.
	if _, err := factortest.TryCall(t, context.Background(), e.ifaces, e.iface, "[static]connection.open", url); err == nil {
		t.Error("open without Prepare did not trap")
	}
}

func TestRuntimeConfig(t *testing.T) {
	for rc, want := range map[string]string{
		"[outbound_redis]\nmax_connections = 0\n":     "max_connections must be an integer",
		"[outbound_redis]\nmax_connections = \"1\"\n": "max_connections must be an integer",
		"[outbound_redis]\nmax_conns = 1\n":           `unknown field "max_conns"`,
		"outbound_redis = 1\n":                        "must be a table",
	} {
		ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), rc)
		err := factortest.ConfigureErr(t, ac, redis.New())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", rc, err, want)
		}
	}
}

// TestConcurrentInstances hammers one app's pool from many instances at
// once: every increment (incr and execute) lands and they share one client.
func TestConcurrentInstances(t *testing.T) {
	url := testsvc.Redis(t)
	direct := directClient(t, url)
	k := testsvc.Unique(t)
	defer direct.Del(context.Background(), k)
	e := newEnv(t, redis.NewWithLimits(redis.Limits{PoolSize: 4}), "")
	p := factortest.Policy(t, url)
	const workers, rounds = 8, 25
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range rounds {
				ctx := e.instance(p)
				res, err := factortest.TryCall(t, ctx, e.ifaces, e.iface, "[static]connection.open", url)
				if err != nil || res[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("open: %v %v", err, res)
					return
				}
				c := res[0].(cabi.Result).Value.(component.Dropper)
				res, err = factortest.TryCall(t, ctx, e.ifaces, e.iface, "[method]connection.incr", c, k)
				if err != nil || res[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("incr: %v %v", err, res)
					return
				}
				res, err = factortest.TryCall(t, ctx, e.ifaces, e.iface, "[method]connection.execute", c, "INCR", params(bin(k)))
				c.Drop()
				if err != nil || res[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("execute: %v %v", err, res)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := direct.Get(context.Background(), k).Int(); err != nil || n != 2*workers*rounds {
		t.Fatalf("counter = %d, %v; want %d", n, err, 2*workers*rounds)
	}
	if n := e.state().Clients(); n != 1 {
		t.Fatalf("%d clients", n)
	}
}

// TestTLS: rediss:// speaks TLS through the policy's dialer: the server
// receives a TLS ClientHello.
func TestTLS(t *testing.T) {
	hostPort, first := factortest.FirstBytes(t)
	tlsURL := "rediss://" + hostPort
	e := newEnv(t, redis.New(), "")
	ctx, cancel := context.WithTimeout(e.instance(factortest.Policy(t, tlsURL)), 5*time.Second)
	defer cancel()
	if v := e.fails(ctx, "[static]connection.open", tlsURL); v.Case != other {
		t.Fatalf("TLS to a server that hangs up: %#v", v)
	}
	if b := <-first; len(b) == 0 || b[0] != 0x16 {
		t.Fatalf("server received %x, not a TLS handshake record", b)
	}
}
