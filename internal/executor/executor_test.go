package executor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

func digest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.New(context.Background(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func TestLoad(t *testing.T) {
	hello := testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", "hello.c"))
	component := testguest.Fixture(t, "c-wasip1-command/hello.component.wasm")
	asset := filepath.Join(t.TempDir(), "asset.txt")
	os.WriteFile(asset, []byte("hi"), 0o644)

	app := &lockedapp.LockedApp{Components: []lockedapp.Component{
		{
			ID:          "hello",
			Source:      lockedapp.Source{Path: hello, Digest: digest(t, hello)},
			Files:       []lockedapp.File{{Source: asset, Destination: "/static/asset.txt"}},
			Environment: map[string]string{"B": "2", "A": "1"},
		},
		{ID: "cm", Source: lockedapp.Source{Path: component, Digest: digest(t, component)}},
	}}
	a, err := executor.Load(context.Background(), newEngine(t), app, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())

	c := a.Component("hello")
	if c.IsComponentModel() || c.Module == nil {
		t.Fatal("hello should be a compiled core module")
	}
	if !slices.Equal(c.Env, []string{"A=1", "B=2"}) {
		t.Errorf("Env = %v", c.Env)
	}
	if b, err := fs.ReadFile(c.FS, "static/asset.txt"); err != nil || string(b) != "hi" {
		t.Errorf("FS file = %q, %v", b, err)
	}
	var out bytes.Buffer
	if _, err := c.Module.Run(context.Background(), engine.RunConfig{Stdout: &out}); err != nil || !strings.Contains(out.String(), "hello from wagi") {
		t.Errorf("run: %v %q", err, out.String())
	}
	if cm := a.Component("cm"); cm == nil || !cm.IsComponentModel() || cm.Module != nil {
		t.Errorf("cm = %+v, want a recorded Component Model binary", cm)
	}
	if a.Component("nope") != nil {
		t.Error("unknown component found")
	}
}

func TestLoadErrorsNameTheComponent(t *testing.T) {
	hello := testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", "hello.c"))
	garbage := filepath.Join(t.TempDir(), "garbage.wasm")
	os.WriteFile(garbage, []byte("not wasm"), 0o644)
	// A canonical-ABI module cut short: its form is read from the export
	// section before anything compiles it.
	canonical, err := os.ReadFile(testguest.WAT(t, filepath.Join("..", "component", "testdata", "worldexport", "core.wat")))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.wasm")
	os.WriteFile(truncated, canonical[:len(canonical)-8], 0o644)
	host, err := component.NewHost()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  lockedapp.Source
		want string
	}{
		{"digest mismatch", lockedapp.Source{Path: hello, Digest: "sha256:00"}, "digest mismatch"},
		{"bad digest form", lockedapp.Source{Path: hello, Digest: "md5:00"}, "sha256:<hex>"},
		{"missing file", lockedapp.Source{Path: "/nonexistent.wasm", Digest: "sha256:00"}, "reading source"},
		{"not wasm", lockedapp.Source{Path: garbage, Digest: digest(t, garbage)}, "bad magic"},
		{"truncated", lockedapp.Source{Path: truncated, Digest: digest(t, truncated)}, "invalid WebAssembly module"},
	}
	for _, tt := range tests {
		// Without a host every core module is compiled as a plain one;
		// with one, its exports are read first.
		for _, h := range []*component.Host{nil, host} {
			t.Run(fmt.Sprintf("%s/host=%v", tt.name, h != nil), func(t *testing.T) {
				app := &lockedapp.LockedApp{Components: []lockedapp.Component{{ID: "broken-one", Source: tt.src}}}
				_, err := executor.Load(context.Background(), newEngine(t), app, nil, h)
				if err == nil || !strings.Contains(err.Error(), `component "broken-one"`) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("err = %v, want component name and %q", err, tt.want)
				}
			})
		}
	}
}

// TestGuestSeesOnlyGrantedFiles runs a real guest against the component's
// file system as mounted by the engine.
func TestGuestSeesOnlyGrantedFiles(t *testing.T) {
	cat := testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", "cat.c"))
	dir := t.TempDir()
	asset := filepath.Join(dir, "asset.txt")
	os.WriteFile(asset, []byte("granted"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644)
	app := &lockedapp.LockedApp{Components: []lockedapp.Component{{
		ID:     "cat",
		Source: lockedapp.Source{Path: cat, Digest: digest(t, cat)},
		Files:  []lockedapp.File{{Source: asset, Destination: "/static/asset.txt"}},
	}}}
	a, err := executor.Load(context.Background(), newEngine(t), app, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Component("cat")
	for _, tt := range []struct {
		path string
		code uint32
		out  string
	}{
		{"/static/asset.txt", 0, "granted"},
		{"static/asset.txt", 0, "granted"},
		{"/static/../static/asset.txt", 0, "granted"},
		{"/static/secret.txt", 1, "error: "},
		{"/../secret.txt", 1, "error: "},
		{"/static/../../secret.txt", 1, "error: "},
		{filepath.Join(dir, "secret.txt"), 1, "error: "},
		{"/etc/passwd", 1, "error: "},
	} {
		var out bytes.Buffer
		code, err := c.Module.Run(context.Background(), engine.RunConfig{Args: []string{"cat", tt.path}, Stdout: &out, FS: c.FS})
		if err != nil || code != tt.code || !strings.HasPrefix(out.String(), tt.out) {
			t.Errorf("cat %s: code %d err %v out %q", tt.path, code, err, out.String())
		}
	}
}

// TestLoadPicksTheFormFromExports: with a host, a core module exporting
// canonical-ABI functions is linked like a component; any other core
// module is compiled as a plain one. The choice is made from the export
// section, before compiling (which BenchmarkDensity's Go SDK load time
// shows).
func TestLoadPicksTheFormFromExports(t *testing.T) {
	canonical := testguest.WAT(t, filepath.Join("..", "component", "testdata", "worldexport", "core.wat"))
	plain := testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", "hello.c"))
	host, err := component.NewHost()
	if err != nil {
		t.Fatal(err)
	}
	app := &lockedapp.LockedApp{Components: []lockedapp.Component{
		{ID: "canonical", Source: lockedapp.Source{Path: canonical, Digest: digest(t, canonical)}},
		{ID: "plain", Source: lockedapp.Source{Path: plain, Digest: digest(t, plain)}},
	}}
	a, err := executor.Load(context.Background(), newEngine(t), app, nil, host)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if c := a.Component("canonical"); c.Linked == nil || c.Module != nil {
		t.Errorf("canonical: Linked %v, Module %v; want linked only", c.Linked, c.Module)
	} else if _, ok := c.Linked.ExportType("", "handle-cron-event"); !ok {
		t.Error("canonical: handle-cron-event not lifted")
	}
	if c := a.Component("plain"); c.Linked != nil || c.Module == nil {
		t.Errorf("plain: Linked %v, Module %v; want a compiled module only", c.Linked, c.Module)
	}
}
