// Package testguest builds WebAssembly test guests from source at test time.
//
// Guests are built from the sources under testdata/guests (or any other
// source) rather than checked in as binaries, so a reviewer can read exactly
// what a test runs. Builds are cached by a hash of their inputs under
// os.UserCacheDir()/wisp-testguests, so only the first run pays for the
// toolchain.
//
// When a toolchain is missing, tests skip with a clear message on a
// developer's machine but fail on CI (CI must never silently skip coverage).
package testguest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// clang is the C compiler the fixtures were built with (see
// ../shared/fixtures/README.md); wasi-libc's sysroot is found without
// --sysroot.
const clang = "clang-19"

// Dir returns the absolute path of testdata/guests in the repository.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testguest: cannot locate source file")
	}
	// file is <repo>/internal/testguest/testguest.go.
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "guests")
}

// CompilationCacheDir is a wazero compilation cache shared by test runs, so
// big guests (a standard-Go module takes seconds to compile, much more under
// -race) are compiled once per machine, not once per test.
func CompilationCacheDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(cacheRoot(t), "wazero")
}

// C compiles one C source file into a wasip1 command and returns the path of
// the .wasm file.
func C(t testing.TB, srcFile string) string {
	t.Helper()
	tool := lookPath(t, clang)
	args := []string{"--target=wasm32-wasi", "-O2", "-s"}
	key := hashInputs(t, append([]string{tool, toolVersion(t, tool, "--version")}, args...), []string{srcFile})
	return cached(t, key, func(out string) *exec.Cmd {
		return exec.Command(tool, append(args, "-o", out, srcFile)...)
	})
}

// Go builds the main package in pkgDir (which has its own go.mod, so it
// needs nothing from the host module) with GOOS=wasip1 GOARCH=wasm and
// returns the path of the .wasm file.
func Go(t testing.TB, pkgDir string) string {
	t.Helper()
	tool := lookPath(t, "go")
	files := listFiles(t, pkgDir)
	key := hashInputs(t, []string{tool, toolVersion(t, tool, "version"), "wasip1"}, files)
	return cached(t, key, func(out string) *exec.Cmd {
		cmd := exec.Command(tool, "build", "-trimpath", "-o", out, ".")
		cmd.Dir = pkgDir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=")
		return cmd
	})
}

// GoReactor builds the main package in pkgDir (which has its own go.mod)
// as a standard-Go WASI reactor (GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared) into out. Not cached: these packages (the Go SDK's
// examples and tests) replace a module outside pkgDir, which a cache key
// over pkgDir's files would miss.
func GoReactor(t testing.TB, pkgDir, out string) {
	t.Helper()
	tool := lookPath(t, "go")
	cmd := exec.Command(tool, "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkgDir, err, b)
	}
}

// WAT assembles a WebAssembly text file with wabt's wat2wasm.
func WAT(t testing.TB, file string) string {
	t.Helper()
	tool := lookPath(t, "wat2wasm")
	key := hashInputs(t, []string{tool, toolVersion(t, tool, "--version")}, []string{file})
	return cached(t, key, func(out string) *exec.Cmd {
		return exec.Command(tool, "-o", out, file)
	})
}

// missing skips (or fails on CI) because a toolchain is not installed.
func missing(t testing.TB, tool string) {
	t.Helper()
	msg := "testguest: toolchain " + tool + " not found in PATH; install it to run this test (see ../shared/fixtures/README.md)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func lookPath(t testing.TB, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		missing(t, tool)
	}
	return p
}

// versions memoizes toolVersion: running the tool once per process is
// enough, and tests ask for many guests.
var versions sync.Map // tool path -> version output

// toolVersion is part of the cache key so a toolchain upgrade rebuilds.
func toolVersion(t testing.TB, tool, flag string) string {
	t.Helper()
	if v, ok := versions.Load(tool); ok {
		return v.(string)
	}
	out, err := exec.Command(tool, flag).CombinedOutput()
	if err != nil {
		t.Fatalf("testguest: %s %s: %v\n%s", tool, flag, err, out)
	}
	versions.Store(tool, string(out))
	return string(out)
}

// listFiles returns the regular files of a Go package directory tree,
// sorted, so the cache key covers every input.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && (strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "go.mod") || strings.HasSuffix(p, "go.sum")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	sort.Strings(files)
	return files
}

func hashInputs(t testing.TB, params []string, files []string) string {
	t.Helper()
	h := sha256.New()
	for _, p := range params {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("testguest: %v", err)
		}
		io.WriteString(h, filepath.Base(f))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// cached returns the cached build for key, building it with build if absent.
// The build writes to a temporary name and is renamed into place, so
// parallel test binaries never see a half-written module.
func cached(t testing.TB, key string, build func(out string) *exec.Cmd) string {
	t.Helper()
	dir := cacheRoot(t)
	final := filepath.Join(dir, key+".wasm")
	if _, err := os.Stat(final); err == nil {
		return final
	}
	tmp, err := os.CreateTemp(dir, key+"-*.tmp")
	if err != nil {
		t.Fatalf("testguest: %v", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := build(tmp.Name())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testguest: %s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return final
}

// cacheRoot is os.UserCacheDir()/wisp-testguests, created if missing.
func cacheRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "wisp-testguests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("testguest: %v", err)
	}
	return dir
}

// Fixture returns the path of a prebuilt guest from the shared fixtures
// (../shared/fixtures beside the repository, or $WISP_FIXTURES), e.g.
// Fixture(t, "spin-js-http/spin-js-http.wasm"). A missing fixture fails the
// test on CI and skips it elsewhere.
func Fixture(t testing.TB, rel string) string {
	t.Helper()
	root := os.Getenv("WISP_FIXTURES")
	if root == "" {
		root = filepath.Join(Dir(t), "..", "..", "..", "shared", "fixtures")
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testguest: fixture %s is missing: %v", rel, err)
		}
		t.Skipf("testguest: skipping: fixture %s is missing (set WISP_FIXTURES): %v", rel, err)
	}
	return p
}
