// Package triggertest has what the trigger packages' tests share: test
// guests written in WAT (a canonical-ABI core module for Redis, components
// for the world-level MQTT and cron handlers), a host interface through
// which those guests report every message they receive, and a loader that
// turns a spin.toml into a running executor.App.
//
// The guests' behaviour depends on the payload's first byte: 'f' returns
// the handler's error variant ("failed on purpose"), 't' traps; anything
// else succeeds. Guests with a recorder call
// wisp:trigger-test/recorder.observe(message, info, n) before deciding, so
// a test sees exactly what each guest received.
package triggertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/loader"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testguest/wasmtools"
	"github.com/wisp-dev/wisp/internal/wasi"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// WIT is the test package: the recorder the guests import, and worlds in
// the shape of the MQTT and cron plugins (world-level exports whose types
// are structurally those of spin:mqtt-trigger and fermyon:spin-cron).
const WIT = `package wisp:trigger-test;

interface recorder {
  observe: func(message: list<u8>, info: string, n: u64);
}

interface types {
  variant error { other(string) }
  record mqtt-metadata { topic: string }
  record cron-metadata { timestamp: u64 }
}

world mqtt {
  import recorder;
  use types.{error, mqtt-metadata};
  export handle-message: func(message: list<u8>, metadata: mqtt-metadata) -> result<_, error>;
}

world mqtt-quiet {
  use types.{error, mqtt-metadata};
  export handle-message: func(message: list<u8>, metadata: mqtt-metadata) -> result<_, error>;
}

world cron {
  import recorder;
  use types.{error, cron-metadata};
  export handle-cron-event: func(metadata: cron-metadata) -> result<_, error>;
}

world cron-quiet {
  use types.{error, cron-metadata};
  export handle-cron-event: func(metadata: cron-metadata) -> result<_, error>;
}
`

// Call is one observe() call of a guest.
type Call struct {
	Message []byte
	Info    string
	N       uint64
}

// Recorder is the host side of wisp:trigger-test/recorder.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
	// Hook, if set, runs inside every observe() call (before it returns to
	// the guest): a test can block there to make a handler slow.
	Hook func(Call)
}

// Interface returns the host interface to link guests against.
func (r *Recorder) Interface() component.Interface {
	return component.Interface{Name: "wisp:trigger-test/recorder", Funcs: map[string]component.HostFunc{
		"observe": func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
			c := Call{Message: append([]byte(nil), args[0].([]byte)...), Info: args[1].(string), N: args[2].(uint64)}
			r.mu.Lock()
			r.calls = append(r.calls, c)
			hook := r.Hook
			r.mu.Unlock()
			if hook != nil {
				hook(c)
			}
			return nil, nil
		},
	}}
}

// Calls returns the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Count returns the number of calls so far.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Packages returns the parsed test WIT.
func Packages(t testing.TB) *wit.Packages {
	t.Helper()
	pkgs, err := wit.Parse(map[string]string{"trigger-test.wit": WIT})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// Guest kinds.
const (
	// RedisV2 is a core module exporting fermyon:spin/inbound-redis#handle-message
	// (what Spin 2 SDKs export), with a recorder.
	RedisV2 = "redis-v2"
	// RedisV3 is a core module exporting spin:redis/inbound-redis@3.0.0#handle-message.
	RedisV3 = "redis-v3"
	// RedisStdout is RedisV2 without a recorder: it writes each payload and
	// a newline to stdout through WASI preview1 (for `wisp up`).
	RedisStdout = "redis-stdout"
	// MQTT and Cron are components with a world-level handler, with a
	// recorder; MQTTQuiet and CronQuiet have none (for `wisp up`).
	MQTT      = "mqtt"
	MQTTQuiet = "mqtt-quiet"
	Cron      = "cron"
	CronQuiet = "cron-quiet"
)

// Guest builds a test guest and returns the path of its .wasm file.
func Guest(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case RedisV2, RedisV3, RedisStdout:
		dir := t.TempDir()
		p := filepath.Join(dir, kind+".wat")
		if err := os.WriteFile(p, []byte(coreWAT(kind)), 0o644); err != nil {
			t.Fatal(err)
		}
		return testguest.WAT(t, p)
	case MQTT, MQTTQuiet, Cron, CronQuiet:
		return wasmtools.Component(t, WIT, kind, componentWAT(kind))
	}
	t.Fatalf("triggertest: unknown guest %q", kind)
	return ""
}

// prelude is shared by every guest: memory, a bump allocator, the error
// message, and $behaviour(ptr, len): 0 succeed, 1 fail, 2 trap.
const prelude = `
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 1024))
  (data (i32.const 16) "failed on purpose")
  (data (i32.const 40) "\n")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (block $done
      (loop $grow
        (br_if $done (i32.le_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $p))
  (func $behaviour (param $ptr i32) (param $len i32) (result i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 102)) (then (return (i32.const 1))))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 116)) (then (return (i32.const 2))))
    (i32.const 0))
`

// errOther writes result::err(error::other("failed on purpose")) with the
// given case index at the return area 64 (result disc at 64, variant disc
// at 68, string at 72/76).
func errOther(caseIdx int) string {
	return fmt.Sprintf(`(i32.store8 (i32.const 64) (i32.const 1))
        (i32.store8 (i32.const 68) (i32.const %d))
        (i32.store (i32.const 72) (i32.const 16))
        (i32.store (i32.const 76) (i32.const 17))`, caseIdx)
}

func coreWAT(kind string) string {
	var b strings.Builder
	b.WriteString("(module\n")
	export := "fermyon:spin/inbound-redis#handle-message"
	// fermyon:spin's error is an enum: disc 1 at 64, label 1 ("error") at 65.
	fail := `(i32.store8 (i32.const 64) (i32.const 1)) (i32.store8 (i32.const 65) (i32.const 1))`
	observe := `(call $record (local.get $ptr) (local.get $len) (i32.const 0) (i32.const 0) (i64.const 0))`
	switch kind {
	case RedisV3:
		export = "spin:redis/inbound-redis@3.0.0#handle-message"
		fail = errOther(3)
	case RedisStdout:
		observe = `(i32.store (i32.const 128) (local.get $ptr)) (i32.store (i32.const 132) (local.get $len))
    (i32.store (i32.const 136) (i32.const 40)) (i32.store (i32.const 140) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 128) (i32.const 2) (i32.const 144)))`
	}
	if kind == RedisStdout {
		b.WriteString(`  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))` + "\n")
	} else {
		b.WriteString(`  (import "wisp:trigger-test/recorder" "observe" (func $record (param i32 i32 i32 i32 i64)))` + "\n")
	}
	b.WriteString(prelude)
	fmt.Fprintf(&b, `
  (func (export %q) (param $ptr i32) (param $len i32) (result i32)
    (local $how i32)
    %s
    (local.set $how (call $behaviour (local.get $ptr) (local.get $len)))
    (if (i32.eq (local.get $how) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $how) (i32.const 1)) (then
        %s
        (return (i32.const 64))))
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.const 64))
)
`, export, observe, fail)
	return b.String()
}

func componentWAT(kind string) string {
	var b strings.Builder
	b.WriteString("(module\n")
	quiet := strings.HasSuffix(kind, "-quiet")
	if !quiet {
		b.WriteString(`  (import "wisp:trigger-test/recorder" "observe" (func $record (param i32 i32 i32 i32 i64)))` + "\n")
	}
	b.WriteString(prelude)
	if strings.HasPrefix(kind, "mqtt") {
		observe := ""
		if !quiet {
			observe = `(call $record (local.get $ptr) (local.get $len) (local.get $tptr) (local.get $tlen) (i64.const 0))`
		}
		fmt.Fprintf(&b, `
  (func (export "handle-message") (param $ptr i32) (param $len i32) (param $tptr i32) (param $tlen i32) (result i32)
    (local $how i32)
    %s
    (local.set $how (call $behaviour (local.get $ptr) (local.get $len)))
    (if (i32.eq (local.get $how) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $how) (i32.const 1)) (then
        %s
        (return (i32.const 64))))
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.const 64))
)
`, observe, errOther(0))
		return b.String()
	}
	observe := ""
	if !quiet {
		observe = `(call $record (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (local.get $ts))`
	}
	fmt.Fprintf(&b, `
  (func (export "handle-cron-event") (param $ts i64) (result i32)
    %s
    (i32.store8 (i32.const 64) (i32.const 0))
    (i32.const 64))
)
`, observe)
	return b.String()
}

// App is a loaded test application.
type App struct {
	*executor.App
	// Dir is the app directory; logs go to Dir/logs.
	Dir      string
	Recorder *Recorder
}

// Load writes manifest (a spin.toml) and the guests (file name → .wasm
// path) into a new directory, locks the app and loads it with the WASI
// interfaces and a Recorder. prepare may be nil.
func Load(t testing.TB, manifestText string, guests map[string]string, prepare executor.PrepareFunc) *App {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(manifestText), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range guests {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	locked, err := loader.Load(ctx, m, loader.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t), MaxInstanceMemory: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(context.Background()) })
	rec := &Recorder{}
	host, err := component.NewHostWithWIT(Packages(t), append(wasi.Interfaces(), rec.Interface())...)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := logs.New(filepath.Join(dir, "logs"), nil, logs.Options{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	var opts []executor.Option
	if prepare != nil {
		opts = append(opts, executor.WithPrepare(prepare))
	}
	app, err := executor.Load(ctx, eng, locked, sink, host, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(context.Background()) })
	return &App{App: app, Dir: dir, Recorder: rec}
}

// ReadLog returns a component's log file ("stdout" or "stderr").
func (a *App) ReadLog(t testing.TB, componentID, which string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.Dir, "logs", componentID+"_"+which+".txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}
