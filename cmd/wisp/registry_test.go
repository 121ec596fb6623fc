package main

// End-to-end tests of wisp registry login/push/pull and wisp up -f <ref>,
// against a real distribution registry on loopback.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/oci/registrytest"
	"github.com/wisp-dev/wisp/internal/testguest"
)

const registryAppManifest = `spin_manifest_version = 2

[application]
name = "registry-e2e"
version = "0.1.0"

[[trigger.http]]
route = "/hello"
component = "hello"
executor = { type = "wagi" }

[[trigger.http]]
route = "/small"
component = "small"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/small.txt" }

[[trigger.http]]
route = "/big"
component = "big"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/nested/big.txt" }

[[trigger.http]]
route = "/teapot"
static_response = { status_code = 418, body = "short and stout" }

[component.hello]
source = "hello.wasm"

# Two components share one Wasm binary and one set of files: one layer each.
[component.small]
source = "readfile.wasm"
files = [{ source = "data", destination = "/data" }]

[component.big]
source = "readfile.wasm"
files = [{ source = "data", destination = "/data" }]
`

// wispIn runs the binary with extra environment and stdin.
func wispIn(t *testing.T, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(wispBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestE2ERegistry(t *testing.T) {
	requireTool(t, "clang-19")
	const user, password = "e2e-user", "e2e-Secret-pw"
	reg := registrytest.Start(t, registrytest.Options{Users: map[string]string{user: password}})
	// Never touch the user's Docker config; `up` below inherits this too.
	dockerConfig := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dockerConfig)

	big := strings.Repeat("a line of a file big enough for its own layer\n", 20)
	dir := writeAppFiles(t, registryAppManifest, map[string]string{
		"data/small.txt":      "small and inline\n",
		"data/nested/big.txt": big,
	})
	guests := filepath.Join("..", "..", "testdata", "guests", "wagi")
	copyFile(t, testguest.C(t, filepath.Join(guests, "hello.c")), filepath.Join(dir, "hello.wasm"))
	copyFile(t, testguest.C(t, filepath.Join(guests, "readfile.c")), filepath.Join(dir, "readfile.wasm"))
	ref := reg.Host + "/e2e/app:v1"
	cache := []string{"WISP_CACHE_DIR=" + t.TempDir()}

	// Without credentials the registry refuses the push.
	if out, err := wispIn(t, cache, "", "registry", "push", "-f", dir, ref); err == nil {
		t.Fatalf("push without login succeeded:\n%s", out)
	}

	// A wrong password is refused and not echoed; the right one is saved.
	out, err := wispIn(t, nil, "wrong-pw\n", "registry", "login", reg.Host, "-u", user, "--password-stdin")
	if err == nil || strings.Contains(out, "wrong-pw") {
		t.Fatalf("login with a wrong password: err=%v\n%s", err, out)
	}
	out, err = wispIn(t, nil, password+"\n", "registry", "login", reg.Host, "-u", user, "--password-stdin")
	if err != nil || !strings.Contains(out, "Logged in as "+user) {
		t.Fatalf("login: %v\n%s", err, out)
	}
	if cfg, err := os.ReadFile(filepath.Join(dockerConfig, "config.json")); err != nil || !strings.Contains(string(cfg), reg.Host) {
		t.Fatalf("docker config after login: %v\n%s", err, cfg)
	}

	out, err = wispIn(t, cache, "", "registry", "push", "-f", dir, ref)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`Pushed .* with digest sha256:[0-9a-f]{64} \(5 blobs uploaded, 0 already`).MatchString(out) {
		t.Errorf("push output: %s", out)
	}
	// The same app again: every blob is already there.
	out, err = wispIn(t, cache, "", "registry", "push", "-f", filepath.Join(dir, "spin.toml"), ref)
	if err != nil || !strings.Contains(out, "(0 blobs uploaded, 5 already in the registry)") {
		t.Errorf("second push: %v\n%s", err, out)
	}

	// Pull into a fresh cache: the big file is stored under its digest.
	fresh := t.TempDir()
	out, err = wispIn(t, []string{"WISP_CACHE_DIR=" + fresh}, "", "registry", "pull", ref)
	if err != nil || !strings.Contains(out, "3 component(s), 3 layer(s) downloaded, 0 already cached") {
		t.Fatalf("pull: %v\n%s", err, out)
	}
	sum := sha256.Sum256([]byte(big))
	cached, err := os.ReadFile(filepath.Join(fresh, "oci", "blobs", "sha256", hex.EncodeToString(sum[:])))
	if err != nil || string(cached) != big {
		t.Errorf("big file in the cache: %v (%d bytes)", err, len(cached))
	}

	// Run the pulled app, by -f and by --from-registry.
	for _, args := range [][]string{{"-f", ref}, {"--from-registry", ref}} {
		s := up(t, t.TempDir(), args...)
		for path, want := range map[string]string{"/hello": "hello from wagi\n", "/small": "small and inline\n", "/big": big} {
			if r := get(t, s.URL+path); r.Status != 200 || r.Body != want {
				t.Errorf("up %v: GET %s = %d %q", args, path, r.Status, r.Body)
			}
		}
		if r := get(t, s.URL+"/teapot"); r.Status != 418 || r.Body != "short and stout" {
			t.Errorf("up %v: GET /teapot = %d %q", args, r.Status, r.Body)
		}
		s.stop(t)
	}

	// A blob tampered with in the registry's storage is refused on pull.
	sumHello := fileSHA256(t, filepath.Join(dir, "hello.wasm"))
	stored := reg.BlobPath("sha256:" + sumHello)
	orig, err := os.ReadFile(stored)
	if err != nil {
		t.Fatal(err)
	}
	evil := append([]byte(nil), orig...)
	evil[len(evil)-1] ^= 0xff
	if err := os.WriteFile(stored, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = wispIn(t, []string{"WISP_CACHE_DIR=" + t.TempDir()}, "", "registry", "pull", ref)
	if err == nil || !strings.Contains(out, "sha256:"+sumHello) || !strings.Contains(out, "does not match its digest") {
		t.Errorf("pull of a tampered blob: err=%v\n%s", err, out)
	}
}

func TestE2ERegistryUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "-f", "spin.toml", "--from-registry", "localhost:1/x:1"}, "either --from (-f) or --from-registry"},
		{[]string{"registry", "push", "-f", "localhost:1/x:1", "localhost:1/y:1"}, "push needs a local app"},
		{[]string{"registry", "login", "localhost:1"}, "--username"},
		{[]string{"registry", "pull", "not a reference"}, "not an OCI reference"},
	} {
		out, err := wispIn(t, nil, "", tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("wisp %v: err=%v, output lacks %q:\n%s", tc.args, err, tc.want, out)
		}
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
