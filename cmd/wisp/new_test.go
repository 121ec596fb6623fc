package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

// runCLI runs wisp in-process with stdin and returns its output; exit is
// what `wisp` would exit with.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	root := newRootCmd()
	var o, e bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&o)
	root.SetErr(&e)
	err := root.Execute()
	switch {
	case err == nil:
		return o.String(), e.String(), 0
	case errors.As(err, new(usageError)):
		return o.String(), e.String() + err.Error(), 2
	default:
		return o.String(), e.String() + err.Error(), 1
	}
}

func TestNewList(t *testing.T) {
	for _, args := range [][]string{{"new", "--list"}, {"add", "--list"}} {
		out, _, code := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, id := range []string{"http-go", "http-c", "http-rust", "static-fileserver", "http-go-wagi", "redis-go", "mqtt-go", "cron-go"} {
			if !strings.Contains(out, id) {
				t.Errorf("%v output lacks %s:\n%s", args, id, out)
			}
		}
	}
}

func TestNewAcceptDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	out, errOut, code := runCLI(t, "", "new", "http-go", "Hello", "-a", "-o", dir, "-v", "http-path=/hi/...")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Created "+dir) {
		t.Errorf("output = %q", out)
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Triggers[0].HTTP.Route != "/hi/..." || m.Components["hello"] == nil {
		t.Errorf("manifest = %+v", m)
	}
}

func TestNewPrompts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	// A description, then an invalid route (asked again), then Enter for
	// the default.
	out, errOut, code := runCLI(t, "A fine app\nno-slash\n\n", "new", "http-c", "app", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(out, "HTTP path [/...]: ") != 2 || !strings.Contains(out, "Description: ") {
		t.Errorf("prompts = %q", out)
	}
	m, err := manifest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Application.Description != "A fine app" || m.Triggers[0].HTTP.Route != "/..." {
		t.Errorf("description %q, route %q", m.Application.Description, m.Triggers[0].HTTP.Route)
	}
}

func TestNewErrors(t *testing.T) {
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "mine"), nil, 0o644)
	tmp := t.TempDir()
	tests := []struct {
		name  string
		stdin string
		args  []string
		exit  int
		msg   string
	}{
		{"unknown template", "", []string{"new", "http-cobol", "x", "-a"}, 2, "available templates: http-go, http-c"},
		{"missing name", "", []string{"new", "http-go"}, 2, "needs a template and a name"},
		{"bad name", "", []string{"new", "http-go", "../x", "-a"}, 2, "invalid name"},
		{"bad -v", "", []string{"new", "http-go", "x", "-a", "-v", "http-path"}, 2, "want key=value"},
		{"unknown parameter", "", []string{"new", "http-go", "x", "-a", "-o", tmp + "/a", "-v", "colour=red"}, 2, `no parameter "colour"`},
		{"invalid value", "", []string{"new", "http-go", "x", "-a", "-o", tmp + "/b", "-v", "http-path=nope"}, 2, "invalid value"},
		{"no answer", "", []string{"new", "http-go", "x", "-o", tmp + "/c"}, 2, "no answer for project-description"},
		{"non-empty dir", "", []string{"new", "http-go", "x", "-a", "-o", nonEmpty}, 1, "not empty"},
	}
	for _, tt := range tests {
		_, errOut, code := runCLI(t, tt.stdin, tt.args...)
		if code != tt.exit || !strings.Contains(errOut, tt.msg) {
			t.Errorf("%s: exit %d %q, want %d %q", tt.name, code, errOut, tt.exit, tt.msg)
		}
	}
	if entries, _ := os.ReadDir(nonEmpty); len(entries) != 1 {
		t.Error("wisp new wrote into a non-empty directory")
	}
}
