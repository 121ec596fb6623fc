package executor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/wasi"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestCommandComponents runs the command components of the shared fixtures
// through RunCommand — the path the WAGI executor takes — and checks the
// output, exit codes and stdin handling their READMEs document for the
// component form.
func TestCommandComponents(t *testing.T) {
	ctx := context.Background()
	host, err := component.NewHost(wasi.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })

	fixtures := map[string]string{
		"c":    "c-wasip1-command/hello.component.wasm",
		"rust": "rust-wasip1-command/hello.component.wasm",
		"go":   "go-wasip1-command/hello.component.wasm",
	}
	app := &lockedapp.LockedApp{}
	for id, rel := range fixtures {
		p := testguest.Fixture(t, rel)
		app.Components = append(app.Components, lockedapp.Component{ID: id, Source: lockedapp.Source{Path: p, Digest: digest(t, p)}})
	}
	loaded, err := executor.Load(ctx, eng, app, nil, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loaded.Close(ctx) })

	env := []string{"GREETING=hi"}
	for _, tc := range []struct {
		id    string
		args  []string
		stdin string
		want  string
		code  uint32
	}{
		{"c", []string{"hello", "a", "b"}, "", "hello from C wasm32-wasi (clang + wasi-libc)\narg[0]=hello\narg[1]=a\narg[2]=b\nGREETING=hi\n", 0},
		{"c", []string{"hello", "cat"}, "abc", "ABC", 0},
		{"c", []string{"hello", "exit3"}, "", "", 1},
		{"rust", []string{"hello", "a", "b"}, "", "hello from Rust wasm32-wasi, args=[\"hello\", \"a\", \"b\"]\nGREETING=Some(\"hi\")\n", 0},
		{"rust", []string{"hello", "exit3"}, "", "", 1},
		{"go", []string{"hello", "a", "b"}, "", "hello from Go wasip1\narg[0]=hello\narg[1]=a\narg[2]=b\nGREETING=\"hi\"\n", 0},
		{"go", []string{"hello", "exit3"}, "", "", 1},
	} {
		t.Run(tc.id+" "+strings.Join(tc.args[1:], " "), func(t *testing.T) {
			c := loaded.Component(tc.id)
			if !c.IsCommand() {
				t.Fatal("not a command")
			}
			var stdout, stderr bytes.Buffer
			code, err := c.RunCommand(ctx, engine.RunConfig{
				Args: tc.args, Env: env, Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr,
			})
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
			}
			if code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			// The cat and exit3 modes print the greeting first; their
			// documented behaviour is what follows it.
			got := stdout.String()
			if tc.args[1] == "a" && got != tc.want || !strings.HasSuffix(got, tc.want) {
				t.Errorf("stdout = %q, want %q", got, tc.want)
			}
		})
	}
}
