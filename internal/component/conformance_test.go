package component

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/testguest/wasmtools"
)

// The conformance component: for every canonical ABI type T, the host
// interface has echo-T and the exported interface rt-T of the same type;
// the guest's rt-T passes its core arguments straight to echo-T and returns
// what it got. A call from the test therefore lowers T into the guest
// (export), lifts it out again for the host import, lowers the host's result
// into guest memory and lifts it as the export's result.
var rtFuncs = []struct{ name, sig string }{
	{"bool", "func(v: bool) -> bool"},
	{"s8", "func(v: s8) -> s8"},
	{"u8", "func(v: u8) -> u8"},
	{"s16", "func(v: s16) -> s16"},
	{"u16", "func(v: u16) -> u16"},
	{"s32", "func(v: s32) -> s32"},
	{"u32", "func(v: u32) -> u32"},
	{"s64", "func(v: s64) -> s64"},
	{"u64", "func(v: u64) -> u64"},
	{"f32", "func(v: f32) -> f32"},
	{"f64", "func(v: f64) -> f64"},
	{"char", "func(v: char) -> char"},
	{"string", "func(v: string) -> string"},
	{"bytes", "func(v: list<u8>) -> list<u8>"},
	{"points", "func(v: list<point>) -> list<point>"},
	{"point", "func(v: point) -> point"},
	{"tuple", "func(v: tuple<u8, string, f64>) -> tuple<u8, string, f64>"},
	{"shape", "func(v: shape) -> shape"},
	{"color", "func(v: color) -> color"},
	{"option", "func(v: option<string>) -> option<string>"},
	{"result", "func(v: result<u32, string>) -> result<u32, string>"},
	{"perms", "func(v: perms) -> perms"},
	{"nested", "func(v: list<option<tuple<string, shape>>>) -> list<option<tuple<string, shape>>>"},
	{"mixed", "func(a: bool, b: s8, c: u16, d: s64, e: f32, f: f64, g: char, h: string) -> tuple<bool, s8, u16, s64, f32, f64, char, string>"},
	{"many", "func(a: u32, b: u32, c: u32, d: u32, e: u32, f: u32, g: u32, h: u32, i: u32, j: u32, k: u32, l: u32, m: u32, n: u32, o: u32, p: u32, q: u32) -> tuple<u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32>"},
}

const confTypes = `
  record point { x: s32, y: s32 }
  variant shape { circle(f32), rect(point), empty }
  enum color { red, green, blue }
  flags perms { read, write, exec }
`

func confWIT() string {
	var b strings.Builder
	b.WriteString("package wisp:test;\n\ninterface types {" + confTypes + "}\n\ninterface host {\n  use types.{point, shape, color, perms};\n")
	b.WriteString(`  resource blob {
    constructor(data: list<u8>);
    size: func() -> u32;
  }
  fail: func(code: u32);
`)
	for _, f := range rtFuncs {
		fmt.Fprintf(&b, "  echo-%s: %s;\n", f.name, f.sig)
	}
	b.WriteString("}\n\ninterface api {\n  use types.{point, shape, color, perms};\n  use host.{blob};\n")
	b.WriteString(`  resource counter {
    constructor(start: u32);
    get: func() -> u32;
  }
  churn: func(rep: u32) -> u32;
  post-count: func() -> u32;
  call-fail: func(code: u32);
  bad-enum: func() -> color;
  bad-char: func() -> char;
  bad-string: func() -> string;
  blob-roundtrip: func(b: blob) -> blob;
  blob-size: func(b: borrow<blob>) -> u32;
  blob-keep-borrow: func(b: borrow<blob>);
  blob-drop: func(b: blob);
  blob-make: func() -> u32;
`)
	for _, f := range rtFuncs {
		fmt.Fprintf(&b, "  rt-%s: %s;\n", f.name, f.sig)
	}
	b.WriteString("}\n\nworld conformance {\n  import host;\n  export api;\n}\n")
	return b.String()
}

func watTypes(ts []cabi.CoreType) string {
	var s []string
	for _, t := range ts {
		s = append(s, strings.ToLower(t.String()))
	}
	return strings.Join(s, " ")
}

func watSig(params, results []cabi.CoreType) string {
	s := ""
	if len(params) > 0 {
		s += " (param " + watTypes(params) + ")"
	}
	if len(results) > 0 {
		s += " (result " + watTypes(results) + ")"
	}
	return s
}

func confWAT(t testing.TB, pkgs *wit.Packages) string {
	t.Helper()
	var imports, funcs strings.Builder
	for _, f := range rtFuncs {
		ft, ok := pkgs.Func("wisp:test/host", "echo-"+f.name)
		if !ok {
			t.Fatalf("no echo-%s", f.name)
		}
		lp, lr, err := cabi.FlattenFunc(ft, cabi.CanonLower)
		if err != nil {
			t.Fatal(err)
		}
		xp, xr, err := cabi.FlattenFunc(ft, cabi.CanonLift)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&imports, "  (import \"wisp:test/host\" \"echo-%s\" (func $echo-%s%s))\n", f.name, f.name, watSig(lp, lr))
		fmt.Fprintf(&funcs, "  (func (export \"wisp:test/api#rt-%s\")%s\n", f.name, watSig(xp, xr))
		for i := range xp {
			fmt.Fprintf(&funcs, "    local.get %d\n", i)
		}
		spilled := len(lp) > len(xp)
		if spilled {
			funcs.WriteString("    i32.const 1024\n")
		}
		fmt.Fprintf(&funcs, "    call $echo-%s\n", f.name)
		if spilled {
			funcs.WriteString("    i32.const 1024\n")
		}
		funcs.WriteString("  )\n")
	}
	return `(module
  (import "wisp:test/host" "fail" (func $fail (param i32)))
  (import "wisp:test/host" "[constructor]blob" (func $blob-new (param i32 i32) (result i32)))
  (import "wisp:test/host" "[method]blob.size" (func $blob-size (param i32) (result i32)))
  (import "wisp:test/host" "[resource-drop]blob" (func $blob-drop (param i32)))
  (import "[export]wisp:test/api" "[resource-new]counter" (func $counter-new (param i32) (result i32)))
  (import "[export]wisp:test/api" "[resource-rep]counter" (func $counter-rep (param i32) (result i32)))
  (import "[export]wisp:test/api" "[resource-drop]counter" (func $counter-drop (param i32)))
` + imports.String() + `
  (memory (export "memory") 4)
  (global $heap (mut i32) (i32.const 8192))
  (global $posts (mut i32) (i32.const 0))
  (global $dtor (mut i32) (i32.const 0))
  (data (i32.const 512) "blob")
  (func (export "cabi_realloc") (param $old i32) (param $oldsz i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    global.get $heap
    local.get $align
    i32.add
    i32.const 1
    i32.sub
    i32.const 0
    local.get $align
    i32.sub
    i32.and
    local.tee $p
    local.get $size
    i32.add
    global.set $heap
    local.get $old
    if
      local.get $p
      local.get $old
      local.get $oldsz
      memory.copy
    end
    local.get $p)
  (func (export "cabi_post_wisp:test/api#rt-string") (param i32)
    global.get $posts i32.const 1 i32.add global.set $posts)
  (func (export "wisp:test/api#post-count") (result i32) global.get $posts)
  (func (export "wisp:test/api#call-fail") (param i32) local.get 0 call $fail)
  (func (export "wisp:test/api#bad-enum") (result i32) i32.const 7)
  (func (export "wisp:test/api#bad-char") (result i32) i32.const 0xD800)
  (func (export "wisp:test/api#bad-string") (result i32)
    i32.const 1024 i32.const 0xFFFFFF00 i32.store
    i32.const 1028 i32.const 100 i32.store
    i32.const 1024)
  (func (export "wisp:test/api#[constructor]counter") (param i32) (result i32)
    local.get 0 call $counter-new)
  (func (export "wisp:test/api#[method]counter.get") (param i32) (result i32)
    local.get 0)
  (func (export "wisp:test/api#[dtor]counter") (param i32)
    local.get 0 global.set $dtor)
  (func (export "wisp:test/api#churn") (param $rep i32) (result i32)
    (local $h i32)
    local.get $rep call $counter-new local.tee $h
    call $counter-rep local.get $rep i32.ne
    if unreachable end
    local.get $h call $counter-drop
    global.get $dtor)
  (func (export "wisp:test/api#blob-roundtrip") (param i32) (result i32) local.get 0)
  (func (export "wisp:test/api#blob-size") (param i32) (result i32)
    (local $n i32)
    local.get 0 call $blob-size local.set $n
    local.get 0 call $blob-drop
    local.get $n)
  (func (export "wisp:test/api#blob-keep-borrow") (param i32))
  (func (export "wisp:test/api#blob-drop") (param i32) local.get 0 call $blob-drop)
  (func (export "wisp:test/api#blob-make") (result i32)
    i32.const 512 i32.const 4 call $blob-new)
` + funcs.String() + `)`
}

type testBlob struct {
	data    []byte
	dropped *atomic.Int32
}

func (b *testBlob) Drop() { b.dropped.Add(1) }

type failError struct{ code uint32 }

func (e *failError) Error() string { return fmt.Sprintf("host failure %d", e.code) }

func confHost(t testing.TB, pkgs *wit.Packages, dropped *atomic.Int32) *Host {
	funcs := map[string]HostFunc{
		"fail": func(_ context.Context, _ *Call, args []any) ([]any, error) {
			return nil, &failError{code: args[0].(uint32)}
		},
		"[constructor]blob": func(_ context.Context, c *Call, args []any) ([]any, error) {
			if c.Instance == nil {
				return nil, errors.New("no instance in call")
			}
			return []any{&testBlob{data: args[0].([]byte), dropped: dropped}}, nil
		},
		"[method]blob.size": func(_ context.Context, _ *Call, args []any) ([]any, error) {
			return []any{uint32(len(args[0].(*testBlob).data))}, nil
		},
	}
	for _, f := range rtFuncs {
		switch f.name {
		case "mixed", "many":
			funcs["echo-"+f.name] = func(_ context.Context, _ *Call, args []any) ([]any, error) {
				return []any{append([]any(nil), args...)}, nil
			}
		default:
			funcs["echo-"+f.name] = func(_ context.Context, _ *Call, args []any) ([]any, error) { return args, nil }
		}
	}
	h, err := NewHostWithWIT(pkgs, Interface{Name: "wisp:test/host", Funcs: funcs})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func loadConformance(t testing.TB) (*Component, *atomic.Int32) {
	t.Helper()
	witText := confWIT()
	pkgs, err := wit.Parse(map[string]string{"conf.wit": witText})
	if err != nil {
		t.Fatal(err)
	}
	path := wasmtools.Component(t, witText, "conformance", confWAT(t, pkgs))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dropped := new(atomic.Int32)
	c, err := Load(context.Background(), newEngine(t), b, confHost(t, pkgs, dropped))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c, dropped
}

func TestConformanceRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, _ := loadConformance(t)
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	api, ok := c.Export("wisp:test/api")
	if !ok {
		t.Fatalf("exports: %v", c.Exports())
	}
	shapeRect := cabi.Variant{Case: 1, Value: []any{int32(3), int32(-4)}}
	u32s := make([]any, 17)
	for i := range u32s {
		u32s[i] = uint32(i * 1000003)
	}
	cases := []struct {
		fn   string
		args []any
		want []any // nil: the args
	}{
		{"bool", []any{true}, nil},
		{"bool", []any{false}, nil},
		{"s8", []any{int8(-128)}, nil},
		{"u8", []any{uint8(255)}, nil},
		{"s16", []any{int16(-30000)}, nil},
		{"u16", []any{uint16(65535)}, nil},
		{"s32", []any{int32(-2147483648)}, nil},
		{"u32", []any{uint32(4294967295)}, nil},
		{"s64", []any{int64(-1 << 62)}, nil},
		{"u64", []any{uint64(1<<64 - 1)}, nil},
		{"f32", []any{float32(-1.5e10)}, nil},
		{"f64", []any{2.718281828459045}, nil},
		{"char", []any{'€'}, nil},
		{"char", []any{rune(0x1F600)}, nil},
		{"string", []any{"héllo, 世界 🌍"}, nil},
		{"string", []any{""}, nil},
		{"bytes", []any{[]byte{0, 1, 2, 254, 255}}, nil},
		{"bytes", []any{[]byte{}}, nil},
		{"points", []any{[]any{[]any{int32(1), int32(2)}, []any{int32(-3), int32(4)}}}, nil},
		{"point", []any{[]any{int32(7), int32(-8)}}, nil},
		{"tuple", []any{[]any{uint8(9), "ç", 3.5}}, nil},
		{"shape", []any{cabi.Variant{Case: 0, Value: float32(2.5)}}, nil},
		{"shape", []any{shapeRect}, nil},
		{"shape", []any{cabi.Variant{Case: 2}}, nil},
		{"color", []any{uint32(2)}, nil},
		{"option", []any{cabi.Some("z")}, nil},
		{"option", []any{cabi.None}, nil},
		{"result", []any{cabi.Ok(uint32(3))}, nil},
		{"result", []any{cabi.Err("bad ✗")}, nil},
		{"perms", []any{uint32(5)}, nil},
		{"nested", []any{[]any{cabi.Some([]any{"a", shapeRect}), cabi.None, cabi.Some([]any{"", cabi.Variant{Case: 2}})}}, nil},
		{"mixed", []any{true, int8(-1), uint16(2), int64(-3), float32(4.5), 5.25, 'ß', "six"},
			[]any{[]any{true, int8(-1), uint16(2), int64(-3), float32(4.5), 5.25, 'ß', "six"}}},
		{"many", u32s, []any{u32s}},
	}
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	for _, tc := range cases {
		got, err := inst.Call(ctx, api, "rt-"+tc.fn, tc.args...)
		if err != nil {
			t.Fatalf("rt-%s%v: %v", tc.fn, tc.args, err)
		}
		want := tc.want
		if want == nil {
			want = tc.args
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rt-%s: got %#v, want %#v", tc.fn, got, want)
		}
	}
	// post-return ran once per rt-string call.
	got, err := inst.Call(ctx, api, "post-count")
	if err != nil || !reflect.DeepEqual(got, []any{uint32(2)}) {
		t.Errorf("post-count = %v, %v; want 2", got, err)
	}
}

func TestConformanceResources(t *testing.T) {
	ctx := context.Background()
	c, dropped := loadConformance(t)
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api := "wisp:test/api"
	call := func(fn string, args ...any) []any {
		t.Helper()
		res, err := inst.Call(ctx, api, fn, args...)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		return res
	}
	// Guest resource: resource.new / rep / drop with the destructor.
	if got := call("churn", uint32(42)); got[0] != uint32(42) {
		t.Errorf("churn: dtor saw %v, want 42", got[0])
	}
	// Exported constructor and method: the host holds the guest's rep.
	rep := call("[constructor]counter", uint32(9))[0]
	if got := call("[method]counter.get", rep); got[0] != uint32(9) {
		t.Errorf("counter.get = %v", got[0])
	}
	// Host resources: own in and out, borrow, drop.
	b := &testBlob{data: []byte("hello"), dropped: dropped}
	if got := call("blob-roundtrip", b); got[0] != b {
		t.Errorf("blob-roundtrip returned %v", got[0])
	}
	if got := call("blob-size", b); got[0] != uint32(5) {
		t.Errorf("blob-size = %v", got[0])
	}
	call("blob-drop", b)
	if n := dropped.Load(); n != 1 {
		t.Errorf("after blob-drop: %d drops, want 1", n)
	}
	call("blob-make")
	call("blob-make")
	if n := dropped.Load(); n != 1 {
		t.Errorf("guest-held blobs dropped early: %d", n)
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dropped.Load(); n != 3 {
		t.Errorf("after Close: %d drops, want 3", n)
	}

	// A borrow the guest does not drop traps.
	inst, err = c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	if _, err := inst.Call(ctx, api, "blob-keep-borrow", b); err == nil || !strings.Contains(err.Error(), "borrow") {
		t.Errorf("blob-keep-borrow: err = %v, want a borrow trap", err)
	}
}

func TestConformanceTraps(t *testing.T) {
	ctx := context.Background()
	c, _ := loadConformance(t)
	for _, fn := range []string{"bad-enum", "bad-char", "bad-string"} {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = inst.Call(ctx, "wisp:test/api", fn)
		var trap *cabi.Trap
		if !errors.As(err, &trap) {
			t.Errorf("%s: err = %v, want a cabi trap", fn, err)
		}
		if _, err2 := inst.Call(ctx, "wisp:test/api", "post-count"); err2 == nil {
			t.Errorf("%s: instance still usable after a trap", fn)
		}
		inst.Close(ctx)
	}
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	_, err = inst.Call(ctx, "wisp:test/api", "call-fail", uint32(77))
	var fe *failError
	if !errors.As(err, &fe) || fe.code != 77 {
		t.Errorf("call-fail: err = %v, want *failError 77", err)
	}
	// Host-side misuse is an error, not a panic, and no trap.
	inst2, _ := c.Instantiate(ctx)
	defer inst2.Close(ctx)
	if _, err := inst2.Call(ctx, "wisp:test/api", "rt-u8", "not a u8"); err == nil {
		t.Error("wrong Go type accepted")
	}
	if _, err := inst2.Call(ctx, "wisp:test/api", "rt-u8", uint8(1)); err != nil {
		t.Errorf("instance unusable after a host-side argument error: %v", err)
	}
	if _, err := inst2.Call(ctx, "wisp:test/api", "nope"); err == nil {
		t.Error("unknown export accepted")
	}
}

// TestConcurrentInstances hammers one Component from many goroutines.
func TestConcurrentInstances(t *testing.T) {
	ctx := context.Background()
	c, dropped := loadConformance(t)
	const workers, rounds = 8, 20
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for r := range rounds {
				inst, err := c.Instantiate(ctx)
				if err != nil {
					errs <- err
					return
				}
				s := fmt.Sprintf("worker %d round %d ✓", w, r)
				got, err := inst.Call(ctx, "wisp:test/api", "rt-string", s)
				if err == nil && (len(got) != 1 || got[0] != s) {
					err = fmt.Errorf("got %v, want %q", got, s)
				}
				if err == nil {
					_, err = inst.Call(ctx, "wisp:test/api", "blob-make")
				}
				if cerr := inst.Close(ctx); err == nil {
					err = cerr
				}
				if err != nil {
					errs <- err
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
	if n := dropped.Load(); n != workers*rounds {
		t.Errorf("%d blobs dropped, want %d", n, workers*rounds)
	}
}
