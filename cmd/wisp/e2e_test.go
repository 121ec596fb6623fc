package main

// End-to-end tests: they build the real wisp binary and drive it as a user
// would — new, build, up, curl, Ctrl-C.

import (
	"bufio"
	"context"
	"encoding/json"
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

	"github.com/wisp-dev/wisp/internal/testguest"
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

var servingLine = regexp.MustCompile(`Serving (https?://[0-9.:\[\]]+)`)

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

func TestE2EGoTemplateRoutes(t *testing.T) {
	requireTool(t, "go")
	work := t.TempDir()
	if out, err := wisp(t, work, "new", "http-go", "routes", "-a"); err != nil {
		t.Fatalf("wisp new: %v\n%s", err, out)
	}
	app := filepath.Join(work, "routes")
	// --build runs the build first, as `spin up --build` does.
	s := up(t, app, "--build")
	root := get(t, s.URL+"/")
	if root.Status != 200 || !strings.Contains(root.Body, "Hello") {
		t.Fatalf("GET / = %d %q", root.Status, root.Body)
	}
	js := get(t, s.URL+"/json")
	if js.Status != 200 || js.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(js.Body, `"path":"/json"`) {
		t.Fatalf("GET /json = %d %v %q", js.Status, js.Header, js.Body)
	}
	info := get(t, s.URL+"/.well-known/spin/info")
	if info.Status != 200 || !strings.Contains(info.Body, `"name": "routes"`) {
		t.Fatalf("info = %d %q", info.Status, info.Body)
	}
	// The guest's stderr lands in the component's log file.
	if _, err := os.Stat(filepath.Join(app, ".wisp", "logs", "routes_stderr.txt")); err != nil {
		t.Errorf("component log file: %v", err)
	}
}

func TestE2ETemplatesBuildAndServe(t *testing.T) {
	cases := []struct {
		template, tool, path, want string
		env                        []string
	}{
		{"http-c", "clang-19", "/", "Hello", nil},
		{"http-rust", "/usr/bin/rustc", "/", "Hello", []string{"RUSTC=/usr/bin/rustc"}},
		{"static-fileserver", "go", "/", "<html", nil},
	}
	for _, c := range cases {
		t.Run(c.template, func(t *testing.T) {
			requireTool(t, c.tool)
			work := t.TempDir()
			if out, err := wisp(t, work, "new", c.template, "app", "-a"); err != nil {
				t.Fatalf("wisp new: %v\n%s", err, out)
			}
			app := filepath.Join(work, "app")
			build := exec.Command(wispBin, "build")
			build.Dir = app
			build.Env = append(os.Environ(), c.env...)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("wisp build: %v\n%s", err, out)
			}
			s := up(t, app)
			r := get(t, s.URL+c.path)
			if r.Status != 200 || !strings.Contains(r.Body, c.want) {
				t.Fatalf("GET %s = %d %q\n%s", c.path, r.Status, r.Body, s.output())
			}
		})
	}
}

// writeApp writes a spin.toml and returns the app directory.
func writeAppFiles(t *testing.T, manifest string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// guestApp is an app of C test guests (testdata/guests/wagi) with one
// route per guest, a granted file, and a short request timeout.
func guestApp(t *testing.T) string {
	t.Helper()
	requireTool(t, "clang-19")
	const manifest = `spin_manifest_version = 2
[application]
name = "guests"

[[trigger.http]]
route = "/hello"
component = "hello"
executor = { type = "wagi" }

[[trigger.http]]
route = "/echo/..."
component = "echo"
executor = { type = "wagi" }

[[trigger.http]]
route = "/loop"
component = "loop"
executor = { type = "wagi" }

[[trigger.http]]
route = "/trap"
component = "trap"
executor = { type = "wagi" }

[[trigger.http]]
route = "/memhog"
component = "memhog"
executor = { type = "wagi" }

[[trigger.http]]
route = "/cat"
component = "cat"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/greeting.txt" }

# The same component under a second trigger with its own argv.
[[trigger.http]]
route = "/cat-other"
component = "cat"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/other.txt" }

[[trigger.http]]
route = "/escape"
component = "escape"
executor = { type = "wagi", argv = "${SCRIPT_NAME} /data/../../spin.toml" }

[[trigger.http]]
route = "/teapot"
static_response = { status_code = 418, body = "short and stout" }

[component.hello]
source = "hello.wasm"
[component.echo]
source = "echo.wasm"
environment = { APP_MODE = "e2e" }
[component.loop]
source = "loop.wasm"
[component.trap]
source = "trap.wasm"
[component.memhog]
source = "memhog.wasm"
[component.cat]
source = "readfile.wasm"
files = [{ source = "data", destination = "/data" }]
[component.escape]
source = "readfile.wasm"
files = [{ source = "data", destination = "/data" }]
`
	dir := writeAppFiles(t, manifest, map[string]string{"data/greeting.txt": "hi from a file\n", "data/other.txt": "another file\n"})
	guests := filepath.Join("..", "..", "testdata", "guests", "wagi")
	for _, g := range []string{"hello", "echo", "loop", "trap", "memhog", "readfile"} {
		copyFile(t, testguest.C(t, filepath.Join(guests, g+".c")), filepath.Join(dir, g+".wasm"))
	}
	return dir
}

func TestE2EWAGIGuests(t *testing.T) {
	app := guestApp(t)
	s := up(t, app, "--request-timeout", "2s", "--max-instance-memory", "32Mi")

	if r := get(t, s.URL+"/hello"); r.Status != 200 || r.Body != "hello from wagi\n" {
		t.Errorf("GET /hello = %d %q", r.Status, r.Body)
	}
	body := strings.Repeat("0123456789abcdef", 64<<10) // 1 MiB
	r := do(t, http.MethodPost, s.URL+"/echo/a/b?x=1&y=two", strings.NewReader(body),
		http.Header{"X-Custom": {"yes"}, "Content-Type": {"text/plain"}})
	for _, want := range []string{"REQUEST_METHOD=POST", "PATH_INFO=/a/b", "QUERY_STRING=x=1&y=two",
		"HTTP_X_CUSTOM=yes", "APP_MODE=e2e", "X_MATCHED_ROUTE=/echo/...", "CONTENT_LENGTH=1048576"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("echo response lacks %q", want)
		}
	}
	if r.Status != 200 || !strings.Contains(r.Body, body[:4096]) {
		t.Errorf("POST /echo = %d, %d bytes", r.Status, len(r.Body))
	}
	if r := get(t, s.URL+"/cat"); r.Status != 200 || r.Body != "hi from a file\n" {
		t.Errorf("GET /cat = %d %q", r.Status, r.Body)
	}
	if r := get(t, s.URL+"/cat-other"); r.Status != 200 || r.Body != "another file\n" {
		t.Errorf("GET /cat-other = %d %q: each trigger keeps its own argv", r.Status, r.Body)
	}
	if r := get(t, s.URL+"/escape"); r.Status != 404 {
		t.Errorf("GET /escape = %d %q: a guest must not read outside its files", r.Status, r.Body)
	}
	if r := get(t, s.URL+"/teapot"); r.Status != 418 || r.Body != "short and stout" {
		t.Errorf("GET /teapot = %d %q", r.Status, r.Body)
	}
	if r := get(t, s.URL+"/nowhere"); r.Status != 404 {
		t.Errorf("GET /nowhere = %d", r.Status)
	}

	// Misbehaving guests fail alone: while each runs, a healthy request
	// is answered, and the failure never leaks details into the body.
	for _, bad := range []struct {
		path   string
		status int
	}{{"/loop", 504}, {"/trap", 500}, {"/memhog", 500}} {
		done := make(chan response, 1)
		go func() { done <- get(t, s.URL+bad.path) }()
		time.Sleep(100 * time.Millisecond)
		if r := get(t, s.URL+"/hello"); r.Status != 200 {
			t.Errorf("healthy request during %s = %d", bad.path, r.Status)
		}
		r := <-done
		if r.Status != bad.status {
			t.Errorf("GET %s = %d, want %d", bad.path, r.Status, bad.status)
		}
		if strings.Contains(r.Body, "wasm") || strings.Contains(r.Body, "/tmp") {
			t.Errorf("GET %s leaks details: %q", bad.path, r.Body)
		}
	}
	// Guest stderr reaches the console with the component's prefix, and
	// the component's log file.
	if !strings.Contains(s.output(), "[echo] echo: handled POST") {
		t.Errorf("console lacks the echo guest's stderr line:\n%s", s.output())
	}
	logged, _ := os.ReadFile(filepath.Join(app, ".wisp", "logs", "echo_stderr.txt"))
	if !strings.Contains(string(logged), "echo: handled POST") {
		t.Errorf("echo_stderr.txt lacks the guest's line: %q", logged)
	}
}

func TestE2EBareWasm(t *testing.T) {
	requireTool(t, "clang-19")
	dir := t.TempDir()
	wasm := filepath.Join(dir, "hello.wasm")
	copyFile(t, testguest.C(t, filepath.Join("..", "..", "testdata", "guests", "wagi", "hello.c")), wasm)
	s := up(t, dir, "-f", wasm)
	if r := get(t, s.URL+"/any/path"); r.Status != 200 || r.Body != "hello from wagi\n" {
		t.Fatalf("GET = %d %q", r.Status, r.Body)
	}
}

func TestE2EBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.wasm")
	if err := os.WriteFile(garbage, []byte("this is not wasm"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := wisp(t, dir, "up", "-f", garbage)
	if code := exitCode(err); code != 1 || !strings.Contains(out, "not a WebAssembly binary") {
		t.Errorf("up garbage.wasm: exit %d\n%s", code, out)
	}

	brokenComponent := filepath.Join(dir, "broken.wasm")
	// A component preamble followed by a section that claims more bytes than exist.
	if err := os.WriteFile(brokenComponent, []byte("\x00asm\x0d\x00\x01\x00\x01\xff\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = wisp(t, dir, "up", "-f", brokenComponent)
	if code := exitCode(err); code != 1 || !strings.Contains(out, "component binary") {
		t.Errorf("up broken component: exit %d\n%s", code, out)
	}

	bad := writeAppFiles(t, "spin_manifest_version = 2\n[application]\nname = \"x\"\nbogus = 1\n", nil)
	out, err = wisp(t, bad, "doctor")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "spin.toml:4:1") {
		t.Errorf("doctor on unknown field: exit %d\n%s", code, out)
	}
	out, err = wisp(t, bad, "up")
	if code := exitCode(err); code != 1 || !strings.Contains(out, `unknown field "bogus"`) {
		t.Errorf("up on unknown field: exit %d\n%s", code, out)
	}

	escape := writeAppFiles(t, `spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "x"
[component.x]
source = "x.wasm"
files = [{ source = "../", destination = "/" }]
`, map[string]string{"x.wasm": "\x00asm\x01\x00\x00\x00"})
	out, err = wisp(t, escape, "up")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "..") {
		t.Errorf("files escaping the app dir: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{{"up", "--no-such-flag"}, {"new", "no-such-template", "x", "-a"}, {"up", "--variable", "novalue"}} {
		out, err := wisp(t, dir, args...)
		if code := exitCode(err); code != 2 {
			t.Errorf("wisp %v: exit %d, want 2 (usage)\n%s", args, code, out)
		}
	}
}

func TestE2EMaintenanceSchema(t *testing.T) {
	out, err := wisp(t, t.TempDir(), "maintenance", "manifest-schema")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(out), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if _, ok := schema["properties"].(map[string]any)["component"]; !ok {
		t.Errorf("schema has no component property")
	}
}

func TestE2ERequiredVariable(t *testing.T) {
	requireTool(t, "clang-19")
	dir := writeAppFiles(t, `spin_manifest_version = 2
[application]
name = "vars"
[variables]
api_key = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "hello"
executor = { type = "wagi" }
[component.hello]
source = "hello.wasm"
variables = { key = "{{ api_key }}" }
`, nil)
	copyFile(t, testguest.C(t, filepath.Join("..", "..", "testdata", "guests", "wagi", "hello.c")), filepath.Join(dir, "hello.wasm"))
	out, err := wisp(t, dir, "up", "--listen", "127.0.0.1:0")
	if code := exitCode(err); code != 1 || !strings.Contains(out, "api_key") {
		t.Fatalf("missing required variable: exit %d\n%s", code, out)
	}
	s := up(t, dir, "--variable", "api_key=s3cret")
	if r := get(t, s.URL+"/"); r.Status != 200 {
		t.Fatalf("GET / = %d", r.Status)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
