package build

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

func TestInvocations(t *testing.T) {
	env := map[string]string{"RUSTC": "/opt/rust/bin/rustc"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		command string
		want    []invocation
	}{
		{"GOOS=wasip1 GOARCH=wasm go build -o main.wasm .", []invocation{{"go", ""}}},
		{"${RUSTC:-rustc} --target wasm32-wasi -o main.wasm src/main.rs", []invocation{{"/opt/rust/bin/rustc", "wasm32-wasi"}}},
		{"${WASI_CC:-clang-19} --target=wasm32-wasi -O2 -o main.wasm main.c", []invocation{{"clang-19", "wasm32-wasi"}}},
		{"cd web && npm install && npx j2w -i x.js 2>&1 | tee log", []invocation{{"npm", ""}, {"npx", ""}, {"tee", ""}}},
		{"cargo build --target x86_64-unknown-linux-gnu; ./post.sh", []invocation{{"cargo", ""}, {"./post.sh", ""}}},
	}
	for _, tt := range tests {
		if got := invocations(tt.command, getenv); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("invocations(%q) = %v, want %v", tt.command, got, tt.want)
		}
	}
}

// fakeRustc writes a shell script that acts as a rustc with or without the
// wasm target: it "compiles" by creating the -o file, or fails like a rustc
// missing the target's standard library.
func fakeRustc(t *testing.T, dir string, hasTarget bool) string {
	t.Helper()
	script := "#!/bin/sh\necho \"error[E0463]: can't find crate for \\`std\\`\" >&2\nexit 1\n"
	if hasTarget {
		script = "#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -o ]; then : > \"$2\"; fi; shift; done\n"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rustc")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToolchainsFindsMissingProgramsAndTargets(t *testing.T) {
	tmp := t.TempDir()
	bad := fakeRustc(t, filepath.Join(tmp, "rustup"), false)
	good := fakeRustc(t, filepath.Join(tmp, "debian"), true)
	// Only the rustc without the target is on PATH, as on a machine with
	// rustup first in PATH.
	t.Setenv("PATH", filepath.Dir(bad)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("RUSTC", "")

	m := &manifest.Manifest{Path: filepath.Join(tmp, "spin.toml"), Components: map[string]*manifest.Component{
		"a": {ID: "a", Pos: manifest.Position{Line: 1}, Build: cmds("${RUSTC:-rustc} --target wasm32-wasi -o main.wasm main.rs")},
		"b": {ID: "b", Pos: manifest.Position{Line: 2}, Build: cmds("no-such-tool-xyz build && sh -c true")},
		"c": {ID: "c", Pos: manifest.Position{Line: 3}},
	}}
	p := newProber()
	p.rustcCandidates = func() []string { return []string{bad, good} }
	checks := toolchains(context.Background(), m, p)
	if len(checks) != 3 {
		t.Fatalf("checks = %+v", checks)
	}
	rust, missing, sh := checks[0], checks[1], checks[2]
	if rust.OK() || rust.Path != bad || rust.Target != "wasm32-wasi" || !strings.Contains(rust.Problem, "can't find crate") {
		t.Errorf("rustc check = %+v", rust)
	}
	if want := "export RUSTC=" + good; !strings.Contains(rust.Fix, want) {
		t.Errorf("rustc fix = %q, want it to contain %q", rust.Fix, want)
	}
	if missing.OK() || missing.Component != "b" || missing.Program != "no-such-tool-xyz" || !strings.Contains(missing.Problem, "not installed") || missing.Fix == "" {
		t.Errorf("missing-tool check = %+v", missing)
	}
	if !sh.OK() || sh.Program != "sh" {
		t.Errorf("sh check = %+v", sh)
	}

	// With RUSTC pointing at the good compiler, all is well.
	t.Setenv("RUSTC", good)
	if checks := toolchains(context.Background(), m, newProber()); !checks[0].OK() || checks[0].Path != good {
		t.Errorf("with RUSTC set: %+v", checks[0])
	}
}

func TestFindRustcPrefersRUSTC(t *testing.T) {
	good := fakeRustc(t, t.TempDir(), true)
	t.Setenv("RUSTC", good)
	got, err := FindRustc(context.Background(), "wasm32-wasi")
	if err != nil || got != good {
		t.Errorf("FindRustc = %q, %v; want %q", got, err, good)
	}
}
