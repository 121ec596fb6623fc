package main

// End-to-end tests of `wisp up --sqlite` and `--key-value`: the real
// binary seeds the app's default SQLite database and key-value store, and
// a guest reads both back over HTTP.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/factors/keyvalue/sqlitekv"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// seedGuestWAT is a wasi:http guest in the canonical-ABI core module form
// (as the Wisp Go SDK builds). Each request opens the default SQLite
// database and runs seedQuery, opens the default key-value store and gets
// "greeting", and answers "<first column of the first row>|<value>", or
// "sqlite-error" / "kv-error" / "kv-missing" in place of a part that
// failed.
const seedGuestWAT = `(module
  (import "wasi:http/types@0.2.0" "[constructor]fields" (func $fields.new (result i32)))
  (import "wasi:http/types@0.2.0" "[constructor]outgoing-response" (func $response.new (param i32) (result i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-response.body" (func $response.body (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]response-outparam.set" (func $outparam.set (param i32 i32 i32 i32 i64 i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[method]outgoing-body.write" (func $body.write (param i32 i32)))
  (import "wasi:http/types@0.2.0" "[static]outgoing-body.finish" (func $body.finish (param i32 i32 i32 i32)))
  (import "wasi:http/types@0.2.0" "[resource-drop]incoming-request" (func $request.drop (param i32)))
  (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush" (func $stream.write (param i32 i32 i32 i32)))
  (import "wasi:io/streams@0.2.0" "[resource-drop]output-stream" (func $stream.drop (param i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[static]connection.open" (func $db.open (param i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[method]connection.execute" (func $db.execute (param i32 i32 i32 i32 i32 i32)))
  (import "spin:key-value/key-value@3.0.0" "[static]store.open" (func $kv.open (param i32 i32 i32)))
  (import "spin:key-value/key-value@3.0.0" "[method]store.get" (func $kv.get (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 64) "default")
  (data (i32.const 72) "greeting")
  (data (i32.const 80) "|")
  (data (i32.const 96) "sqlite-error")
  (data (i32.const 112) "kv-error")
  (data (i32.const 128) "kv-missing")
  (data (i32.const 1024) "SELECT group_concat(v, ',') FROM (SELECT v FROM greetings ORDER BY id)")
  (func $write (param $stream i32) (param $p i32) (param $n i32)
    (call $stream.write (local.get $stream) (local.get $p) (local.get $n) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable)))
  (func (export "wasi:http/incoming-handler@0.2.0#handle") (param $request i32) (param $outparam i32)
    (local $response i32) (local $body i32) (local $stream i32) (local $v i32)
    (local.set $response (call $response.new (call $fields.new)))
    (call $response.body (local.get $response) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (local.set $body (i32.load (i32.const 4)))
    (call $outparam.set (local.get $outparam) (i32.const 0) (local.get $response)
      (i32.const 0) (i64.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $body.write (local.get $body) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (local.set $stream (i32.load (i32.const 4)))

    ;; SQLite: open, execute; result at 200: tag, columns at 204, rows (ptr, len) at 212/216.
    (block $sqlite_done
      (block $sqlite_failed
        (call $db.open (i32.const 64) (i32.const 7) (i32.const 200))
        (br_if $sqlite_failed (i32.load8_u (i32.const 200)))
        (call $db.execute (i32.load (i32.const 204)) (i32.const 1024) (i32.const 70) (i32.const 0) (i32.const 0) (i32.const 200))
        (br_if $sqlite_failed (i32.load8_u (i32.const 200)))
        (br_if $sqlite_failed (i32.eqz (i32.load (i32.const 216))))
        ;; rows[0].values[0]: tag at +0 (2 = text), string (ptr, len) at +8/+12
        (local.set $v (i32.load (i32.load (i32.const 212))))
        (br_if $sqlite_failed (i32.ne (i32.load8_u (local.get $v)) (i32.const 2)))
        (call $write (local.get $stream) (i32.load offset=8 (local.get $v)) (i32.load offset=12 (local.get $v)))
        (br $sqlite_done))
      (call $write (local.get $stream) (i32.const 96) (i32.const 12)))
    (call $write (local.get $stream) (i32.const 80) (i32.const 1))

    ;; Key-value: open, get; result at 300: tag, option tag at 304, list at 308/312.
    (block $kv_done
      (call $kv.open (i32.const 64) (i32.const 7) (i32.const 300))
      (if (i32.load8_u (i32.const 300)) (then
        (call $write (local.get $stream) (i32.const 112) (i32.const 8)) (br $kv_done)))
      (call $kv.get (i32.load (i32.const 304)) (i32.const 72) (i32.const 8) (i32.const 300))
      (if (i32.load8_u (i32.const 300)) (then
        (call $write (local.get $stream) (i32.const 112) (i32.const 8)) (br $kv_done)))
      (if (i32.eqz (i32.load8_u (i32.const 304))) (then
        (call $write (local.get $stream) (i32.const 128) (i32.const 10)) (br $kv_done)))
      (call $write (local.get $stream) (i32.load (i32.const 308)) (i32.load (i32.const 312))))

    (call $stream.drop (local.get $stream))
    (call $body.finish (local.get $body) (i32.const 0) (i32.const 0) (i32.const 0))
    (if (i32.load8_u (i32.const 0)) (then unreachable))
    (call $request.drop (local.get $request)))
  (func (export "cabi_realloc") (param $old i32) (param $oldSize i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and
      (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
      (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))))
    (local.get $p)))
`

// seedGuestApp writes an app of the seed guest and a schema.sql; grants
// are the manifest lines granting its component stores and databases.
func seedGuestApp(t *testing.T, grants string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "seed.wat")
	if err := os.WriteFile(src, []byte(seedGuestWAT), 0o644); err != nil {
		t.Fatal(err)
	}
	wasm := testguest.WAT(t, src)
	dir := writeAppFiles(t, `spin_manifest_version = 2
[application]
name = "seeded"
[[trigger.http]]
route = "/..."
component = "reader"
[component.reader]
source = "reader.wasm"
`+grants+`
`, map[string]string{
		"schema.sql": "CREATE TABLE greetings (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n-- seed data\nINSERT INTO greetings (v) VALUES ('hello');\n",
	})
	copyFile(t, wasm, filepath.Join(dir, "reader.wasm"))
	return dir
}

func TestE2ESeedSQLiteAndKeyValue(t *testing.T) {
	app := seedGuestApp(t, `sqlite_databases = ["default"]
key_value_stores = ["default"]`)
	s := up(t, app,
		"--sqlite", "@schema.sql", // a file, relative to the working directory
		"--sqlite", "INSERT INTO greetings (v) VALUES ('world')", // then a statement, in order
		"--key-value", "greeting=hi=there", // the value keeps its '='
		"--key-value", "other=x")
	if r := get(t, s.URL+"/"); r.Status != 200 || r.Body != "hello,world|hi=there" {
		t.Fatalf("GET / = %d %q\n%s", r.Status, r.Body, s.output())
	}
	s.stop(t)

	// The data is in the app's state directory under Spin's file names:
	// a second run without flags still sees it.
	for _, f := range []string{"sqlite_db.db", "key_value.db"} {
		if _, err := os.Stat(filepath.Join(app, ".wisp", f)); err != nil {
			t.Errorf("state file: %v", err)
		}
	}
	s = up(t, app, "--key-value", "greeting=again")
	if r := get(t, s.URL+"/"); r.Status != 200 || r.Body != "hello,world|again" {
		t.Fatalf("second run: GET / = %d %q\n%s", r.Status, r.Body, s.output())
	}
}

func TestE2ESeedErrors(t *testing.T) {
	app := seedGuestApp(t, `sqlite_databases = ["default"]`)
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--sqlite", "SELEC 1"}, `"SELEC 1" against the default database`, 1},
		{[]string{"--sqlite", "SELECT 1; SELECT 2"}, "multiple statements", 1},
		{[]string{"--sqlite", "@missing.sql"}, "could not read the file", 1},
		{[]string{"--sqlite", "@schema.sql:nope"}, `no SQLite database "nope"`, 1},
		{[]string{"--sqlite", "@schema.sql:"}, "database label is empty", 1},
		{[]string{"--key-value", "novalue"}, "key=value", 2},
	} {
		out, err := wisp(t, app, append([]string{"up", "--listen", "127.0.0.1:0"}, tc.args...)...)
		code := -1
		if ee, ok := err.(interface{ ExitCode() int }); ok {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("wisp up %v: exit %d (want %d), output lacks %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
}

// As in Spin, --key-value writes the default store even when no component
// is granted it: the keys are there for a later version of the app.
func TestE2ESeedUnusedDefaultStore(t *testing.T) {
	app := seedGuestApp(t, `sqlite_databases = ["default"]`)
	s := up(t, app, "--sqlite", "@schema.sql", "--key-value", "greeting=kept")
	if r := get(t, s.URL+"/"); r.Status != 200 || r.Body != "hello|kv-error" {
		t.Fatalf("GET / = %d %q: a component not granted the store must get access-denied\n%s", r.Status, r.Body, s.output())
	}
	s.stop(t)
	db, err := sqlitekv.Open(filepath.Join(app, ".wisp", "key_value.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, ok, err := db.Store("default").Get(context.Background(), "greeting")
	if err != nil || !ok || string(v) != "kept" {
		t.Fatalf("greeting = %q %v %v", v, ok, err)
	}
}

func TestParseFileAndLabel(t *testing.T) {
	for _, tc := range []struct{ spec, file, label, err string }{
		{"m.sql", "m.sql", "default", ""},
		{" m.sql : orders ", "m.sql", "orders", ""},
		{"m.sql:", "", "", "label is empty"},
		{":orders", "", "", "file path is empty"},
		{"", "", "", "no file"},
	} {
		file, label, err := parseFileAndLabel(tc.spec)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || file != tc.file || label != tc.label {
			t.Errorf("%q = %q %q %v", tc.spec, file, label, err)
		}
	}
	pairs, err := parseKeyValuePairs([]string{"a=1", "b=", "=c", "d=e=f"})
	if err != nil || len(pairs) != 4 || pairs[1] != [2]string{"b", ""} || pairs[2] != [2]string{"", "c"} || pairs[3] != [2]string{"d", "e=f"} {
		t.Errorf("pairs = %v %v", pairs, err)
	}
}
