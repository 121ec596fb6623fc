package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeApp(t *testing.T, toml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const buildApp = `spin_manifest_version = 2

[application]
name = "b"

[[trigger.http]]
route = "/one/..."
component = "one"

[component.one]
source = "one.wasm"
[component.one.build]
command = "echo building one"

[[trigger.http]]
route = "/two/..."
component = "two"

[component.two]
source = "sub/two.wasm"
[component.two.build]
command = ["echo in $(basename $(pwd))", "echo failing >&2; exit 7"]
workdir = "sub"
`

func TestBuildCommand(t *testing.T) {
	dir := writeApp(t, buildApp)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)

	out, errOut, code := runCLI(t, "", "build", "-f", dir, "-c", "one")
	if code != 0 || !strings.Contains(out, "Building component one with `echo building one`\nbuilding one\n") {
		t.Errorf("-c one: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = runCLI(t, "", "build", "-f", filepath.Join(dir, "spin.toml"))
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "building one\n") || !strings.Contains(out, "in sub\n") {
		t.Errorf("stdout = %q", out)
	}
	if !strings.Contains(errOut, "failing\n") || !strings.Contains(errOut, "component two") || !strings.Contains(errOut, "exit 7") {
		t.Errorf("stderr = %q", errOut)
	}

	if _, errOut, code := runCLI(t, "", "build", "-f", dir, "-c", "three"); code != 2 || !strings.Contains(errOut, "unknown component three") {
		t.Errorf("-c three: exit %d %q", code, errOut)
	}
	if _, _, code := runCLI(t, "", "build", "-f", filepath.Join(dir, "nope.toml")); code != 1 {
		t.Errorf("missing manifest: exit %d", code)
	}
}

func TestBuildComponentRefusesNonCanonicalModules(t *testing.T) {
	dir := writeApp(t, `spin_manifest_version = 2

[application]
name = "c"

[[trigger.http]]
route = "/..."
component = "wagi"
executor = { type = "wagi" }

[component.wagi]
source = "wagi.wasm"
`)
	// A WAGI command: imports wasi_snapshot_preview1 only, exports _start.
	wasm := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type: () -> ()
		"\x03\x02\x01\x00" + // one function
		"\x07\x0a\x01\x06_start\x00\x00" + // export _start
		"\x0a\x04\x01\x02\x00\x0b") // body: end
	if err := os.WriteFile(filepath.Join(dir, "wagi.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "", "build", "--component", "-f", dir)
	if code != 1 || !strings.Contains(errOut, "componentizing wagi (wagi.wasm)") || !strings.Contains(errOut, "not a canonical-ABI core module") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "wagi.wasm")); string(got) != string(wasm) {
		t.Error("the source was changed")
	}
}
