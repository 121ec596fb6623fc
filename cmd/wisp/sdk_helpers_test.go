package main

// Helpers of the Go SDK tests (sdk_*_test.go): the examples under
// examples/ are built with the standard Go toolchain, as their spin.toml
// says, and served by the real wisp binary.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// repoRoot is the repository's root directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// sdkApp builds the Go SDK example examples/<name> into a fresh app
// directory holding its spin.toml (build table removed: the module is
// already built) and main.wasm, and returns that directory.
func sdkApp(t *testing.T, name string) string {
	t.Helper()
	requireTool(t, "go")
	src := filepath.Join(repoRoot(t), "examples", name)
	dir := t.TempDir()
	testguest.GoReactor(t, src, filepath.Join(dir, "main.wasm"))
	manifest, err := os.ReadFile(filepath.Join(src, "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(manifest)
	if i := strings.Index(text, "\n[component."+componentOf(text)+".build]"); i >= 0 {
		text = text[:i+1]
	}
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// componentOf returns the id of the manifest's first [component.<id>].
func componentOf(manifest string) string {
	_, rest, _ := strings.Cut(manifest, "\n[component.")
	id, _, _ := strings.Cut(rest, "]")
	return id
}
