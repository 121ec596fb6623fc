package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestWITInSync fails when wit/ is not the transformed copy of Wisp's
// definitions: run `go generate ./internal/build`.
func TestWITInSync(t *testing.T) {
	want, err := ReadWITDefs(filepath.Join("..", "component", "wit", "defs"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := embeddedWIT()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("wit/%s is missing or old", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("wit/%s is not in the definitions", name)
		}
	}
	if t.Failed() {
		t.Log("run: go generate ./internal/build")
	}
}

func TestTransformWIT(t *testing.T) {
	in := "package wasi:http@0.2.12;\n\n@since(version = 0.2.0)\ninterface types {\n  use wasi:io/streams@0.2.12.{input-stream};\n  @deprecated(version = 0.2.2)\n  f: func();\n  @unstable(feature = x)\n  g: func();\n}\n"
	want := "package wasi:http@0.2.0;\n\ninterface types {\n  use wasi:io/streams@0.2.0.{input-stream};\n  f: func();\n  @unstable(feature = x)\n  g: func();\n}\n"
	if got := TransformWIT(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDedupeImports(t *testing.T) {
	wasm, err := os.ReadFile(testguest.WAT(t, filepath.Join("testdata", "dupimports.wat")))
	if err != nil {
		t.Fatal(err)
	}
	out, err := dedupeImports(wasm)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseCore(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.imports) != 2 || m.imports[0].name != "fd_write" || m.imports[1].name != "proc_exit" {
		t.Fatalf("imports = %+v", m.imports)
	}
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	mod, err := eng.Compile(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	code, err := mod.Run(ctx, engine.RunConfig{Args: []string{"x"}, Stdout: &stdout})
	if err != nil || code != 3 || stdout.String() != "one\ntwo\ntwo\n" {
		t.Fatalf("run: exit %d, %v, stdout %q", code, err, stdout.String())
	}
	// Without duplicates the module is returned as is.
	if again, err := dedupeImports(out); err != nil || !bytes.Equal(again, out) {
		t.Errorf("second dedupe changed the module (%v)", err)
	}
}

func TestComponentizeRefuses(t *testing.T) {
	ctx := context.Background()
	wagi, err := os.ReadFile(testguest.WAT(t, filepath.Join("testdata", "dupimports.wat")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Componentize(ctx, wagi, ComponentizeOptions{}); err == nil || !strings.Contains(err.Error(), "not a canonical-ABI core module") {
		t.Errorf("a command module: %v", err)
	}
	if _, err := Componentize(ctx, []byte("\x00asm\x0d\x00\x01\x00"), ComponentizeOptions{}); !errors.Is(err, ErrAlreadyComponent) {
		t.Errorf("a component: %v", err)
	}
	if _, err := Componentize(ctx, []byte("not wasm"), ComponentizeOptions{}); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := Componentize(ctx, append([]byte("\x00asm\x01\x00\x00\x00"), 1, 200), ComponentizeOptions{}); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("truncated module: %v", err)
	}
}

func TestWorldFor(t *testing.T) {
	m := &coreModule{
		imports: []importEntry{
			{module: "wasi:http/types@0.2.0", name: "[constructor]fields"},
			{module: "fermyon:spin/key-value@2.0.0", name: "[static]store.open"},
			{module: "wasi:http/types@0.2.0", name: "[resource-drop]fields"},
			{module: "wasi_snapshot_preview1", name: "fd_write"},
		},
		exports: []exportEntry{{name: "wasi:http/incoming-handler@0.2.0#handle"}, {name: "cabi_realloc"}, {name: "memory", kind: 2}},
	}
	world, adapter, err := worldFor(m)
	want := "package wisp:app;\n\nworld app {\n  import fermyon:spin/key-value@2.0.0;\n  import wasi:http/types@0.2.0;\n  export wasi:http/incoming-handler@0.2.0;\n}\n"
	if err != nil || !adapter || world != want {
		t.Fatalf("world %q, adapter %v, %v", world, adapter, err)
	}
	m.imports = append(m.imports, importEntry{module: "env", name: "f"})
	if _, _, err := worldFor(m); err == nil || !strings.Contains(err.Error(), "not a WIT interface") {
		t.Errorf("env import: %v", err)
	}
}
