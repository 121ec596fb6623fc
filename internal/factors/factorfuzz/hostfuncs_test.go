package factorfuzz

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/factors/postgres"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

var (
	seedFlag  = flag.Uint64("seed", 1, "factorfuzz: PRNG seed of TestHostFuncs")
	callsFlag = flag.Int("calls", 0, "factorfuzz: calls per host function (0: 200 local, 40 networked)")
	skipKnown = flag.Bool("skipknown", false, "factorfuzz: leave out the inputs of the known bugs TestRepros replays (to fuzz past them)")
)

// knownBad are pool statements that hit bugs TestRepros reports, by factor.
var knownBad = map[string][]string{
	sqlite.Name:   {"SELECT CAST(x'ff' AS TEXT)"},
	postgres.Name: {""},
}

// Calls per function: networked factors talk to shared services, so fewer.
const (
	localCalls = 200
	netCalls   = 40
)

// TestHostFuncs calls every host function of every factor wisp up
// composes with random well-typed arguments (handles from real opens) and
// requires: no panic, no hang, no trap, results of the WIT result type;
// then passes handles of the wrong kind, which must trap with a message.
func TestHostFuncs(t *testing.T) {
	for _, f := range allFactors() {
		t.Run(f.Name(), func(t *testing.T) {
			fns := functions(t, f, true)
			if len(fns) == 0 {
				t.Skipf("%s has no host functions", f.Name())
			}
			var allowed []string
			svc, networked := services[f.Name()]
			url := ""
			if networked {
				url = svc.url(t)
				allowed = []string{hostPort(svc.scheme, url)}
			}
			_, ctx := configure(t, allowed)
			seed := *seedFlag
			t.Logf("seed %d (rerun with -args -seed=%d)", seed, seed)
			h := newHarness(t, ctx, newRand(seed), testsvc.Unique(t))
			setup(t, h, f, url)

			// Foreign handles for the wrong-kind check: a key-value store
			// and a SQLite connection, opened through their own factors.
			other := newHarness(t, ctx, newRand(seed+1), h.prefix)
			for _, of := range []factor.Factor{keyvalue.New(), sqlite.New()} {
				other.g.hint = hints(other, of, "")
				other.harvestHandles(functions(t, of, false))
			}
			defer other.dropAll()

			h.harvestHandles(fns)
			for rs, hs := range h.g.pool {
				t.Logf("handles: %d × %s (%T)", len(hs), rs.Name, hs[0])
			}
			n := *callsFlag
			if n == 0 {
				n = localCalls
				if networked {
					n = netCalls
				}
			}
			for _, fn := range fns {
				if got := h.fuzz(fn, n); got == 0 {
					t.Errorf("%s: never called: no handle for one of its resource parameters", fn)
				}
			}
			t.Logf("%d calls to %d functions", h.calls, len(fns))
			var foreign []any
			for _, hs := range other.g.pool {
				foreign = append(foreign, hs...)
			}
			for _, hs := range h.g.pool {
				foreign = append(foreign, hs...)
			}
			for _, fn := range fns {
				h.wrongKinds(fn, foreign)
			}
		})
	}
}

// setup gives the harness the factor's hints and argument fixups and
// arranges the cleanup of what the calls leave on shared services.
func setup(t testing.TB, h *harness, f factor.Factor, url string) {
	h.g.hint = hints(h, f, url)
	h.g.big = url == "" // values over the limits only for local backends
	table := h.prefix + "_t"
	switch f.Name() {
	case redis.Name:
		h.fixup = redisFixup(h.prefix)
		t.Cleanup(func() { cleanRedis(t, url, h.prefix) })
	case postgres.Name, mysql.Name:
		h.fixup = sqlFixup(h)
		t.Cleanup(func() { dropTable(h, f, table) })
	case sqlite.Name:
		h.fixup = sqlFixup(h)
	}
	t.Cleanup(h.dropAll)
}

// Statements the SQL hints draw from; T is the test's own table.
var sqlPools = map[string][]string{
	sqlite.Name: {
		"CREATE TABLE IF NOT EXISTS TBL (a, b)", "INSERT INTO TBL VALUES (?, ?)", "SELECT * FROM TBL", "SELECT ?",
		"SELECT ?1, ?2, ?3", "SELECT 1/0", "SELECT zeroblob(16)", "SELECT x'00ff', 1.5, NULL, 'text'",
		"BEGIN", "COMMIT", "ROLLBACK", "ATTACH DATABASE 'x.db' AS x", "PRAGMA table_info(TBL)", "DELETE FROM TBL",
		"SELECT 9223372036854775807 + 1", "SELECT char(0)", "SELECT CAST(x'ff' AS TEXT)", "SELECT 1; SELECT 2",
		"", ";", "SELECT last_insert_rowid(), changes()",
	},
	postgres.Name: {
		"CREATE TABLE IF NOT EXISTS TBL (id bigint, name text, data bytea, f float8, b boolean)",
		"INSERT INTO TBL VALUES ($1, $2, $3, $4, $5)", "SELECT * FROM TBL", "SELECT $1", "SELECT $1::text",
		"SELECT $1::int2", "SELECT $1, $2, $3", "SELECT 1/0", "SELECT NULL",
		"SELECT now(), current_date, now()::time, now()::timestamp, interval '1 day'",
		"SELECT 1.5::numeric, 'NaN'::numeric, 1e100::numeric, -0.000001::numeric", "SELECT '{1,2}'::int[], ARRAY['a']",
		"SELECT '{\"a\":1}'::jsonb, '[1]'::json", "SELECT gen_random_uuid()", "SELECT 'infinity'::timestamp, '-infinity'::date",
		"SELECT int4range(1,5)", "SELECT '1.2.3.4'::inet", "SELECT 'x'::bytea", "SELECT 32767::int2 + 1::int2",
		"SELECT repeat('x', 100)", "DELETE FROM TBL", "SELECT 'a'::char(3), 'b'::varchar, 1::oid, 2::int4, 1.5::float4",
		"SELECT '12:00+02'::timetz, '2020-01-01 00:00+05'::timestamptz", "SELECT $1::uuid", "SELECT $1::jsonb",
		"SELECT '', ''", "",
	},
	mysql.Name: {
		"CREATE TABLE IF NOT EXISTS TBL (id BIGINT, name TEXT, data BLOB, f DOUBLE)", "INSERT INTO TBL VALUES (?, ?, ?, ?)",
		"SELECT * FROM TBL", "SELECT ?", "SELECT ?, ?", "SELECT 1/0", "SELECT NULL", "SELECT NOW(), CURDATE(), CURTIME()",
		"SELECT 1.5, CAST(1e30 AS DECIMAL(65,0))", "SELECT X'00FF'", "SELECT JSON_OBJECT('a', 1)",
		"SELECT CAST(18446744073709551615 AS UNSIGNED)", "SELECT b'101'", "SELECT CAST('2020-01-01' AS DATETIME)",
		"SELECT CAST(1 AS UNSIGNED) - 2", "SELECT CONVERT(X'FF' USING latin1)", "SELECT CAST(X'FF' AS CHAR)",
		"DELETE FROM TBL", "SELECT CAST(1.5 AS FLOAT), CAST(127 AS SIGNED), YEAR(NOW())", "SELECT '', ''", "",
	},
}

// Redis commands execute may run: single-key commands whose first
// argument fixup forces to the test's prefix, and harmless ones.
var redisCommands = []string{
	"GET", "SET", "INCR", "INCRBY", "APPEND", "STRLEN", "EXISTS", "SADD", "SMEMBERS", "SREM", "LPUSH",
	"LRANGE", "HSET", "HGETALL", "TYPE", "TTL", "EXPIRE", "PING", "ECHO", "TIME", "set", "get", "",
}

// hints supplies top-level string parameters for factor f: mostly the
// value that reaches the backend (the granted label, the service URL, a
// statement of the pool), otherwise random. For networked factors the
// values that could touch others' data are always constrained.
func hints(h *harness, f factor.Factor, url string) func(*gen, string) (any, bool) {
	var pool []string
	for _, s := range sqlPools[f.Name()] {
		if *skipKnown && slices.Contains(knownBad[f.Name()], s) {
			continue
		}
		pool = append(pool, strings.ReplaceAll(s, "TBL", h.prefix+"_t"))
	}
	networked := url != ""
	address := url
	if f.Name() == mqtt.Name { // the broker needs a client id
		address = url + "?client_id=" + h.prefix
	}
	return func(g *gen, param string) (any, bool) {
		likely := h.harvest || g.src.IntN(4) != 0
		switch param {
		case "label", "identifier", "database":
			if likely {
				return "default", true
			}
		case "address":
			if likely {
				return address, true
			}
		case "name":
			if g.chance(2) {
				return varNames[g.src.IntN(len(varNames))], true
			}
		case "model":
			if likely {
				return models[g.src.IntN(len(models))], true
			}
		case "key", "channel", "topic":
			if networked {
				return h.prefix + "/" + g.string(), true
			}
		case "statement":
			if len(pool) > 0 && g.chance(2) {
				return pool[g.src.IntN(len(pool))], true
			}
			if networked { // junk the server rejects at its first word
				return "xyzzy " + g.string(), true
			}
		case "username", "password":
			if likely {
				return "", true
			}
		case "keep-alive-interval-in-secs":
			if likely {
				return uint64(30), true
			}
		case "command":
			if g.chance(4) {
				return "xyzzy" + g.string(), true
			}
			return redisCommands[g.src.IntN(len(redisCommands))], true
		}
		return nil, false
	}
}

// redisFixup keeps Redis calls on the test's keys: del's keys and
// execute's first argument get the prefix.
func redisFixup(prefix string) func(hostFn, []any) {
	return func(fn hostFn, args []any) {
		switch fn.name {
		case "[method]connection.del":
			keys, _ := args[1].([]any)
			for i, k := range keys {
				keys[i] = prefix + "/" + k.(string)
			}
		case "[method]connection.execute":
			if ps, _ := args[2].([]any); len(ps) > 0 {
				ps[0] = cabi.Variant{Case: 1, Value: []byte(prefix + "/" + fmt.Sprint(len(ps)))}
			}
		}
	}
}

// cleanRedis deletes the keys the test left.
func cleanRedis(t testing.TB, url, prefix string) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

// dropTable drops the test's table through a connection the harness
// opened (the first execute function that has one).
func dropTable(h *harness, f factor.Factor, table string) {
	for _, fn := range functions(h.t, f, false) {
		if fn.name != "[method]connection.execute" {
			continue
		}
		self := fn.wit.Type.Params[0].Type.Resource
		if hs := h.g.pool[self]; len(hs) > 0 {
			h.call(fn, []any{hs[0], "DROP TABLE IF EXISTS " + table, []any{}}, false)
			return
		}
	}
}

// sqlFixup usually cuts a statement's parameters to as many as it has
// placeholders, so that pool statements run and their results are
// converted, not just rejected for a parameter count.
func sqlFixup(h *harness) func(hostFn, []any) {
	return func(fn hostFn, args []any) {
		if fn.name != "[method]connection.execute" && fn.name != "[method]connection.query" || h.g.chance(4) {
			return
		}
		st, _ := args[1].(string)
		ps, _ := args[2].([]any)
		n := strings.Count(st, "?") + strings.Count(st, "$")
		if len(ps) > n {
			args[2] = ps[:n]
		}
	}
}
