package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

// results formats execute's redis-result values as kind:value.
func results(got []any) string {
	var parts []string
	for _, r := range got {
		v := r.(cabi.Variant)
		switch v.Case {
		case 0:
			parts = append(parts, "nil")
		case 1:
			parts = append(parts, fmt.Sprintf("status:%s", v.Value.(string)))
		case 2:
			parts = append(parts, fmt.Sprintf("int64:%d", v.Value.(int64)))
		case 3:
			parts = append(parts, fmt.Sprintf("binary:%q", v.Value.([]byte)))
		default:
			parts = append(parts, fmt.Sprintf("?%#v", v))
		}
	}
	return strings.Join(parts, " ")
}

// TestExecute checks every kind of reply through execute against the real
// Redis, for both interface versions, as Spin returns them.
func TestExecute(t *testing.T) {
	url := testsvc.Redis(t)
	direct := directClient(t, url)
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	for _, iface := range []string{redis.FermyonV2, redis.SpinV3} {
		t.Run(iface, func(t *testing.T) {
			e := newEnv(t, redis.New(), "")
			e.iface = iface
			ctx := e.instance(factortest.Policy(t, url))
			k := testsvc.Unique(t)
			t.Cleanup(func() { direct.Del(context.Background(), k, k+":bin", k+":list", k+":empty") })
			c := e.open(ctx, url)
			defer c.Drop()
			exec := func(cmd string, p ...any) string {
				t.Helper()
				return results(e.ok(ctx, "[method]connection.execute", c, cmd, params(p...)).([]any))
			}
			for _, tc := range []struct{ got, want string }{
				{exec("SET", bin(k), bin("v")), "status:OK"},
				{exec("PING"), "status:PONG"},
				{exec("TYPE", bin(k)), "status:string"},
				{exec("GET", bin(k)), `binary:"v"`},
				{exec("STRLEN", bin(k)), "int64:1"},
				{exec("INCRBY", bin(k+":n"), i64(-7)), "int64:-7"},
				{exec("GET", bin(k+":missing")), "nil"},
				// Binary-safe both ways: every byte value, CR LF inside, empty.
				{exec("SET", bin(k+":bin"), cabi.Variant{Case: 1, Value: binary}), "status:OK"},
				{exec("RPUSH", bin(k+":list"), bin("a\r\nb"), bin(""), cabi.Variant{Case: 1, Value: nil}), "int64:3"},
				{exec("LRANGE", bin(k+":list"), i64(0), i64(-1)), `binary:"a\r\nb" binary:"" binary:""`},
				{exec("LRANGE", bin(k+":empty"), i64(0), i64(-1)), ""},                                                                  // empty array
				{exec("BLPOP", bin(k+":empty"), bin("0.01")), "nil"},                                                                    // null array
				{exec("MGET", bin(k), bin(k+":missing")), `binary:"v" nil`},                                                             // array with a null
				{exec("EVAL", bin("return {1, {2, {'x', {ok='fine'}}}, false}"), i64(0)), `int64:1 int64:2 binary:"x" status:fine nil`}, // nested, flattened
				{exec("EVAL", bin("return {ok='fine'}"), i64(0)), "status:fine"},
				// Connection state lasts for the resource, as on Spin.
				{exec("MULTI"), "status:OK"},
				{exec("SET", bin(k), bin("w")), "status:QUEUED"},
				{exec("INCR", bin(k+":n")), "status:QUEUED"},
				{exec("EXEC"), "status:OK int64:-6"},
			} {
				if tc.got != tc.want {
					t.Errorf("got %s, want %s", tc.got, tc.want)
				}
			}
			if v, err := direct.Get(context.Background(), k+":bin").Bytes(); err != nil || !bytes.Equal(v, binary) {
				t.Errorf("binary value in Redis = %q, %v", v, err)
			}
			got := e.ok(ctx, "[method]connection.execute", c, "GET", params(bin(k+":bin"))).([]any)
			if v := got[0].(cabi.Variant); v.Case != 3 || !bytes.Equal(v.Value.([]byte), binary) {
				t.Errorf("GET of the binary value = %#v", got)
			}

			// Errors are other, worded as Spin words them; the connection
			// stays usable after them.
			for _, tc := range []struct {
				cmd  string
				p    []any
				want string
			}{
				{"NOSUCHCOMMAND", nil, "An error was signalled by the server - ResponseError: unknown command 'NOSUCHCOMMAND'"},
				{"LPUSH", params(bin(k), bin("x")), wrongType},
				{"EVAL", params(bin("return {1, redis.error_reply('BOOM inside')}"), i64(0)), "BOOM: inside"},
				{"EVAL", params(bin("return {ok='\\255'}"), i64(0)), "redis status reply is not valid UTF-8"},
			} {
				v := e.fails(ctx, "[method]connection.execute", c, tc.cmd, tc.p)
				if msg, _ := v.Value.(string); v.Case != other || !strings.HasPrefix(msg, tc.want) {
					t.Errorf("%s: %#v, want other(%q…)", tc.cmd, v, tc.want)
				}
			}
			if got := exec("GET", bin(k)); got != `binary:"w"` {
				t.Errorf("after the errors: GET = %s", got)
			}
		})
	}
}

// TestExecuteLimit: a reply over MaxResultBytes is a clear error, and the
// next execute works on a fresh connection.
func TestExecuteLimit(t *testing.T) {
	url := testsvc.Redis(t)
	direct := directClient(t, url)
	k := testsvc.Unique(t)
	bg := context.Background()
	t.Cleanup(func() { direct.Del(bg, k, k+":list") })
	direct.Set(bg, k, strings.Repeat("x", 5000), 0)
	for range 100 {
		direct.RPush(bg, k+":list", 1)
	}
	e := newEnv(t, redis.NewWithLimits(redis.Limits{MaxResultBytes: 2000}), "")
	ctx := e.instance(factortest.Policy(t, url))
	c := e.open(ctx, url)
	defer c.Drop()
	for _, p := range [][]any{
		{"GET", params(bin(k))},                                            // one big bulk string
		{"LRANGE", params(bin(k+":list"), i64(0), i64(-1))},                // many small values
		{"EVAL", params(bin("return {ok=string.rep('s', 5000)}"), i64(0))}, // a long status line
	} {
		v := e.fails(ctx, "[method]connection.execute", c, p[0], p[1])
		if v.Case != other || v.Value != "query result exceeds limit of 2000 bytes" {
			t.Errorf("%s: %#v", p[0], v)
		}
		if got := results(e.ok(ctx, "[method]connection.execute", c, "PING", params()).([]any)); got != "status:PONG" {
			t.Errorf("PING after %s: %s", p[0], got)
		}
	}
}

// TestExecuteDeadline: execute ends at the call's deadline, and the
// connection is replaced afterwards.
func TestExecuteDeadline(t *testing.T) {
	url := testsvc.Redis(t)
	e := newEnv(t, redis.New(), "")
	ctx := e.instance(factortest.Policy(t, url))
	c := e.open(ctx, url)
	defer c.Drop()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	v := e.fails(short, "[method]connection.execute", c, "BLPOP", params(bin(testsvc.Unique(t)), i64(10)))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("execute ran %v past a 200ms deadline", took)
	}
	if v.Case != other || !strings.Contains(v.Value.(string), "deadline") {
		t.Errorf("execute past the deadline: %#v", v)
	}
	if got := results(e.ok(ctx, "[method]connection.execute", c, "PING", params()).([]any)); got != "status:PONG" {
		t.Errorf("PING after the deadline: %s", got)
	}
}

// TestExecuteConnection: execute's connection belongs to the resource: it
// authenticates and selects the address's database, and drop closes it.
func TestExecuteConnection(t *testing.T) {
	base := testsvc.Redis(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	if u.User != nil {
		t.Skip("the test Redis needs credentials of its own")
	}
	direct := directClient(t, base)
	bg := context.Background()
	user, pass := testsvc.Unique(t), "s3cr3t-"+testsvc.Unique(t)
	if err := direct.Do(bg, "ACL", "SETUSER", user, "on", ">"+pass, "~*", "&*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Do(bg, "ACL", "DELUSER", user) })
	addr := fmt.Sprintf("redis://%s:%s@%s/2", user, pass, u.Host)
	db2 := directClient(t, "redis://"+u.Host+"/2")
	k := testsvc.Unique(t)
	t.Cleanup(func() { db2.Del(bg, k) })

	e := newEnv(t, redis.New(), "")
	ctx := e.instance(factortest.Policy(t, "redis://"+u.Host))
	c := e.open(ctx, addr)
	exec := func(cmd string, p ...any) []any {
		t.Helper()
		return e.ok(ctx, "[method]connection.execute", c, cmd, params(p...)).([]any)
	}
	if got := results(exec("ACL", bin("WHOAMI"))); got != fmt.Sprintf("binary:%q", user) {
		t.Errorf("ACL WHOAMI = %s, want %s", got, user)
	}
	if got := results(exec("SET", bin(k), bin("in db 2"))); got != "status:OK" {
		t.Errorf("SET = %s", got)
	}
	if v, err := db2.Get(bg, k).Result(); err != nil || v != "in db 2" {
		t.Errorf("key in database 2 = %q, %v", v, err)
	}
	id := exec("CLIENT", bin("ID"))[0].(cabi.Variant).Value.(int64)
	if got := results(exec("CLIENT", bin("ID"))); got != fmt.Sprintf("int64:%d", id) {
		t.Errorf("execute changed connections between calls: CLIENT ID = %s, then %d", got, id)
	}
	c.Drop()
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := direct.Do(bg, "CLIENT", "LIST", "ID", id).Text()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(list) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execute's connection still open after drop: %s", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExecuteBrokenServer: a server that hangs up mid-reply or sends
// garbage fails the call with an error, never a panic or a hang, and the
// next execute dials afresh.
func TestExecuteBrokenServer(t *testing.T) {
	replies := map[string]string{
		"CUTBULK":  "$10\r\nabc",
		"CUTARRAY": "*3\r\n:1\r\n",
		"SILENT":   "",
		"GARBAGE":  "?what\r\n",
		"RESP3":    "%1\r\n+a\r\n+b\r\n",
	}
	srv := redis.StartFakeServer(t, func(cmd []string) (string, bool) {
		if raw, ok := replies[cmd[0]]; ok {
			return raw, true
		}
		return "+FINE\r\n", false
	})
	addr := "redis://" + srv.Addr
	e := newEnv(t, redis.New(), "")
	ctx, cancel := context.WithTimeout(e.instance(factortest.Policy(t, addr)), 20*time.Second)
	defer cancel()
	c := e.open(ctx, addr)
	defer c.Drop()
	for cmd, want := range map[string]string{
		"CUTBULK":  "closed by the server before the reply was complete",
		"CUTARRAY": "closed by the server before the reply was complete",
		"SILENT":   "closed by the server before the reply was complete",
		"GARBAGE":  "unsupported reply type '?'",
		"RESP3":    "unsupported reply type '%'",
	} {
		v := e.fails(ctx, "[method]connection.execute", c, cmd, params(bin("x")))
		if v.Case != other || !strings.Contains(v.Value.(string), want) {
			t.Errorf("%s: %#v, want other(…%s…)", cmd, v, want)
		}
		if got := results(e.ok(ctx, "[method]connection.execute", c, "OK?", params()).([]any)); got != "status:FINE" {
			t.Errorf("after %s: %s", cmd, got)
		}
	}
}
