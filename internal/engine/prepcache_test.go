package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// prepFixture is a small module with data segments, so that prepare's
// output has an image and the module's output depends on it.
func prepFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testguest.Fixture(t, "c-wasip1-command/hello.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compileAndRun compiles wasm in a fresh engine on cacheDir (a "process
// start"), checks that the module runs correctly and returns it.
func compileAndRun(t *testing.T, cacheDir string, wasm []byte) *Module {
	t.Helper()
	ctx := context.Background()
	e, err := New(ctx, Config{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(ctx) })
	m, err := e.Compile(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := m.Run(ctx, RunConfig{Args: []string{"hello.wasm", "a"}, Env: []string{"GREETING=hi"}, Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("run: code %d, err %v", code, err)
	}
	if want := "hello from C wasm32-wasi (clang + wasi-libc)\narg[0]=hello.wasm\narg[1]=a\nGREETING=hi\n"; out.String() != want {
		t.Fatalf("stdout %q, want %q", out.String(), want)
	}
	return m
}

func entryPath(cacheDir string, wasm []byte) string {
	key := sha256.Sum256(wasm)
	return filepath.Join(prepCacheDir(cacheDir), hex.EncodeToString(key[:]))
}

// stats returns the change in the prepared cache's counters during f.
func stats(f func()) (hits, misses, bad int64) {
	h, m, b := prepCacheStats.hits.Load(), prepCacheStats.misses.Load(), prepCacheStats.bad.Load()
	f()
	return prepCacheStats.hits.Load() - h, prepCacheStats.misses.Load() - m, prepCacheStats.bad.Load() - b
}

func TestPrepCacheWarm(t *testing.T) {
	dir := t.TempDir()
	wasm := prepFixture(t)
	want, err := prepare(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Image) == 0 {
		t.Fatal("fixture has no data image; the test would not cover it")
	}

	var cold, warm *Module
	if h, m, b := stats(func() { cold = compileAndRun(t, dir, wasm) }); h != 0 || m != 1 || b != 0 {
		t.Fatalf("cold compile: hits %d misses %d bad %d, want 0 1 0", h, m, b)
	}
	fi, err := os.Stat(entryPath(dir, wasm))
	if err != nil {
		t.Fatalf("no entry after a cold compile: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("entry mode %v, want 0600", perm)
	}
	if h, m, b := stats(func() { warm = compileAndRun(t, dir, wasm) }); h != 1 || m != 0 || b != 0 {
		t.Fatalf("warm compile: hits %d misses %d bad %d, want 1 0 0", h, m, b)
	}

	// The entry holds exactly what prepare computes, and the warm module
	// is set up like the cold one.
	got, err := readPrepEntry(entryPath(dir, wasm), sha256.Sum256(wasm))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cached entry differs from prepare's output")
	}
	if cold.interrupt != warm.interrupt || cold.start != warm.start || cold.stripped != warm.stripped ||
		cold.snapReason != warm.snapReason || cold.DataSegments != warm.DataSegments ||
		cold.MergedDataSegments != warm.MergedDataSegments || !reflect.DeepEqual(cold.image, warm.image) ||
		!reflect.DeepEqual(cold.globals, warm.globals) || !reflect.DeepEqual(cold.funcNames, warm.funcNames) {
		t.Errorf("warm module differs from cold one")
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(prepCacheDir(dir))
	if len(ents) != 1 {
		t.Errorf("entry dir holds %d files, want 1", len(ents))
	}
}

func TestPrepCacheCorrupt(t *testing.T) {
	wasm := prepFixture(t)
	corruptions := map[string]func([]byte) []byte{
		"empty":          func(b []byte) []byte { return nil },
		"truncated":      func(b []byte) []byte { return b[:len(b)/2] },
		"header only":    func(b []byte) []byte { return b[:len(prepEntryMagic)+sha256.Size] },
		"body bit flip":  func(b []byte) []byte { b[len(b)-100] ^= 0x10; return b },
		"checksum flip":  func(b []byte) []byte { b[len(prepEntryMagic)+3] ^= 1; return b },
		"magic flip":     func(b []byte) []byte { b[0] ^= 1; return b },
		"garbage":        func(b []byte) []byte { return bytes.Repeat([]byte{0xff}, len(b)) },
		"appended bytes": func(b []byte) []byte { return append(b, 0) },
	}
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			compileAndRun(t, dir, wasm)
			path := entryPath(dir, wasm)
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, corrupt(bytes.Clone(good)), 0o600); err != nil {
				t.Fatal(err)
			}
			if h, m, b := stats(func() { compileAndRun(t, dir, wasm) }); h != 0 || m != 1 || b != 1 {
				t.Fatalf("compile over a corrupt entry: hits %d misses %d bad %d, want 0 1 1", h, m, b)
			}
			// The entry was rewritten and is served again.
			if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, good) {
				t.Fatalf("entry not rewritten (err %v)", err)
			}
			if h, _, _ := stats(func() { compileAndRun(t, dir, wasm) }); h != 1 {
				t.Fatalf("rewritten entry not served")
			}
		})
	}
}

// An entry that is well formed but made for another input (a file copied
// under the wrong name) is refused.
func TestPrepCacheWrongKey(t *testing.T) {
	dir := t.TempDir()
	wasm := prepFixture(t)
	compileAndRun(t, dir, wasm)
	other := sha256.Sum256([]byte("another module"))
	_, err := readPrepEntry(entryPath(dir, wasm), other)
	if err == nil || !strings.Contains(err.Error(), "another input") {
		t.Fatalf("entry read under another key: err %v", err)
	}
}

// A module that prepare refuses is not cached and keeps failing the same
// way.
func TestPrepCacheInvalidModule(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, err := New(ctx, Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	bad := append(bytes.Clone(wasmMagic), 1, 0, 0, 0, 0xff, 0xff)
	for i := 0; i < 2; i++ {
		if _, err := e.Compile(ctx, bad); err == nil {
			t.Fatalf("compile %d of a malformed module succeeded", i)
		}
	}
	if ents, _ := os.ReadDir(prepCacheDir(dir)); len(ents) != 0 {
		t.Errorf("a malformed module left %d entries", len(ents))
	}
}

// prepareGolden pins prepare's output for the fixtures of
// TestPrepareVersion under the current prepareVersion, so that a change to
// a rewrite pass cannot silently reuse stale prepared-cache entries.
const prepareGolden = "v2:885e75a478b448e05633b4b07455bacab0f17ab5ca4c792650901b0d42688443"

// TestPrepareVersion fails when prepare's output changes: bump
// prepareVersion (so existing cache entries are no longer read) and then
// update prepareGolden to what this test prints.
func TestPrepareVersion(t *testing.T) {
	h := sha256.New()
	for _, rel := range []string{
		"c-wasip1-command/hello.wasm", "c-wasip1-reactor/reactor.wasm", "cpp-wasip1-command/hello-cpp.wasm",
		"rust-wasip1-command/hello.wasm", "assemblyscript-wasip1/as-hello.wasm", "go-wasip1-command/hello.wasm",
	} {
		wasm, err := os.ReadFile(testguest.Fixture(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		p, err := prepare(wasm)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		fmt.Fprintf(h, "%s %d %q %q %v %d %v %q %+v\n", rel, len(p.Wasm), p.Interrupt, p.Start, p.Stripped,
			p.MemPages, p.Globals, p.Reason, p.Data)
		h.Write(p.Wasm)
		for _, seg := range p.Image {
			fmt.Fprintf(h, "%d %d\n", seg.Offset, len(seg.Data))
			h.Write(seg.Data)
		}
	}
	if got := fmt.Sprintf("v%d:%x", prepareVersion, h.Sum(nil)); got != prepareGolden {
		t.Errorf("prepare's output or prepareVersion changed: %s, want %s\n"+
			"If a rewrite pass changed, bump prepareVersion, then set prepareGolden to the new value.", got, prepareGolden)
	}
}

// BenchmarkCompileWarmCache measures Engine.Compile of the Wisp Go SDK's
// hello world (examples/http-go-sdk, standard Go, 8 MB) as a fresh process
// start sees it with CacheDir warm: a new Engine per iteration (not timed),
// so wazero's cache is read from disk. "rewrite" runs the rewrite passes
// (the prepared cache off), "prepared" reads their output from the
// prepared cache; both share wazero's warm cache. "prepare-only" and
// "cache-hit-only" time the part that differs.
//
//	go test -run '^$' -bench CompileWarmCache -count 5 ./internal/engine/
func BenchmarkCompileWarmCache(b *testing.B) {
	wasmPath := filepath.Join(b.TempDir(), "main.wasm")
	testguest.GoReactor(b, filepath.Join(testguest.Dir(b), "..", "..", "examples", "http-go-sdk"), wasmPath)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cacheDir := b.TempDir()
	compile := func(b *testing.B, usePrepared bool) {
		b.StopTimer()
		e, err := New(ctx, Config{CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		if !usePrepared {
			e.prepDir = ""
		}
		b.StartTimer()
		m, err := e.Compile(ctx, wasm)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		m.Close(ctx)
		e.Close(ctx)
		b.StartTimer()
	}
	compile(b, true) // warms both caches
	for _, bc := range []struct {
		name        string
		usePrepared bool
	}{{"rewrite", false}, {"prepared", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(wasm)), "module-bytes")
			for i := 0; i < b.N; i++ {
				compile(b, bc.usePrepared)
			}
		})
	}
	// The part of Compile each replaces: the rewrite passes, and a
	// prepared cache hit (hashing the input, reading and checking the
	// entry).
	b.Run("prepare-only", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := prepare(wasm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache-hit-only", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, hit, err := cachedPrepare(prepCacheDir(cacheDir), wasm); err != nil || !hit {
				b.Fatalf("hit %v, err %v", hit, err)
			}
		}
	})
}
