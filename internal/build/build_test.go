package build

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

// app makes a manifest in a temp dir whose components (in this order) have
// the given build commands; nil means no [build] table.
func app(t *testing.T, builds ...*manifest.Build) *manifest.Manifest {
	t.Helper()
	dir := t.TempDir()
	m := &manifest.Manifest{Path: filepath.Join(dir, "spin.toml"), Components: map[string]*manifest.Component{}}
	for i, b := range builds {
		id := string(rune('a'+i)) + "-comp"
		m.Components[id] = &manifest.Component{ID: id, Build: b, Pos: manifest.Position{Line: 10 * (i + 1), Column: 1}}
	}
	return m
}

func cmds(commands ...string) *manifest.Build { return &manifest.Build{Commands: commands} }

func run(t *testing.T, m *manifest.Manifest, ids ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	err = Build(context.Background(), m, Options{Components: ids, Stdout: &o, Stderr: &e})
	return o.String(), e.String(), err
}

func TestBuildRunsCommandsInOrder(t *testing.T) {
	m := app(t, cmds("echo one", "echo two >&2"), nil, cmds("echo three > out.txt"))
	stdout, stderr, err := run(t, m)
	if err != nil {
		t.Fatal(err)
	}
	want := "Building component a-comp (2 commands)\n" +
		"Running build step 1/2 for component a-comp with `echo one`\none\n" +
		"Running build step 2/2 for component a-comp with `echo two >&2`\n" +
		"Building component c-comp with `echo three > out.txt`\n" +
		"Finished building all components\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	if stderr != "two\n" {
		t.Errorf("stderr = %q", stderr)
	}
	// Commands run in the manifest's directory by default.
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(m.Path), "out.txt")); err != nil || string(b) != "three\n" {
		t.Errorf("out.txt = %q, %v", b, err)
	}
}

// TestBuildStreams checks that output reaches the writer while the command
// still runs, not only when it ends: the command waits for a file that the
// test creates only after it has seen the first line.
func TestBuildStreams(t *testing.T) {
	m := app(t, cmds("echo first; while [ ! -e go ]; do sleep 0.01; done; echo second"))
	w := &syncWriter{wrote: make(chan struct{}, 100)}
	done := make(chan error, 1)
	go func() { done <- Build(context.Background(), m, Options{Stdout: w, Stderr: w}) }()
	for !strings.Contains(w.String(), "first\n") {
		select {
		case <-w.wrote:
		case err := <-done:
			t.Fatalf("build ended before the test released it: %v", err)
		}
	}
	if strings.Contains(w.String(), "first\nsecond\n") {
		t.Fatal("second printed before the command was released")
	}
	os.WriteFile(filepath.Join(filepath.Dir(m.Path), "go"), nil, 0o644)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.String(), "first\nsecond\n") {
		t.Errorf("output = %q", w.String())
	}
}

func TestBuildStopsAtFirstFailure(t *testing.T) {
	m := app(t, cmds("echo ok", "echo broken >&2; exit 3", "touch not-reached"), cmds("touch not-reached-either"))
	_, stderr, err := run(t, m)
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CommandError", err)
	}
	if ce.Component != "a-comp" || ce.ExitCode != 3 || ce.Command != "echo broken >&2; exit 3" {
		t.Errorf("CommandError = %+v", ce)
	}
	if msg := err.Error(); !strings.Contains(msg, "a-comp") || !strings.Contains(msg, "exit 3") {
		t.Errorf("message %q should name the component and the command", msg)
	}
	if stderr != "broken\n" {
		t.Errorf("stderr = %q", stderr)
	}
	for _, f := range []string{"not-reached", "not-reached-either"} {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m.Path), f)); err == nil {
			t.Errorf("%s ran after the failure", f)
		}
	}
}

func TestBuildSelectsComponents(t *testing.T) {
	m := app(t, cmds("echo built-a"), cmds("echo built-b"), cmds("echo built-c"))
	stdout, _, err := run(t, m, "c-comp", "a-comp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "built-a\n") || !strings.Contains(stdout, "built-c\n") || strings.Contains(stdout, "built-b") {
		t.Errorf("stdout = %q", stdout)
	}
	if strings.Index(stdout, "built-a") > strings.Index(stdout, "built-c") {
		t.Error("components not built in manifest order")
	}
	_, _, err = run(t, m, "a-comp", "nope")
	if !errors.Is(err, ErrUnknownComponent) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want ErrUnknownComponent naming nope", err)
	}
}

func TestBuildWorkdir(t *testing.T) {
	m := app(t, &manifest.Build{Commands: []string{"pwd"}, Workdir: "sub/dir"})
	want := filepath.Join(filepath.Dir(m.Path), "sub", "dir")
	if err := os.MkdirAll(want, 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(t, m)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(want)
	if !strings.Contains(stdout, "\n"+real+"\n") && !strings.Contains(stdout, "\n"+want+"\n") {
		t.Errorf("pwd did not print %s:\n%s", want, stdout)
	}

	for wd, msg := range map[string]string{"missing": "no such file", "/abs": "must be relative"} {
		m := app(t, &manifest.Build{Commands: []string{"true"}, Workdir: wd})
		_, _, err := run(t, m)
		var ce *CommandError
		if !errors.As(err, &ce) || ce.Component != "a-comp" || !strings.Contains(err.Error(), msg) {
			t.Errorf("workdir %q: err = %v, want %q", wd, err, msg)
		}
	}
}

func TestBuildNothingToBuild(t *testing.T) {
	stdout, _, err := run(t, app(t, nil))
	if err != nil || !strings.Contains(stdout, "None of the components have a build command") {
		t.Errorf("stdout = %q, err = %v", stdout, err)
	}
}

// syncWriter is a buffer safe for the concurrent writes of a build, which
// signals every write.
type syncWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
