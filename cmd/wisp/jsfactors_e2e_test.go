package main

// Issue #4's acceptance test: testdata/guests/spin-js-factors, a JavaScript
// app built with the official Spin JS SDK 2.0.0 (@fermyon/spin-sdk), runs
// under the real wisp binary and uses key-value, variables, SQLite, Redis,
// PostgreSQL, MySQL and MQTT against the real services. Every route's answer
// is compared exactly with what Spin gives, and every effect is checked
// independently in the service itself (go-redis, pgx, the MySQL driver,
// paho, the SQLite files).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

// The service addresses the app's spin.toml defaults to (and allows in
// allowed_outbound_hosts). A test whose testsvc URL differs is skipped: the
// manifest would deny it.
const (
	jsRedisAddr    = "redis://127.0.0.1:6379"
	jsPostgresAddr = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	jsMySQLAddr    = "mysql://root@127.0.0.1:3306/test"
	jsMQTTAddr     = "mqtt://127.0.0.1:1883"

	// jsToken is the value given to the app's secret variable api_token.
	jsToken = "tok-e2e-3f9a"
)

// jsFactorsApp copies the built app (manifest and component) into a fresh
// directory, so its .wisp state is the test's own.
func jsFactorsApp(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "guests", "spin-js-factors")
	dir := t.TempDir()
	for _, f := range []string{"spin.toml", "spin-js-factors.wasm"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f))
	}
	return dir
}

func jsUp(t *testing.T, dir string) *server {
	t.Helper()
	return up(t, dir, "--variable", "api_token="+jsToken)
}

// jsJSON GETs path and returns the top-level fields of its JSON answer,
// which must be a 200 application/json.
func jsJSON(t *testing.T, s *server, path string) map[string]json.RawMessage {
	t.Helper()
	r := get(t, s.URL+path)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q %q\n%s", path, r.Status, r.Header.Get("Content-Type"), r.Body, s.output())
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.Body), &fields); err != nil {
		t.Fatalf("GET %s: %v in %q", path, err, r.Body)
	}
	return fields
}

// jsExpect compares every field exactly (as raw JSON) with want; fields
// named in skip must be present and are checked by the caller.
func jsExpect(t *testing.T, path string, got map[string]json.RawMessage, want map[string]string, skip ...string) {
	t.Helper()
	for _, k := range skip {
		if _, ok := got[k]; !ok {
			t.Errorf("GET %s: no field %q", path, k)
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("GET %s: no field %q (want %s)", path, k, w)
		} else if string(g) != w {
			t.Errorf("GET %s: %s = %s, want %s", path, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && !jsContains(skip, k) {
			t.Errorf("GET %s: unexpected field %s = %s", path, k, g)
		}
	}
}

func jsContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsError decodes a WIT error variant the app reported as {"tag","val"}.
func jsError(t *testing.T, raw json.RawMessage) (tag, val string) {
	t.Helper()
	var e struct{ Tag, Val string }
	if err := json.Unmarshal(raw, &e); err != nil || e.Tag == "" {
		t.Fatalf("not a WIT error variant: %s (%v)", raw, err)
	}
	return e.Tag, e.Val
}

// jsService returns the testsvc URL for a service the app reaches at its
// manifest default address, or skips.
func jsService(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Skipf("service at %s, but the app's manifest only allows %s", got, want)
	}
}

func TestE2EJSFactors(t *testing.T) {
	dir := jsFactorsApp(t)
	s := jsUp(t, dir)

	t.Run("kv", func(t *testing.T) {
		key := testsvc.Unique(t)
		path := "/kv?key=" + key
		jsExpect(t, path, jsJSON(t, s, path), map[string]string{
			"key":               fmt.Sprintf("%q", key),
			"get":               fmt.Sprintf(`"value of %s"`, key),
			"json":              `{"n":1,"s":"two"}`,
			"exists":            "true",
			"keys":              fmt.Sprintf(`[%q,"%s-json"]`, key, key),
			"existsAfterDelete": "false",
			"getAfterDelete":    "null",
			"deleteMissing":     `"ok"`,
			"openUndeclared":    `{"tag":"access-denied"}`,
		})
	})

	t.Run("variables", func(t *testing.T) {
		jsExpect(t, "/variables", jsJSON(t, s, "/variables"), map[string]string{
			"greeting":   `"hello from spin.toml"`,
			"api_token":  fmt.Sprintf("%q", jsToken),
			"undeclared": "null",
		})
	})

	t.Run("sqlite", func(t *testing.T) {
		table := testsvc.Unique(t)
		path := "/sqlite?table=" + table
		jsExpect(t, path, jsJSON(t, s, path), map[string]string{
			"createdColumns": `[]`,
			"columns":        `["id","name","score","data","note","t"]`,
			"rows": `[{"id":"1","name":"o'brien","score":1.5,"data":"0x000102ff","note":null,"t":"integer"},` +
				`{"id":"2","name":"bob","score":-2.25,"data":"0x","note":"second","t":"integer"}]`,
			"badSql":         `{"tag":"io","val":"no such table: no_such_table_here"}`,
			"openUndeclared": `{"tag":"access-denied"}`,
		})
		// The rows are in the app's default database file.
		db := jsOpenSQLite(t, filepath.Join(dir, ".wisp", sqlite.DefaultFile))
		got := jsRows(t, db, `SELECT id, name, score, hex(data), coalesce(note, 'NULL') FROM `+table+` ORDER BY id`)
		if want := "1|o'brien|1.5|000102FF|NULL\n2|bob|-2.25||second\n"; got != want {
			t.Errorf("table %s in %s:\n%s\nwant\n%s", table, sqlite.DefaultFile, got, want)
		}
	})

	t.Run("redis", func(t *testing.T) {
		jsService(t, testsvc.Redis(t), jsRedisAddr)
		ctx := context.Background()
		rdb := jsRedis(t)
		prefix, channel := testsvc.Unique(t), testsvc.Unique(t)
		keys := []string{prefix + ":str", prefix + ":counter", prefix + ":tmp", prefix + ":set", prefix + ":exec"}
		t.Cleanup(func() { rdb.Del(context.Background(), keys...) })

		sub := rdb.Subscribe(ctx, channel)
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil { // the subscription is in place
			t.Fatal(err)
		}
		path := "/redis?prefix=" + prefix + "&channel=" + channel
		got := jsJSON(t, s, path)
		jsExpect(t, path, got, map[string]string{
			"get":        `"hello from js"`,
			"getMissing": "null",
			"incr":       `["1","2"]`,
			"del":        "1",
			"sadd":       "3",
			"srem":       "1",
			"smembers":   `["a","c"]`,
			// Spin answers a simple-string reply ("+OK") as status, a bulk
			// string as binary.
			"execSet":     `[{"tag":"status","val":"OK"}]`,
			"execGet":     `[{"tag":"binary","val":"0x7669612065786563757465"}]`, // "via execute"
			"execIncrBy":  `[{"tag":"int64","val":"42"}]`,
			"execMissing": `[{"tag":"nil"}]`,
			"published":   "true",
		}, "incrNotNumber")
		if tag, _ := jsError(t, got["incrNotNumber"]); tag != "other" {
			t.Errorf("incr of a non-number: error %s, want other", tag)
		}

		// The effects, read back from Redis itself.
		for key, want := range map[string]string{prefix + ":str": "hello from js", prefix + ":counter": "42", prefix + ":exec": "via execute"} {
			if v, err := rdb.Get(ctx, key).Result(); err != nil || v != want {
				t.Errorf("GET %s = %q, %v; want %q", key, v, err, want)
			}
		}
		if n, err := rdb.Exists(ctx, prefix+":tmp").Result(); err != nil || n != 0 {
			t.Errorf("EXISTS %s:tmp = %d, %v; want 0 (deleted)", prefix, n, err)
		}
		members, err := rdb.SMembers(ctx, prefix+":set").Result()
		sort.Strings(members)
		if err != nil || strings.Join(members, ",") != "a,c" {
			t.Errorf("SMEMBERS %s:set = %v, %v; want [a c]", prefix, members, err)
		}
		select {
		case m := <-sub.Channel():
			if want := "published by js to " + channel; m.Payload != want {
				t.Errorf("message on %s = %q, want %q", channel, m.Payload, want)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("no message on channel %s", channel)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		pgURL := testsvc.Postgres(t)
		jsService(t, pgURL, jsPostgresAddr)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		table := testsvc.Unique(t)
		t.Cleanup(func() {
			if c, err := pgx.Connect(context.Background(), pgURL); err == nil {
				c.Exec(context.Background(), "DROP TABLE IF EXISTS "+table)
				c.Close(context.Background())
			}
		})

		path := "/postgres?table=" + table
		got := jsJSON(t, s, path)
		jsExpect(t, path, got, map[string]string{
			"created":  `"0"`,
			"inserted": `["1","1"]`,
			"columns": `[{"name":"id","dataType":"int32"},{"name":"name","dataType":"str"},` +
				`{"name":"score","dataType":"floating64"},{"name":"big","dataType":"int64"},` +
				`{"name":"flag","dataType":"boolean"},{"name":"data","dataType":"binary"},{"name":"note","dataType":"str"}]`,
			"rows": `[{"id":1,"name":"o'brien","score":1.5,"big":"9007199254740993","flag":true,"data":"0x000102ff","note":null},` +
				`{"id":2,"name":"bob","score":-2.25,"big":"-5","flag":false,"data":"0x","note":"second"}]`,
		}, "badSql")
		if tag, msg := jsError(t, got["badSql"]); tag != "query-failed" || !strings.Contains(msg, "no_such_table_here") {
			t.Errorf("bad SQL: error %s %q, want query-failed naming the table", tag, msg)
		}

		rows, err := conn.Query(ctx, "SELECT id, name, score, big, flag, encode(data, 'hex'), coalesce(note, 'NULL') FROM "+table+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for rows.Next() {
			var (
				id         int32
				name, data string
				note       string
				score      float64
				big        int64
				flag       bool
			)
			if err := rows.Scan(&id, &name, &score, &big, &flag, &data, &note); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%d|%s|%g|%d|%t|%s|%s\n", id, name, score, big, flag, data, note)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want := "1|o'brien|1.5|9007199254740993|true|000102ff|NULL\n2|bob|-2.25|-5|false||second\n"; b.String() != want {
			t.Errorf("table %s in PostgreSQL:\n%s\nwant\n%s", table, b.String(), want)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		myURL := testsvc.MySQL(t)
		jsService(t, myURL, jsMySQLAddr)
		db, err := sql.Open("mysql", jsMySQLDSN(t, myURL))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		table := testsvc.Unique(t)
		t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + table) })

		path := "/mysql?table=" + table
		got := jsJSON(t, s, path)
		jsExpect(t, path, got, map[string]string{
			"columns": `[{"name":"id","dataType":"int32"},{"name":"name","dataType":"str"},` +
				`{"name":"score","dataType":"floating64"},{"name":"big","dataType":"int64"},` +
				`{"name":"small","dataType":"uint8"},{"name":"data","dataType":"binary"},{"name":"note","dataType":"str"}]`,
			"rows": `[{"id":1,"name":"o'brien","score":1.5,"big":"9007199254740993","small":200,"data":"0x000102ff","note":null},` +
				`{"id":2,"name":"bob","score":-2.25,"big":"-5","small":0,"data":"0x","note":"second"}]`,
		}, "badSql")
		if tag, msg := jsError(t, got["badSql"]); tag != "query-failed" || !strings.Contains(msg, "no_such_table_here") {
			t.Errorf("bad SQL: error %s %q, want query-failed naming the table", tag, msg)
		}

		if got, want := jsRows(t, db, "SELECT id, name, score, big, small, hex(data), coalesce(note, 'NULL') FROM "+table+" ORDER BY id"),
			"1|o'brien|1.5|9007199254740993|200|000102FF|NULL\n2|bob|-2.25|-5|0||second\n"; got != want {
			t.Errorf("table %s in MySQL:\n%s\nwant\n%s", table, got, want)
		}
	})

	t.Run("mqtt", func(t *testing.T) {
		broker := testsvc.MQTT(t)
		jsService(t, broker, jsMQTTAddr)
		topic := testsvc.Unique(t)
		msgs := make(chan string, 8)
		c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("sub-" + topic))
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect to %s: %v", broker, tok.Error())
		}
		defer c.Disconnect(100)
		tok := c.Subscribe(topic, 2, func(_ paho.Client, m paho.Message) { msgs <- string(m.Payload()) })
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", topic, tok.Error())
		}

		path := "/mqtt?topic=" + topic
		jsExpect(t, path, jsJSON(t, s, path), map[string]string{
			"topic":     fmt.Sprintf("%q", topic),
			"published": "3",
		})
		var got []string
		timeout := time.After(10 * time.Second)
		for len(got) < 3 {
			select {
			case m := <-msgs:
				got = append(got, m)
			case <-timeout:
				t.Fatalf("messages on %s: %q, want 3", topic, got)
			}
		}
		sort.Strings(got)
		if want := "one: at-most-once|three: exactly-once|two: at-least-once"; strings.Join(got, "|") != want {
			t.Errorf("messages on %s = %q, want %s", topic, got, want)
		}
	})

	// Hosts the manifest does not allow are refused with Spin's error
	// variants, before any connection is tried.
	t.Run("denied", func(t *testing.T) {
		jsExpect(t, "/denied", jsJSON(t, s, "/denied"), map[string]string{
			"redis":    `"invalid-address"`,
			"postgres": `"connection-failed"`,
			"mysql":    `"connection-failed"`,
			"mqtt":     `"connection-failed"`,
		})
	})

	t.Run("errors", func(t *testing.T) {
		if r := get(t, s.URL+"/nothing/here"); r.Status != 404 || r.Body != "not found: /nothing/here\n" {
			t.Errorf("GET /nothing/here = %d %q", r.Status, r.Body)
		}
		if r := get(t, s.URL+"/kv?key=bad-name"); r.Status != 400 || r.Body != "bad key: want [A-Za-z_][A-Za-z0-9_]{0,62}\n" {
			t.Errorf("GET /kv?key=bad-name = %d %q", r.Status, r.Body)
		}
	})

	// The secret never shows up in wisp's own output.
	if strings.Contains(s.output(), jsToken) {
		t.Errorf("wisp's output contains the secret variable's value:\n%s", s.output())
	}
}

// Two copies of the app under two `wisp up` processes each have their own
// default key-value store and SQLite database, and keep them across a
// restart.
func TestE2EJSFactorsIsolation(t *testing.T) {
	dirA, dirB := jsFactorsApp(t), jsFactorsApp(t)
	a, b := jsUp(t, dirA), jsUp(t, dirB)
	key := testsvc.Unique(t)

	expect := func(s *server, path string, status int, body string) {
		t.Helper()
		if r := get(t, s.URL+path); r.Status != status || r.Body != body {
			t.Errorf("GET %s = %d %q, want %d %q\n%s", path, r.Status, r.Body, status, body, s.output())
		}
	}
	for _, kind := range []string{"kv", "sqlite"} {
		expect(a, "/"+kind+"/set?key="+key+"&value=from_a", 200, "ok\n")
		expect(b, "/"+kind+"/get?key="+key, 404, "not found\n")
		expect(b, "/"+kind+"/set?key="+key+"&value=from_b", 200, "ok\n")
		expect(a, "/"+kind+"/get?key="+key, 200, "from_a")
		expect(b, "/"+kind+"/get?key="+key, 200, "from_b")
	}

	// Each value is in its own app's files.
	for dir, want := range map[string]string{dirA: "from_a", dirB: "from_b"} {
		kv := jsOpenSQLite(t, filepath.Join(dir, ".wisp", keyvalue.DefaultFile))
		if got := jsRows(t, kv, "SELECT CAST(value AS TEXT) FROM spin_key_value WHERE store = 'default' AND key = ?", key); got != want+"\n" {
			t.Errorf("%s: key-value %s = %q, want %q", dir, key, got, want)
		}
		db := jsOpenSQLite(t, filepath.Join(dir, ".wisp", sqlite.DefaultFile))
		if got := jsRows(t, db, "SELECT v FROM wisp_iso WHERE k = ?", key); got != want+"\n" {
			t.Errorf("%s: sqlite %s = %q, want %q", dir, key, got, want)
		}
	}

	// Both stores are files in the app's .wisp: a restart keeps them.
	a.stop(t)
	a = jsUp(t, dirA)
	expect(a, "/kv/get?key="+key, 200, "from_a")
	expect(a, "/sqlite/get?key="+key, 200, "from_a")
}

// jsOpenSQLite opens an app's SQLite file read-only beside the running
// wisp.
func jsOpenSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// jsRows runs a query and returns its rows as "a|b|c\n" lines.
func jsRows(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if i > 0 {
				b.WriteByte('|')
			}
			b.WriteString(v.String)
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func jsRedis(t *testing.T) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(testsvc.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// jsMySQLDSN turns Spin's mysql://user:pass@host:port/db into the Go
// driver's user:pass@tcp(host:port)/db.
func jsMySQLDSN(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.User.String() + "@tcp(" + u.Host + ")" + u.Path
}
