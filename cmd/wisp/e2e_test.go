package main

// End-to-end tests: they build the real wisp binary and drive it as a user
// would — new, build, up, curl, Ctrl-C.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var wispBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wisp-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wispBin = filepath.Join(dir, "wisp")
	out, err := exec.Command("go", "build", "-o", wispBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building wisp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wisp runs the binary to completion and returns its combined output.
func wisp(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(wispBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WISP_CACHE_DIR="+cacheDir(t))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cacheDir shares one compilation cache across the e2e tests of a run.
var (
	cacheOnce sync.Once
	cachePath string
)

func cacheDir(t *testing.T) string {
	cacheOnce.Do(func() {
		var err error
		cachePath, err = os.MkdirTemp("", "wisp-e2e-cache")
		if err != nil {
			t.Fatal(err)
		}
	})
	return cachePath
}

// server is a running `wisp up`.
type server struct {
	cmd  *exec.Cmd
	URL  string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

var servingLine = regexp.MustCompile(`Serving (http://[0-9.:\[\]]+)`)

// up starts `wisp up` with a free port and waits until it serves.
func up(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	args = append([]string{"up", "--listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command(wispBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WISP_CACHE_DIR="+cacheDir(t))
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case urlc <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { s.stop(t) })
	select {
	case s.URL = <-urlc:
		return s
	case err := <-s.done:
		t.Fatalf("wisp up exited early: %v\n%s", err, s.output())
	case <-time.After(90 * time.Second):
		t.Fatalf("wisp up did not start serving in time\n%s", s.output())
	}
	return nil
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// stop sends SIGINT (Ctrl-C) and expects a clean exit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("wisp up did not exit cleanly after SIGINT: %v\n%s", err, s.output())
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Errorf("wisp up did not stop within 15s of SIGINT\n%s", s.output())
	}
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func get(t *testing.T, url string) response {
	t.Helper()
	return do(t, http.MethodGet, url, nil, nil)
}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// requireCI fails (in CI) or skips (locally) when a tool is missing.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v (run scripts/deps.sh)", name, err)
		}
		t.Skipf("skipping: %s not installed (run scripts/deps.sh)", name)
	}
}

func TestE2ENewBuildUpGo(t *testing.T) {
	requireTool(t, "go")
	work := t.TempDir()
	if out, err := wisp(t, work, "new", "http-go", "hello", "-a"); err != nil {
		t.Fatalf("wisp new: %v\n%s", err, out)
	}
	app := filepath.Join(work, "hello")
	if out, err := wisp(t, app, "build"); err != nil {
		t.Fatalf("wisp build: %v\n%s", err, out)
	}
	s := up(t, app)
	r := get(t, s.URL+"/")
	if r.Status != 200 || r.Body == "" {
		t.Fatalf("GET / = %d %q\n%s", r.Status, r.Body, s.output())
	}
	if r := get(t, s.URL+"/.well-known/spin/health"); r.Status != 200 {
		t.Fatalf("health = %d", r.Status)
	}
}
