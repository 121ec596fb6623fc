package component

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testguest/wasmtools"
)

func TestLoadMalformed(t *testing.T) {
	ctx := context.Background()
	eng := newEngine(t)
	comp := []byte("\x00asm\x0d\x00\x01\x00")
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{"empty", nil, "not a WebAssembly component"},
		{"garbage", []byte("hello world"), "not a WebAssembly component"},
		{"core module", []byte("\x00asm\x01\x00\x00\x00"), "use LoadCore"},
		{"truncated section", append(append([]byte{}, comp...), 1, 0x80), "component binary"},
		{"bad section id", append(append([]byte{}, comp...), 99, 0), "component binary"},
		{"bad core module", append(append([]byte{}, comp...), 1, 4, 1, 2, 3, 4), "component binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(ctx, eng, tc.wasm, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := LoadCore(ctx, eng, comp, nil); err == nil || !strings.Contains(err.Error(), "use Load") {
		t.Errorf("LoadCore of a component: %v", err)
	}
}

func TestLoadTypeMismatch(t *testing.T) {
	const guestWIT = `package wisp:test;
interface host {
  echo-u8: func(v: u16) -> u16;
}
world w { import host; }
`
	const wat = `(module
  (import "wisp:test/host" "echo-u8" (func (param i32) (result i32)))
  (memory (export "memory") 1))`
	path := wasmtools.Component(t, guestWIT, "w", wat)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := wit.Parse(map[string]string{"conf.wit": confWIT()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Load(context.Background(), newEngine(t), b, confHost(t, pkgs, new(atomic.Int32)))
	if err == nil || !strings.Contains(err.Error(), "wisp:test/host#echo-u8") || !strings.Contains(err.Error(), "u16 vs u8") {
		t.Fatalf("err = %v, want a type mismatch naming both", err)
	}
}

func TestNewHostValidates(t *testing.T) {
	noop := func(context.Context, *Call, []any) ([]any, error) { return nil, nil }
	if _, err := NewHost(Interface{Name: "wasi:io/streams@0.2.0", Funcs: map[string]HostFunc{"[method]output-stream.write": noop}}); err != nil {
		t.Errorf("valid interface: %v", err)
	}
	for _, iface := range []Interface{
		{Name: "wasi:nope/nothing@0.2.0"},
		{Name: "wasi:io/streams@0.2.0", Funcs: map[string]HostFunc{"no-such-func": noop}},
		{Name: "wasi:io/streams@0.2.0", Funcs: map[string]HostFunc{"[method]output-stream.write": nil}},
	} {
		if _, err := NewHost(iface); err == nil {
			t.Errorf("NewHost(%s %v) accepted", iface.Name, iface.Funcs)
		}
	}
}

func TestSemverExport(t *testing.T) {
	for _, tc := range []struct {
		want, have string
		ok         bool
	}{
		{"wasi:http/incoming-handler@0.2.0", "wasi:http/incoming-handler@0.2.3", true},
		{"wasi:http/incoming-handler@0.3.0", "wasi:http/incoming-handler@0.2.3", false},
		{"spin:x/y@2.0.0", "spin:x/y@2.1.0", true},
		{"spin:x/y@2.0.0", "spin:x/y@3.0.0", false},
		{"a:b/c@0.0.1", "a:b/c@0.0.2", false},
		{"a:b/c@0.2.0-rc", "a:b/c@0.2.0", false},
		{"a:b/c", "a:b/c", true},
	} {
		if got := semverCompatible(tc.want, tc.have); got != tc.ok {
			t.Errorf("semverCompatible(%s, %s) = %v", tc.want, tc.have, got)
		}
	}
}

// TestLoadCore runs a core module speaking the canonical ABI (form 2).
func TestLoadCore(t *testing.T) {
	ctx := context.Background()
	const wat = `(module
  (import "wisp:test/host" "echo-string" (func $echo (param i32 i32 i32)))
  (import "wisp:test/host" "fail" (func $fail (param i32)))
  (import "wisp:test/host" "[resource-drop]blob" (func $drop (param i32)))
  (import "wisp:test/host" "echo-f64" (func $unimpl (param f64) (result f64)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (global $inited (mut i32) (i32.const 0))
  (func (export "_initialize") i32.const 1 global.set $inited)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $heap local.tee $p local.get 3 i32.add i32.const 7 i32.add i32.const -8 i32.and global.set $heap
    local.get $p)
  (func (export "wisp:test/api#rt-string") (param i32 i32) (result i32)
    global.get $inited i32.eqz if unreachable end
    call $yield drop
    local.get 0 local.get 1 i32.const 1024 call $echo i32.const 1024)
  (func (export "wisp:test/api#call-fail") (param i32) local.get 0 call $fail)
  (func (export "wisp:test/api#rt-f64") (param f64) (result f64) local.get 0 call $unimpl)
  (func (export "wisp:test/api#blob-drop") (param i32) local.get 0 call $drop)
)`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "core.wat"), []byte(wat), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(testguest.WAT(t, filepath.Join(dir, "core.wat")))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := wit.Parse(map[string]string{"conf.wit": confWIT()})
	if err != nil {
		t.Fatal(err)
	}
	dropped := new(atomic.Int32)
	host := confHost(t, pkgs, dropped)
	delete(host.impls["wisp:test/host"], "echo-f64")
	c, err := LoadCore(ctx, newEngine(t), b, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "echo-f64") {
		t.Errorf("warnings = %v", w)
	}
	inst, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	got, err := inst.Call(ctx, "wisp:test/api", "rt-string", "grüße")
	if err != nil || len(got) != 1 || got[0] != "grüße" {
		t.Fatalf("rt-string = %v, %v", got, err)
	}
	blob := &testBlob{dropped: dropped}
	if _, err := inst.Call(ctx, "wisp:test/api", "blob-drop", blob); err != nil || dropped.Load() != 1 {
		t.Errorf("blob-drop: %v, %d drops", err, dropped.Load())
	}
	_, err = inst.Call(ctx, "wisp:test/api", "call-fail", uint32(3))
	var fe *failError
	if !errors.As(err, &fe) {
		t.Errorf("call-fail: %v", err)
	}
	inst2, err := c.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst2.Close(ctx)
	_, err = inst2.Call(ctx, "wisp:test/api", "rt-f64", 1.0)
	var ue *UnimplementedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "wisp does not implement wisp:test/host#echo-f64") {
		t.Errorf("unimplemented: %v", err)
	}
}

// FuzzLoad links arbitrary bytes. Seeds are small components (Go's fuzzer
// crawls on inputs of 50 KB and more): a minimal one and the conformance
// component.
func FuzzLoad(f *testing.F) {
	const minimalWIT = `package wisp:test;
interface host {
  echo-u8: func(v: u8) -> u8;
}
world w { import host; export host; }
`
	const minimalWAT = `(module
  (import "wisp:test/host" "echo-u8" (func $e (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "wisp:test/host#echo-u8") (param i32) (result i32) local.get 0 call $e))`
	for _, path := range []string{
		wasmtools.Component(f, minimalWIT, "w", minimalWAT),
		wasmtools.Component(f, confWIT(), "conformance", confWAT(f, mustParse(f, confWIT()))),
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x00asm\x0d\x00\x01\x00"))
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { eng.Close(ctx) })
	f.Fuzz(func(t *testing.T, b []byte) {
		// Linking is this package's work; compiling is wazero's, and costly
		// under fuzzing instrumentation, so only small plans get compiled.
		l, err := link(ctx, eng, b, nil)
		if err != nil || l.slotBytes > 4<<10 {
			return
		}
		if err := l.finish(); err != nil {
			return
		}
		c := l.c
		defer c.Close(ctx)
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if inst, err := c.Instantiate(cctx); err == nil {
			inst.Close(ctx)
		}
	})
}

func mustParse(t testing.TB, text string) *wit.Packages {
	t.Helper()
	pkgs, err := wit.Parse(map[string]string{"x.wit": text})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}
