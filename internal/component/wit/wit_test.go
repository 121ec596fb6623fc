package wit

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

func mustFunc(t *testing.T, iface, name string) *cabi.FuncType {
	t.Helper()
	ft, ok := Builtin().Func(iface, name)
	if !ok {
		t.Fatalf("%s %s: not found", iface, name)
	}
	return ft
}

func TestBuiltinParses(t *testing.T) {
	ps := Builtin()
	// Every interface the host is meant to serve, at our version.
	for _, n := range []string{
		"wasi:io/error@0.2.12", "wasi:io/poll@0.2.12", "wasi:io/streams@0.2.12",
		"wasi:clocks/monotonic-clock@0.2.12", "wasi:clocks/wall-clock@0.2.12",
		"wasi:random/random@0.2.12", "wasi:random/insecure@0.2.12", "wasi:random/insecure-seed@0.2.12",
		"wasi:cli/environment@0.2.12", "wasi:cli/exit@0.2.12", "wasi:cli/stdin@0.2.12",
		"wasi:cli/stdout@0.2.12", "wasi:cli/stderr@0.2.12", "wasi:cli/terminal-input@0.2.12",
		"wasi:cli/terminal-output@0.2.12", "wasi:cli/terminal-stdin@0.2.12",
		"wasi:cli/terminal-stdout@0.2.12", "wasi:cli/terminal-stderr@0.2.12",
		"wasi:filesystem/types@0.2.12", "wasi:filesystem/preopens@0.2.12",
		"wasi:sockets/network@0.2.12", "wasi:sockets/instance-network@0.2.12", "wasi:sockets/tcp@0.2.12",
		"wasi:sockets/tcp-create-socket@0.2.12", "wasi:sockets/udp@0.2.12",
		"wasi:sockets/udp-create-socket@0.2.12", "wasi:sockets/ip-name-lookup@0.2.12",
		"wasi:http/types@0.2.12", "wasi:http/outgoing-handler@0.2.12", "wasi:http/incoming-handler@0.2.12",
		"fermyon:spin/key-value@2.0.0", "fermyon:spin/sqlite@2.0.0", "fermyon:spin/variables@2.0.0",
		"fermyon:spin/redis@2.0.0", "fermyon:spin/postgres@2.0.0", "fermyon:spin/mysql@2.0.0",
		"fermyon:spin/mqtt@2.0.0", "fermyon:spin/rdbms-types@2.0.0", "fermyon:spin/llm@2.0.0",
		"fermyon:spin/inbound-redis", "spin:key-value/key-value@3.0.0", "spin:sqlite/sqlite@3.1.0",
		"spin:variables/variables@3.0.0", "spin:redis/redis@3.0.0", "spin:redis/inbound-redis@3.0.0",
		"spin:postgres/postgres@3.0.0", "spin:postgres/postgres@4.2.0", "spin:mysql/mysql@3.0.0",
		"spin:mqtt/mqtt@3.0.0", "wasi:keyvalue/store@0.2.0-draft2", "wasi:keyvalue/atomics@0.2.0-draft2",
		"wasi:keyvalue/batch@0.2.0-draft2", "wasi:config/store@0.2.0-draft-2024-09-27",
	} {
		if _, ok := ps.Interface(n); !ok {
			t.Errorf("interface %s missing", n)
		}
	}
	w, ok := ps.World("wasi:http/proxy@0.2.12")
	if !ok {
		t.Fatal("world wasi:http/proxy missing")
	}
	if len(w.Exports) != 1 || w.Exports[0].Name != "wasi:http/incoming-handler@0.2.12" {
		t.Errorf("proxy exports = %+v", w.Exports)
	}
	cmd, _ := ps.World("wasi:cli/command@0.2.12")
	if cmd == nil || len(cmd.Imports) < 25 {
		t.Errorf("wasi:cli/command should flatten its includes, got %+v", cmd)
	}
}

func TestSpotChecks(t *testing.T) {
	ps := Builtin()
	http, _ := ps.Interface("wasi:http/types@0.2.12")
	fields := http.Resources["fields"]

	ft := mustFunc(t, "wasi:http/types@0.2.3", "[method]incoming-request.headers")
	if len(ft.Params) != 1 || ft.Params[0].Type.Kind != cabi.KindBorrow || ft.Params[0].Type.Resource != http.Resources["incoming-request"] {
		t.Errorf("headers params = %+v", ft.Params)
	}
	if len(ft.Results) != 1 || ft.Results[0].Type.Kind != cabi.KindOwn || ft.Results[0].Type.Resource != fields {
		t.Errorf("headers must return own<fields>: %+v", ft.Results)
	}
	// "type headers = fields" is the same resource, not a copy.
	if http.Resources["headers"] != fields || fields.Name != "wasi:http/types@0.2.12#fields" || !fields.Host {
		t.Errorf("headers alias: %+v vs %+v", http.Resources["headers"], fields)
	}
	if ft := mustFunc(t, "wasi:http/types@0.2.0", "[constructor]fields"); len(ft.Params) != 0 || ft.Results[0].Type.Resource != fields {
		t.Errorf("[constructor]fields = %+v", ft)
	}
	if ft := mustFunc(t, "wasi:http/types@0.2.0", "[static]fields.from-list"); ft.Params[0].Name != "entries" || ft.Results[0].Type.Kind != cabi.KindResult {
		t.Errorf("[static]fields.from-list = %+v", ft)
	}
	if ft := mustFunc(t, "wasi:http/types@0.2.0", "[resource-drop]fields"); len(ft.Params) != 1 || ft.Params[0].Type.Resource != fields {
		t.Errorf("[resource-drop]fields = %+v", ft)
	}
	if ec := http.Types["error-code"]; ec == nil || ec.Kind != cabi.KindVariant || len(ec.Cases) != 39 {
		t.Errorf("error-code: want a variant of 39 cases, got %+v", ec)
	}

	streams, _ := ps.Interface("wasi:io/streams@0.2.12")
	ioErr, _ := ps.Interface("wasi:io/error@0.2.12")
	ft = mustFunc(t, "wasi:io/streams@0.2.12", "[method]output-stream.blocking-write-and-flush")
	if len(ft.Params) != 2 || ft.Params[1].Name != "contents" || ft.Params[1].Type.Kind != cabi.KindList || ft.Params[1].Type.Elem.Kind != cabi.KindU8 {
		t.Errorf("blocking-write-and-flush params = %+v", ft.Params)
	}
	se := streams.Types["stream-error"]
	r := ft.Results[0].Type
	if r.Kind != cabi.KindResult || r.Ok != nil || r.Err != se {
		t.Errorf("blocking-write-and-flush result = %+v", r)
	}
	if se.Kind != cabi.KindVariant || len(se.Cases) != 2 || se.Cases[0].Name != "last-operation-failed" ||
		se.Cases[0].Type.Kind != cabi.KindOwn || se.Cases[0].Type.Resource != ioErr.Resources["error"] ||
		se.Cases[1].Name != "closed" || se.Cases[1].Type != nil {
		t.Errorf("stream-error = %+v", se)
	}
	// "use" shares pointers across packages: http's input-stream is io's.
	if http.Resources["input-stream"] != streams.Resources["input-stream"] || http.Resources["io-error"] != ioErr.Resources["error"] {
		t.Error("use across packages must yield the same *cabi.Resource")
	}
	mono, _ := ps.Interface("wasi:clocks/monotonic-clock@0.2.12")
	if http.Types["duration"] != mono.Types["duration"] || mono.Types["duration"].Kind != cabi.KindU64 {
		t.Error("use must yield the same *cabi.Type")
	}
	if ft := mustFunc(t, "wasi:cli/environment@0.2.0", "get-environment"); ft.Results[0].Type.Kind != cabi.KindList || ft.Results[0].Type.Elem.Kind != cabi.KindTuple {
		t.Errorf("get-environment = %+v", ft)
	}
	// The filesystem "%type" field is unescaped in the model.
	if st := ps.interfaces["wasi:filesystem/types@0.2.12"].Types["descriptor-stat"]; st.Fields[0].Name != "type" {
		t.Errorf("descriptor-stat = %+v", st.Fields)
	}
	// Async-era Spin packages: async funcs are kept and flagged; those with
	// stream/future are listed as unsupported.
	pg, _ := ps.LookupInterface("spin:postgres/postgres@4.0.0")
	if f := pg.Funcs["[static]connection.open-async"]; f == nil || !f.Async {
		t.Errorf("open-async = %+v", f)
	}
	if len(pg.Unsupported) != 1 || pg.Unsupported[0] != "[method]connection.query-async" {
		t.Errorf("unsupported = %v", pg.Unsupported)
	}
}

func TestLookupInterface(t *testing.T) {
	ps := Builtin()
	for name, want := range map[string]string{
		"wasi:io/streams@0.2.0":                      "wasi:io/streams@0.2.12",
		"wasi:io/streams@0.2.3":                      "wasi:io/streams@0.2.12",
		"wasi:io/streams@0.2.99":                     "wasi:io/streams@0.2.12",
		"spin:postgres/postgres@4.0.0":               "spin:postgres/postgres@4.2.0",
		"spin:postgres/postgres@3.0.0":               "spin:postgres/postgres@3.0.0",
		"spin:sqlite/sqlite@3.0.0":                   "spin:sqlite/sqlite@3.1.0",
		"fermyon:spin/key-value@2.0.0":               "fermyon:spin/key-value@2.0.0",
		"fermyon:spin/key-value@2.1.0":               "fermyon:spin/key-value@2.0.0",
		"wasi:keyvalue/store@0.2.0-draft2":           "wasi:keyvalue/store@0.2.0-draft2",
		"wasi:config/store@0.2.0-draft-2024-09-27":   "wasi:config/store@0.2.0-draft-2024-09-27",
		"wasi:io/streams@0.3.0":                      "",
		"wasi:io/streams@0.2.0-rc-2023-10-18":        "",
		"wasi:io/streams":                            "",
		"wasi:keyvalue/store@0.2.0-draft":            "",
		"spin:postgres/postgres@5.0.0":               "",
		"fermyon:spin/key-value@1.0.0":               "",
		"wasi:nope/streams@0.2.0":                    "",
		"not a name":                                 "",
		"wasi:config/store@0.2.0-draft-2024-09-27+x": "",
	} {
		got, ok := ps.LookupInterface(name)
		if want == "" {
			if ok {
				t.Errorf("LookupInterface(%q) = %s, want none", name, got.Name)
			}
			continue
		}
		if !ok || got.Name != want {
			t.Errorf("LookupInterface(%q) = %v, want %s", name, got, want)
		}
	}
}

// TestFixtureWorld: every import and export of a real Spin JS component
// resolves.
func TestFixtureWorld(t *testing.T) {
	b, err := os.ReadFile("testdata/spin-js-http.world.wit")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		var name string
		if s, ok := strings.CutPrefix(line, "import "); ok {
			name = s
		} else if s, ok := strings.CutPrefix(line, "export "); ok {
			name = s
		} else {
			continue
		}
		name = strings.TrimSuffix(name, ";")
		n++
		if _, ok := Builtin().LookupInterface(name); !ok {
			t.Errorf("%s does not resolve", name)
		}
	}
	if n != 20 {
		t.Errorf("read %d imports/exports, want 20", n)
	}
}

// TestFixtureCoreImports: every core-level function import of that
// component resolves to a function type.
func TestFixtureCoreImports(t *testing.T) {
	f, err := os.Open("testdata/core-func-imports.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		mod, rest, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		m, err1 := strconv.Unquote(mod)
		fn, err2 := strconv.Unquote(rest)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		n++
		if _, ok := Builtin().Func(m, fn); !ok {
			t.Errorf("%s %s does not resolve", m, fn)
		}
	}
	if n != 124 {
		t.Errorf("read %d imports, want 124", n)
	}
}

func TestParseFeatures(t *testing.T) {
	ps, err := Parse(map[string]string{
		"a/a.wit": `package ex:a@1.2.3;
/* block /* nested */ comment */
interface base {
  /// doc
  resource thing { constructor(n: u32) -> result<thing, string>; }
  type n = u32;
}
interface user {
  @unstable(feature = x)
  use base.{thing, n as num};
  record %record { %type: num, t: borrow<thing> }
  flags perms { read, write, }
  enum e { a, b }
  f: func(x: thing) -> (a: u32, b: result);
  g: func(x: option<tuple<s8, list<%record>>>) -> result<_, e>;
  h: func() -> result<thing>;
}
world w {
  import user;
  import inline: interface { q: func(); }
  export run: func();
  include ex:b/w2@0.1.0;
}`,
		"a/b.wit": `interface more { x: func(); }`, // package from its directory
		"b/b.wit": `package ex:b@0.1.0; world w2 { import ex:a/base@1.2.3; }`,
	})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := ps.Interface("ex:a/base@1.2.3")
	user, _ := ps.Interface("ex:a/user@1.2.3")
	if _, ok := ps.Interface("ex:a/more@1.2.3"); !ok {
		t.Error("file without package declaration")
	}
	thing := base.Resources["thing"]
	if user.Resources["thing"] != thing || user.Types["num"] != base.Types["n"] {
		t.Error("use must share definitions")
	}
	if ft := base.Funcs["[constructor]thing"].Type; ft.Results[0].Type.Ok.Resource != thing {
		t.Errorf("constructor with result: %+v", ft)
	}
	rec := user.Types["record"]
	if rec.Fields[0].Name != "type" || rec.Fields[1].Type.Kind != cabi.KindBorrow {
		t.Errorf("record = %+v", rec)
	}
	f := user.Funcs["f"].Type
	if f.Params[0].Type.Kind != cabi.KindOwn || len(f.Results) != 2 || f.Results[1].Name != "b" {
		t.Errorf("f = %+v", f)
	}
	if h := user.Funcs["h"].Type.Results[0].Type; h.Ok.Kind != cabi.KindOwn || h.Err != nil {
		t.Errorf("h = %+v", h)
	}
	w, _ := ps.World("ex:a/w@1.2.3")
	if len(w.Imports) != 3 || w.Imports[1].Interface.Funcs["q"] == nil || w.Imports[2].Name != "ex:a/base@1.2.3" ||
		len(w.Exports) != 1 || w.Exports[0].Func == nil {
		t.Errorf("world = %+v", w)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"package a:b;\ninterface i {\n  f: func(x: u32) -> ;\n}", "f.wit:3:22: expected a type"},
		{"package a:b;\ninterface i { type x = y; }", "f.wit:2:24: undefined type y"},
		{"package a:b;\ninterface i { type x = x; }", "refers to itself"},
		{"package a:b;\ninterface i { use j.{x}; }", "f.wit:2:19: no interface j"},
		{"package a:b;\ninterface i { use c:d/j@1.0.0.{x}; }", "unknown package c:d@1.0.0"},
		{"package a:b;\ninterface i { type func = u32; }", `f.wit:2:20: "func" is a keyword`},
		{"package a:b;\ninterface i { f: func(x: borrow<u32>); }", "borrow<> needs a resource name"},
		{"package a:b;\ninterface i { record r { x: u32 } f: func(x: own<r>); }", "r is not a resource"},
		{"package a:b;\n/* open", "f.wit:2:1: unterminated block comment"},
		{"package a:b@1.2;", "f.wit:1:13: invalid version"},
		{"package a:b;\ninterface Bad-name {}", "mixes upper and lower case"},
		{"package a:b;\ninterface i { @nope(x = y) f: func(); }", "unknown gate @nope"},
		{"package a:b;\ninterface i { f: func(); f: func(); }", "defined twice"},
		{"package a:b;\ninterface i {}\ninterface i {}", "f.wit:3:1: i is defined twice"},
		{"interface i {}", "no package declaration"},
		{"package a:b;\nworld w { include v; }", "no world v"},
		{"package a:b;\ninterface i { f: func() -> result<_>; }", "result<_> has neither payload"},
		{"package a:b;\ninterface i { x: u32 }", `expected "func"`},
		{"package a:b;\n$", `f.wit:2:1: unexpected character '$'`},
	} {
		_, err := Parse(map[string]string{"f.wit": tc.src})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	entries, _ := defs.ReadDir("defs/wasi-http-0.2")
	for _, e := range entries {
		b, _ := defs.ReadFile("defs/wasi-http-0.2/" + e.Name())
		f.Add(string(b))
	}
	for _, s := range []string{
		"package a:b@1.0.0; interface i { resource r { constructor(); m: func(x: borrow<r>) -> r; } }",
		"package a:b; world w { import x: func() -> (a: u8); export a:b/i; include v with { a as b } }",
		"package a:b; interface i { use c:d/e@0.2.0-rc.1.{x as y}; }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		ps, err := Parse(map[string]string{"f.wit": src})
		if err == nil {
			for _, n := range ps.InterfaceNames() {
				ps.LookupInterface(n)
			}
		}
	})
}
