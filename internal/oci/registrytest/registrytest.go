// Package registrytest runs a real OCI registry for tests: the CNCF
// distribution registry, pinned in tools/registry (a separate module, so
// it never becomes a dependency of the wisp binary), built once from the
// Go module cache into os.UserCacheDir()/wisp-testtools and started on a
// free loopback port with its storage in a temporary directory.
package registrytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The registry's import path; its version is pinned by tools/registry/go.mod.
const registryPkg = "github.com/distribution/distribution/v3/cmd/registry"

// Registry is a running registry.
type Registry struct {
	// Host is "127.0.0.1:<port>", to be used as the registry part of
	// references (plain HTTP).
	Host string
	// Root is the storage directory (the filesystem driver's rootdirectory).
	Root string

	mu  sync.Mutex
	log bytes.Buffer
}

// Options configure Start.
type Options struct {
	// Users turns on htpasswd authentication with these users and passwords.
	Users map[string]string
}

// Start builds (if needed) and starts a registry that is stopped when the
// test ends. Failing to build or start it fails the test: a registry test
// never silently skips.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	bins := tools(t)
	dir := t.TempDir()
	r := &Registry{Root: filepath.Join(dir, "storage")}

	authYAML := ""
	if len(opts.Users) > 0 {
		var lines []string
		for user, pw := range opts.Users {
			cmd := exec.Command(bins.htpasswd, user)
			cmd.Stdin = strings.NewReader(pw)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("registrytest: htpasswd: %v", err)
			}
			lines = append(lines, strings.TrimSpace(string(out)))
		}
		file := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		authYAML = fmt.Sprintf("auth:\n  htpasswd:\n    realm: wisp-test\n    path: %s\n", file)
	}

	// The port is found by listening and closing; another process could take
	// it in between, so starting is retried.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		r.Host = fmt.Sprintf("127.0.0.1:%d", port)
		cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: wisp-test-secret
%s`, r.Root, r.Host, authYAML)
		cfgPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if lastErr = r.run(t, bins.registry, cfgPath); lastErr == nil {
			return r
		}
	}
	t.Fatalf("registrytest: registry did not start: %v\n%s", lastErr, r.Log())
	return nil
}

func (r *Registry) run(t testing.TB, bin, cfgPath string) error {
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout = r
	cmd.Stderr = r
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("registry exited: %v", err)
		default:
		}
		resp, err := http.Get("http://" + r.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					<-done
				})
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-done
	return errors.New("registry did not answer within 30s")
}

// Write collects the registry's output, shown when it fails to start.
func (r *Registry) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

// Log returns what the registry printed.
func (r *Registry) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// BlobPath is where the registry stores the blob with the given
// "sha256:<hex>" digest (the filesystem driver's layout), for tests that
// tamper with stored content.
func (r *Registry) BlobPath(digest string) string {
	hexPart := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Root, "docker", "registry", "v2", "blobs", "sha256", hexPart[:2], hexPart, "data")
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type binaries struct{ registry, htpasswd string }

var (
	buildOnce sync.Once
	built     binaries
	buildErr  error
)

// tools returns the registry and htpasswd binaries, building them into a
// cache keyed by tools/registry's go.mod, go.sum and sources and the Go
// version, so only the first run on a machine pays for the build.
func tools(t testing.TB) binaries {
	t.Helper()
	buildOnce.Do(func() { built, buildErr = buildTools() })
	if buildErr != nil {
		t.Fatalf("registrytest: %v", buildErr)
	}
	return built
}

func buildTools() (binaries, error) {
	modDir, err := toolsModule()
	if err != nil {
		return binaries{}, err
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, f := range []string{"go.mod", "go.sum", "htpasswd/main.go"} {
		data, err := os.ReadFile(filepath.Join(modDir, f))
		if err != nil {
			return binaries{}, err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "wisp-testtools", "registry-"+hex.EncodeToString(h.Sum(nil))[:16])
	b := binaries{registry: filepath.Join(dir, "registry"), htpasswd: filepath.Join(dir, "htpasswd")}
	if exists(b.registry) && exists(b.htpasswd) {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return b, err
	}
	for out, pkg := range map[string]string{b.registry: registryPkg, b.htpasswd: "./htpasswd"} {
		if exists(out) {
			continue
		}
		// Build to a temporary name and rename, so that concurrent test
		// processes never run a half-written binary.
		tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, pkg)
		cmd.Dir = modDir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
		if msg, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp)
			return b, fmt.Errorf("building %s in %s: %v\n%s", pkg, modDir, err, msg)
		}
		if err := os.Rename(tmp, out); err != nil {
			return b, err
		}
	}
	return b, nil
}

// toolsModule finds tools/registry next to the main module's go.mod.
func toolsModule() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the wisp module")
	}
	dir := filepath.Join(filepath.Dir(gomod), "tools", "registry")
	if !exists(filepath.Join(dir, "go.mod")) {
		return "", fmt.Errorf("%s/go.mod not found", dir)
	}
	return dir, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
