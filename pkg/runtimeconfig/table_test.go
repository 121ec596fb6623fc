package runtimeconfig

import (
	"fmt"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse([]byte(src), "rc.toml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTakeLabelled(t *testing.T) {
	c := mustParse(t, `
[store.b]
type = "x"
size = 3
extra = true

[store.a]
type = 1
`)
	var labels []string
	err := c.TakeLabelled("store", func(tb *Table) {
		labels = append(labels, tb.Label)
		if _, ok := tb.String("type"); !ok {
			return
		}
		if n, ok := tb.Int("size", 1, 10); !ok || n != 3 {
			t.Errorf("size = %d, %v", n, ok)
		}
		tb.Strict("x", "type", "size")
	})
	if strings.Join(labels, ",") != "a,b" {
		t.Errorf("labels read %v, want a,b in order", labels)
	}
	want := "runtime config: [store.a]: type must be a string\n" +
		`runtime config: [store.b]: unknown field "extra" for type "x" (allowed: type, size)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if err := c.CheckAllTaken(); err != nil {
		t.Errorf("section not marked taken: %v", err)
	}
}

func TestTakeLabelledShapes(t *testing.T) {
	for src, want := range map[string]string{
		"store = 3\n":           "runtime config: store must be a table of [store.<label>] tables",
		"[store]\nlabel = 3\n":  "runtime config: [store.label]: must be a table",
		"[other.x]\ntype = 1\n": "",
	} {
		called := false
		err := mustParse(t, src).TakeLabelled("store", func(*Table) { called = true })
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && got != want) {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
		if called {
			t.Errorf("%q: read called for a non-table", src)
		}
	}
}

func TestTakeTable(t *testing.T) {
	if tb, err := mustParse(t, "").TakeTable("limits"); tb != nil || err != nil {
		t.Fatalf("absent section: %v, %v", tb, err)
	}
	if _, err := mustParse(t, "limits = 1\n").TakeTable("limits"); err == nil || err.Error() != "runtime config: limits must be a table" {
		t.Fatalf("not a table: %v", err)
	}
	tb, err := mustParse(t, "[limits]\nn = 0\nm = 5\nflag = \"yes\"\nname = \"x\"\n").TakeTable("limits")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tb.Int("n", 1, 9); ok {
		t.Error("n = 0 accepted for 1..9")
	}
	if m, ok := tb.Int("m", 1, 9); !ok || m != 5 {
		t.Errorf("m = %d, %v", m, ok)
	}
	if _, ok := tb.Bool("flag"); ok {
		t.Error("a string accepted as a bool")
	}
	if _, ok := tb.Bool("absent"); ok || tb.Has("absent") {
		t.Error("absent field reported present")
	}
	if s, ok := tb.String("name"); !ok || s != "x" {
		t.Errorf("name = %q, %v", s, ok)
	}
	tb.Strict("", "n", "m", "flag")
	want := "runtime config: [limits]: n must be an integer from 1 to 9\n" +
		"runtime config: [limits]: flag must be true or false\n" +
		`runtime config: [limits]: unknown field "name" (allowed: n, m, flag)`
	if err := tb.Err(); err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestTableErrorfKeepsPercentInWhere(t *testing.T) {
	tb := NewTable("runtime config: [s.100%]", map[string]any{})
	tb.Errorf("bad %s", "thing")
	if got := tb.Err().Error(); got != "runtime config: [s.100%]: bad thing" {
		t.Fatalf("got %q", got)
	}
}

// A factor reads its labelled tables strictly: every mistake is reported,
// named by table and field.
func ExampleConfig_TakeLabelled() {
	c, _ := Parse([]byte(`
[key_value_store.cache]
type = "redis"
url = "redis://localhost:6379"
ttl = 60
`), "runtime-config.toml")
	urls := map[string]string{}
	err := c.TakeLabelled("key_value_store", func(t *Table) {
		if typ, _ := t.String("type"); typ != "redis" {
			t.Errorf("unknown type %q", typ)
			return
		}
		urls[t.Label], _ = t.String("url")
		t.Strict("redis", "type", "url")
	})
	fmt.Println(urls)
	fmt.Println(err)
	// Output:
	// map[cache:redis://localhost:6379]
	// runtime config: [key_value_store.cache]: unknown field "ttl" for type "redis" (allowed: type, url)
}
