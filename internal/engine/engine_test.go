package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

func newEngine(t testing.TB, c engine.Config) *engine.Engine {
	t.Helper()
	e, err := engine.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func compileFile(t testing.TB, e *engine.Engine, path string) *engine.Module {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Compile(context.Background(), b)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return m
}

func guest(t *testing.T, name string) string {
	return testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", name))
}

func fixture(t *testing.T, rel string) string {
	t.Helper()
	return testguest.Fixture(t, rel)
}

func run(t *testing.T, m *engine.Module, rc engine.RunConfig) (string, uint32, error) {
	t.Helper()
	var out bytes.Buffer
	rc.Stdout = &out
	code, err := m.Run(context.Background(), rc)
	return out.String(), code, err
}

func TestHello(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := compileFile(t, e, guest(t, "hello.c"))
	out, code, err := run(t, m, engine.RunConfig{Args: []string{"hello"}})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if want := "Content-Type: text/plain\n\nhello from wagi\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if got := m.Exports(); !contains(got, "_start") {
		t.Errorf("Exports() = %v, want _start", got)
	}
}

// cachedEngine shares compiled code across test runs: the fixtures include
// multi-megabyte Go modules that take many seconds to compile under -race.
func cachedEngine(t *testing.T) *engine.Engine {
	return newEngine(t, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
}

func TestFixtures(t *testing.T) {
	e := cachedEngine(t)
	tests := []struct {
		file string
		args []string
		env  []string
		in   string
		code uint32
		want []string
	}{
		{"c-wasip1-command/hello.wasm", []string{"hello.wasm", "a", "b"}, []string{"GREETING=hi"}, "", 0,
			[]string{"hello from C wasm32-wasi (clang + wasi-libc)\narg[0]=hello.wasm\narg[1]=a\narg[2]=b\nGREETING=hi\n"}},
		{"c-wasip1-command/hello.wasm", []string{"hello.wasm", "cat"}, nil, "abc", 0, []string{"GREETING=(unset)\nABC"}},
		{"c-wasip1-command/hello.wasm", []string{"hello.wasm", "exit3"}, nil, "", 3, nil},
		{"cpp-wasip1-command/hello-cpp.wasm", []string{"hello-cpp.wasm", "a", "b"}, nil, "", 0,
			[]string{"hello from C++ wasm32-wasi (libc++), argc=3"}},
		{"rust-wasip1-command/hello.wasm", []string{"hello.wasm", "a", "b"}, []string{"GREETING=hi"}, "", 0,
			[]string{`hello from Rust wasm32-wasi, args=["hello.wasm", "a", "b"]`, `GREETING=Some("hi")`}},
		{"rust-wasip1-command/hello.wasm", []string{"hello.wasm", "exit3"}, nil, "", 3, nil},
		{"assemblyscript-wasip1/as-hello.wasm", []string{"as-hello.wasm", "a"}, []string{"GREETING=hi"}, "", 0,
			[]string{"hello from AssemblyScript (wasi-shim)\narg[0]=as-hello.wasm\narg[1]=a\nGREETING=hi\n"}},
		// The empty environment is the edge case that breaks node:wasi.
		{"assemblyscript-wasip1/as-hello.wasm", []string{"as-hello.wasm"}, nil, "", 0, []string{"GREETING=(unset)"}},
		{"go-wasip1-command/hello.wasm", []string{"hello.wasm", "a", "b"}, []string{"GREETING=hi"}, "", 0,
			[]string{"hello from Go wasip1\narg[0]=hello.wasm\narg[1]=a\narg[2]=b\nGREETING=\"hi\"\n"}},
		// Go always calls proc_exit; exit code 3 must survive.
		{"go-wasip1-command/hello.wasm", []string{"hello.wasm", "exit3"}, nil, "", 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+strings.Join(tt.args[1:], ","), func(t *testing.T) {
			m := compileFile(t, e, fixture(t, tt.file))
			out, code, err := run(t, m, engine.RunConfig{Args: tt.args, Env: tt.env, Stdin: strings.NewReader(tt.in)})
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stdout:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q does not contain %q", out, w)
				}
			}
		})
	}
}

func TestGoWAGIGuestBuildsAndRuns(t *testing.T) {
	e := cachedEngine(t)
	m := compileFile(t, e, testguest.Go(t, filepath.Join(testguest.Dir(t), "go-wagi-hello")))
	out, code, err := run(t, m, engine.RunConfig{
		Args: []string{"go-wagi-hello"},
		Env:  []string{"REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1", "SCRIPT_NAME=/go", "QUERY_STRING=q=1"},
	})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v, out %q", code, err, out)
	}
	if !strings.Contains(out, "hello from Go wagi: GET /go q=1") {
		t.Errorf("stdout %q", out)
	}
}

func TestTrap(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := compileFile(t, e, guest(t, "trap.c"))
	_, _, err := run(t, m, engine.RunConfig{Args: []string{"trap"}})
	var trap *engine.TrapError
	if !errors.As(err, &trap) {
		t.Fatalf("err = %v, want *TrapError", err)
	}
	if !strings.Contains(trap.Message, "unreachable") || strings.Contains(trap.Message, "memory") {
		t.Errorf("trap message %q", trap.Message)
	}
}

func TestMissingEntrypoint(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := compileFile(t, e, guest(t, "hello.c"))
	if _, _, err := run(t, m, engine.RunConfig{Entrypoint: "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("err = %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	const limit = 16 << 20
	e := newEngine(t, engine.Config{MaxInstanceMemory: limit - 1000}) // rounds up to pages
	if got := e.MaxInstanceMemory(); got != limit {
		t.Fatalf("MaxInstanceMemory() = %d, want %d", got, limit)
	}
	m := compileFile(t, e, guest(t, "memhog.c"))
	var stderr bytes.Buffer
	_, err := m.Run(context.Background(), engine.RunConfig{Args: []string{"memhog"}, Stderr: &stderr})
	var trap *engine.TrapError
	if !errors.As(err, &trap) {
		t.Fatalf("err = %v, want *TrapError", err)
	}
	if !strings.Contains(trap.Message, "memory") {
		t.Errorf("trap message %q does not mention memory", trap.Message)
	}
	if !strings.Contains(stderr.String(), "memhog: malloc failed after 1") {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestDeadlineKillsLoopWhileHealthyRunSucceeds(t *testing.T) {
	e := newEngine(t, engine.Config{})
	loop := compileFile(t, e, guest(t, "loop.c"))
	hello := compileFile(t, e, guest(t, "hello.c"))

	var wg sync.WaitGroup
	var loopErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, loopErr = loop.Run(ctx, engine.RunConfig{Args: []string{"loop"}})
	}()
	for i := 0; i < 20; i++ {
		if out, code, err := run(t, hello, engine.RunConfig{Args: []string{"hello"}}); err != nil || code != 0 || out == "" {
			t.Fatalf("healthy run: code %d err %v out %q", code, err, out)
		}
	}
	wg.Wait()
	if !errors.Is(loopErr, engine.ErrTimeout) || !errors.Is(loopErr, context.DeadlineExceeded) {
		t.Errorf("loop err = %v, want ErrTimeout and DeadlineExceeded", loopErr)
	}
}

func TestCompileErrors(t *testing.T) {
	e := newEngine(t, engine.Config{})
	component, err := os.ReadFile(fixture(t, "c-wasip1-command/hello.component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"empty", nil, "not a WebAssembly binary (bad magic)"},
		{"text", []byte("hello world"), "not a WebAssembly binary (bad magic)"},
		{"component", component, "is a WebAssembly component, not a core module"},
		{"truncated", []byte("\x00asm\x01\x00\x00\x00\x01\x05"), "invalid WebAssembly module"},
		{"bad version", []byte("\x00asm\x02\x00\x00\x00"), "invalid WebAssembly module"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Compile(context.Background(), tt.wasm)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if !engine.IsComponent(component) {
		t.Error("IsComponent(component) = false")
	}
	core, _ := os.ReadFile(fixture(t, "c-wasip1-command/hello.wasm"))
	if engine.IsComponent(core) {
		t.Error("IsComponent(core module) = true")
	}
}

func TestDiskCache(t *testing.T) {
	dir := t.TempDir()
	wasm, err := os.ReadFile(fixture(t, "cpp-wasip1-command/hello-cpp.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the second engine is a "second process start"
		e, err := engine.New(ctx, engine.Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Compile(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if code, err := m.Run(ctx, engine.RunConfig{Args: []string{"x"}, Stdout: &out}); err != nil || code != 0 {
			t.Fatalf("run %d: code %d err %v", i, code, err)
		}
		e.Close(ctx)
		if n := countFiles(t, dir); n == 0 {
			t.Fatalf("cache dir %s is empty after compile %d", dir, i)
		}
	}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
