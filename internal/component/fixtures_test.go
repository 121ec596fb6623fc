package component

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	return eng
}

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(testguest.Fixture(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixturesInstantiateWithEmptyHost(t *testing.T) {
	ctx := context.Background()
	eng := newEngine(t)
	for _, tc := range []struct {
		path, export, warn string
	}{
		{"spin-js-http/spin-js-http.wasm", "wasi:http/incoming-handler@0.2.0", "wasi:io/streams@0.2.12#[method]output-stream.write"},
		{"c-wasip1-command/hello.component.wasm", "wasi:cli/run@0.2.0", "wasi:cli/stdout@0.2.12#get-stdout"},
		{"rust-wasip1-command/hello.component.wasm", "wasi:cli/run@0.2.0", "wasi:cli/stdout@0.2.12#get-stdout"},
		{"go-wasip1-command/hello.component.wasm", "wasi:cli/run@0.2.0", "wasi:cli/stdout@0.2.12#get-stdout"},
	} {
		t.Run(strings.Split(tc.path, "/")[0], func(t *testing.T) {
			c, err := Load(ctx, eng, readFixture(t, tc.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			name, ok := c.Export(tc.export)
			if !ok {
				t.Fatalf("no export compatible with %s; have %v", tc.export, c.Exports())
			}
			t.Logf("export %s: %v; %d warnings", name, c.ExportFuncs(name), len(c.Warnings()))
			found := false
			for _, w := range c.Warnings() {
				if strings.HasPrefix(w, tc.warn+":") {
					found = true
				}
			}
			if !found {
				t.Errorf("warnings lack %s: %v", tc.warn, c.Warnings())
			}
			for range 2 {
				inst, err := c.Instantiate(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if err := inst.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
