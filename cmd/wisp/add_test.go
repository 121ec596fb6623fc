package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

func TestAdd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	if _, errOut, code := runCLI(t, "", "new", "http-go", "app", "-a", "-o", dir); code != 0 {
		t.Fatal(errOut)
	}
	path := filepath.Join(dir, "spin.toml")
	original, _ := os.ReadFile(path)
	withComment := "# keep me: my notes about this app\n" + string(original)
	os.WriteFile(path, []byte(withComment), 0o644)

	// -f takes the app directory; the route is asked for (Enter = default).
	out, errOut, code := runCLI(t, "\n", "add", "http-rust", "api", "-f", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "HTTP path [/api/...]: ") || strings.Contains(out, "Description") {
		t.Errorf("prompts = %q", out)
	}
	updated, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(updated), withComment) {
		t.Errorf("wisp add changed the existing manifest text:\n%s", updated)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Components["api"]; c == nil || c.Source.Path != "api/main.wasm" {
		t.Fatalf("component api = %+v", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "api", "src", "main.rs")); err != nil {
		t.Error(err)
	}

	// The same id again is refused and changes nothing.
	_, errOut, code = runCLI(t, "", "add", "http-c", "api", "-a", "-o", "other", "-f", path)
	if code != 1 || !strings.Contains(errOut, `already has a component "api"`) {
		t.Errorf("duplicate: exit %d %q", code, errOut)
	}
	if again, _ := os.ReadFile(path); string(again) != string(updated) {
		t.Error("manifest changed by a rejected add")
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); err == nil {
		t.Error("directory created by a rejected add")
	}
}

func TestAddUsesCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, errOut, code := runCLI(t, "", "new", "static-fileserver", "site", "-a", "-o", dir); code != 0 {
		t.Fatal(errOut)
	}
	t.Chdir(dir)
	if _, errOut, code := runCLI(t, "", "add", "static-fileserver", "docs", "-a"); code != 0 {
		t.Fatal(errOut)
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Components["docs"]; c == nil || c.Files[0].Source != "docs/assets" {
		t.Fatalf("docs = %+v", c)
	}
	if _, _, code := runCLI(t, "", "add", "http-go", "x", "-a", "-f", filepath.Join(dir, "missing.toml")); code != 1 {
		t.Errorf("missing manifest: exit %d", code)
	}
}
