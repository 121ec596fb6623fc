package component_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// TestCommandComponentsRun runs the wasi:cli/run export of the command
// fixtures on the real WASI host.
func TestCommandComponentsRun(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	host, err := component.NewHost(wasi.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"c-wasip1-command/hello.component.wasm", "hello from C wasm32-wasi (clang + wasi-libc)\narg[0]=hello\narg[1]=a\nGREETING=hi\n"},
		{"rust-wasip1-command/hello.component.wasm", ""},
		{"go-wasip1-command/hello.component.wasm", ""},
	} {
		t.Run(strings.Split(tc.path, "/")[0], func(t *testing.T) {
			b, err := os.ReadFile(testguest.Fixture(t, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			c, err := component.Load(ctx, eng, b, host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			t.Logf("warnings: %v", c.Warnings())
			iface, ok := c.Export("wasi:cli/run@0.2.0")
			if !ok {
				t.Fatal("no wasi:cli/run export")
			}
			inst, err := c.Instantiate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			var stdout, stderr bytes.Buffer
			wctx := &wasi.Ctx{Args: []string{"hello", "a"}, Env: [][2]string{{"GREETING", "hi"}}, Stdout: &stdout, Stderr: &stderr}
			res, err := inst.Call(wasi.WithCtx(ctx, wctx), iface, "run")
			var exit *wasi.ExitError
			if errors.As(err, &exit) {
				t.Logf("exit %d", exit.Code)
				if exit.Code != 0 {
					t.Fatalf("exit %d: %v\nstderr: %s", exit.Code, err, stderr.String())
				}
			} else if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
			} else {
				t.Logf("result %#v", res)
			}
			inst.Close(ctx) // flushes the stdout pump
			got := stdout.String()
			t.Logf("stdout:\n%s", got)
			if tc.want != "" && got != tc.want {
				t.Errorf("stdout = %q, want %q", got, tc.want)
			}
			if !strings.Contains(got, "hello") {
				t.Errorf("stdout lacks a greeting: %q", got)
			}
		})
	}
}
