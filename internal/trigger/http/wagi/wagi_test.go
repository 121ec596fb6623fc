package wagi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/testguest"
	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/trigger/http/wagi"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// memLimit is small so the memory hog fails fast.
const memLimit = 32 << 20

// fixture is one loaded app holding every WAGI test guest as a component
// named after its source file.
type fixture struct {
	app    *executor.App
	logDir string
}

var (
	loadOnce   sync.Once
	loaded     *fixture
	loadErr    string
	guestNames = []string{"hello", "echo", "body", "status", "redirect", "fail", "badcgi", "loop", "trap", "memhog"}
)

func setup(t *testing.T) *fixture {
	t.Helper()
	// Build (or skip) per test so a missing toolchain is reported properly,
	// but load the app once for the whole package.
	paths := map[string]string{}
	for _, name := range guestNames {
		paths[name] = testguest.C(t, filepath.Join(testguest.Dir(t), "wagi", name+".c"))
	}
	loadOnce.Do(func() {
		ctx := context.Background()
		eng, err := engine.New(ctx, engine.Config{MaxInstanceMemory: memLimit, CacheDir: testguest.CompilationCacheDir(t)})
		if err != nil {
			loadErr = err.Error()
			return
		}
		logDir, err := os.MkdirTemp("", "wagi-logs-")
		if err != nil {
			loadErr = err.Error()
			return
		}
		sink, err := logs.New(logDir, nil, logs.Options{})
		if err != nil {
			loadErr = err.Error()
			return
		}
		locked := &lockedapp.LockedApp{}
		for _, name := range guestNames {
			locked.Components = append(locked.Components, component(t, name, paths[name]))
		}
		app, err := executor.Load(ctx, eng, locked, sink, nil)
		if err != nil {
			loadErr = err.Error()
			return
		}
		loaded = &fixture{app: app, logDir: logDir}
	})
	if loaded == nil {
		t.Fatalf("loading test app: %s", loadErr)
	}
	return loaded
}

func component(t *testing.T, id, path string) lockedapp.Component {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return lockedapp.Component{
		ID:          id,
		Source:      lockedapp.Source{Path: path, Digest: "sha256:" + hex.EncodeToString(sum[:])},
		Environment: map[string]string{"COMPONENT_VAR": "from-manifest"},
	}
}

// request describes one call of a handler.
type request struct {
	guest    string
	method   string
	target   string // path and query
	body     io.Reader
	header   http.Header
	argv     string
	timeout  time.Duration // default 10s
	maxBody  int64         // 0: unlimited
	maxResp  int64
	route    string // component route, default "/<guest>"
	pathInfo string
}

func (f *fixture) serve(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodGet
	}
	if rq.target == "" {
		rq.target = "/" + rq.guest
	}
	if rq.timeout == 0 {
		rq.timeout = 10 * time.Second
	}
	if rq.route == "" {
		rq.route = "/" + rq.guest
	}
	c := f.app.Component(rq.guest)
	h := wagi.New(c, lockedapp.Executor{Type: "wagi", Argv: rq.argv}, wagi.Options{MaxResponseBytes: rq.maxResp})

	r := httptest.NewRequest(rq.method, "http://example.com:8080"+rq.target, rq.body)
	for k, v := range rq.header {
		r.Header[k] = v
	}
	ctx, cancel := context.WithTimeout(r.Context(), rq.timeout)
	defer cancel()
	r = r.WithContext(ctx)
	w := httptest.NewRecorder()
	if rq.maxBody > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, rq.maxBody)
	}
	h.ServeHTTP(w, r, &trigger.RequestInfo{
		ComponentID:       rq.guest,
		FullURL:           "http://example.com:8080" + rq.target,
		PathInfo:          rq.pathInfo,
		MatchedRoute:      rq.route + "/...",
		RawComponentRoute: rq.route + "/...",
		ComponentRoute:    rq.route,
		BasePath:          "/",
		ClientAddr:        "192.0.2.7:4321",
		Params:            []trigger.Param{{Name: "id", Value: "42"}},
	})
	return w
}

// stderrLog returns the component's stderr log so far.
func (f *fixture) stderrLog(t *testing.T, id string) string {
	b, _ := os.ReadFile(filepath.Join(f.logDir, id+"_stderr.txt"))
	return string(b)
}

func TestHello(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{guest: "hello"})
	if w.Code != 200 || w.Body.String() != "hello from wagi\n" || w.Header().Get("Content-Type") != "text/plain" {
		t.Fatalf("got %d %v %q", w.Code, w.Header(), w.Body.String())
	}
}

func TestGoGuest(t *testing.T) {
	wasm := testguest.Go(t, filepath.Join(testguest.Dir(t), "go-wagi-hello"))
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	app, err := executor.Load(ctx, eng, &lockedapp.LockedApp{Components: []lockedapp.Component{component(t, "go", wasm)}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{app: app, logDir: t.TempDir()}
	w := f.serve(t, request{guest: "go", method: "POST", target: "/go/x?q=wisp", pathInfo: "/x", body: strings.NewReader("ignored")})
	if w.Code != 200 || w.Header().Get("X-Guest") != "go" || w.Body.String() != "hello from Go wagi: POST /go/x q=wisp\n" {
		t.Fatalf("got %d %v %q", w.Code, w.Header(), w.Body.String())
	}
}

func TestEcho(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{
		guest:    "echo",
		method:   "POST",
		target:   "/echo/a%20b/c?name=J%C3%BCrgen&x=1+2&flag",
		body:     strings.NewReader("the body"),
		header:   http.Header{"Content-Type": {"text/x-test"}, "X-Custom-Thing": {"v1", "v2"}, "Authorization": {"Bearer secret"}, "Connection": {"keep-alive"}},
		pathInfo: "/a%20b/c",
	})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	out := w.Body.String()
	for _, want := range []string{
		"arg[0]=/echo\n", "arg[1]=name=Jürgen\n", "arg[2]=x=1 2\n", "arg[3]=flag\n",
		"env:AUTH_TYPE=\n",
		"env:CONTENT_LENGTH=8\n",
		"env:CONTENT_TYPE=text/x-test\n",
		"env:GATEWAY_INTERFACE=CGI/1.1\n",
		"env:PATH_INFO=/a%20b/c\n",
		"env:PATH_TRANSLATED=/a b/c\n",
		"env:QUERY_STRING=name=J%C3%BCrgen&x=1+2&flag\n",
		"env:REMOTE_ADDR=192.0.2.7\n",
		"env:REMOTE_HOST=192.0.2.7\n",
		"env:REMOTE_USER=\n",
		"env:REQUEST_METHOD=POST\n",
		"env:SCRIPT_NAME=/echo\n",
		"env:SERVER_NAME=example.com\n",
		"env:SERVER_PORT=8080\n",
		"env:SERVER_PROTOCOL=HTTP/1.1\n",
		"env:SERVER_SOFTWARE=WAGI/1\n",
		"env:X_FULL_URL=http://example.com:8080/echo/a%20b/c?name=J%C3%BCrgen&x=1+2&flag\n",
		"env:X_MATCHED_ROUTE=/echo/...\n",
		"env:X_RAW_COMPONENT_ROUTE=/echo/...\n",
		"env:X_COMPONENT_ROUTE=/echo\n",
		"env:X_BASE_PATH=/\n",
		"env:X_RAW_PATH_INFO=/a%20b/c\n",
		"env:X_CLIENT_ADDR=192.0.2.7:4321\n",
		"env:X_PATH_MATCH_ID=42\n",
		"env:HTTP_HOST=example.com:8080\n",
		"env:HTTP_CONTENT_TYPE=text/x-test\n",
		"env:HTTP_X_CUSTOM_THING=v1, v2\n",
		"env:COMPONENT_VAR=from-manifest\n",
		"body:the body\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, leaked := range []string{"HTTP_AUTHORIZATION", "secret", "HTTP_CONNECTION"} {
		if strings.Contains(out, leaked) {
			t.Errorf("output contains %q", leaked)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
	if !strings.Contains(f.stderrLog(t, "echo"), "echo: handled POST\n") {
		t.Errorf("guest stderr not logged: %q", f.stderrLog(t, "echo"))
	}
}

func TestArgvTemplate(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{guest: "echo", target: "/echo?a&b", argv: "prog --script=${SCRIPT_NAME} ${ARGS} end"})
	out := w.Body.String()
	want := "arg[0]=prog\narg[1]=--script=/echo\narg[2]=a\narg[3]=b\narg[4]=end\nenv:"
	if !strings.Contains(out, want) {
		t.Errorf("output %q lacks %q", out, want)
	}
	// No query: ${ARGS} expands to nothing.
	w = f.serve(t, request{guest: "echo"})
	if out := w.Body.String(); !strings.HasPrefix(out, "arg[0]=/echo\nenv:") {
		t.Errorf("output %q", out)
	}
}

func TestStatusAndHeaders(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{guest: "status"})
	if w.Code != 404 || w.Header().Get("X-Wisp-Test") != "yes" || w.Body.String() != "status body\n" {
		t.Fatalf("got %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	w = f.serve(t, request{guest: "status", target: "/status?418"})
	if w.Code != 418 {
		t.Fatalf("got %d", w.Code)
	}
	w = f.serve(t, request{guest: "status", target: "/status?abc"})
	if w.Code != 500 || w.Body.String() != "500 Internal Server Error\n" {
		t.Fatalf("bad status: got %d %q", w.Code, w.Body.String())
	}
}

func TestRedirect(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{guest: "redirect"})
	if w.Code != 302 || w.Header().Get("Location") != "/elsewhere" {
		t.Fatalf("got %d %v", w.Code, w.Header())
	}
}

func TestLargeBodyEcho(t *testing.T) {
	f := setup(t)
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	w := f.serve(t, request{guest: "body", method: "PUT", body: bytes.NewReader(body), maxBody: 2 << 20})
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), body) {
		t.Fatalf("got %d, %d bytes", w.Code, w.Body.Len())
	}
	// A chunked body (unknown length) is measured before the guest runs.
	r := io.MultiReader(bytes.NewReader(body[:1000]), bytes.NewReader(body[1000:]))
	w = f.serve(t, request{guest: "body", method: "PUT", body: struct{ io.Reader }{r}})
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), body) {
		t.Fatalf("chunked: got %d, %d bytes", w.Code, w.Body.Len())
	}
}

func TestBodyTooLarge(t *testing.T) {
	f := setup(t)
	body := bytes.Repeat([]byte("x"), 100<<10)
	w := f.serve(t, request{guest: "body", method: "POST", body: bytes.NewReader(body), maxBody: 10 << 10})
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	w = f.serve(t, request{guest: "body", method: "POST", body: struct{ io.Reader }{bytes.NewReader(body)}, maxBody: 10 << 10})
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: got %d %q", w.Code, w.Body.String())
	}
}

func TestResponseTooLarge(t *testing.T) {
	f := setup(t)
	w := f.serve(t, request{guest: "body", target: "/body?gen=5000", maxResp: 1000})
	if w.Code != 500 {
		t.Fatalf("got %d", w.Code)
	}
	if !strings.Contains(f.stderrLog(t, "body"), "exceeds 1000 bytes") {
		t.Errorf("log %q", f.stderrLog(t, "body"))
	}
	w = f.serve(t, request{guest: "body", target: "/body?gen=5000"})
	if w.Code != 200 || w.Body.Len() != 5000 {
		t.Fatalf("got %d, %d bytes", w.Code, w.Body.Len())
	}
}

// TestFailures checks that every kind of guest failure gets a generic
// answer, with the reason only in the component's log.
func TestFailures(t *testing.T) {
	f := setup(t)
	tests := []struct {
		guest   string
		timeout time.Duration
		status  int
		log     string
	}{
		{"fail", 0, 500, "wagi: guest exited with code 1"},
		{"badcgi", 0, 500, "wagi: invalid CGI response: no empty line ends the header block"},
		{"trap", 0, 500, "wagi: guest trapped: unreachable"},
		{"memhog", 0, 500, "likely out of memory"},
		{"loop", 300 * time.Millisecond, 504, "wagi: guest exceeded the request deadline"},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := f.serve(t, request{guest: tt.guest, timeout: tt.timeout})
			want := http.StatusText(tt.status)
			if w.Code != tt.status || !strings.Contains(w.Body.String(), want) || strings.Contains(w.Body.String(), "secret") {
				t.Errorf("%s: got %d %q", tt.guest, w.Code, w.Body.String())
			}
		}()
	}
	// Healthy requests keep succeeding while the failing ones run.
	for i := 0; i < 10; i++ {
		if w := f.serve(t, request{guest: "hello"}); w.Code != 200 {
			t.Errorf("healthy request: %d", w.Code)
		}
	}
	wg.Wait()
	for _, tt := range tests {
		if log := f.stderrLog(t, tt.guest); !strings.Contains(log, tt.log) {
			t.Errorf("%s: log %q lacks %q", tt.guest, log, tt.log)
		}
	}
	// Guest stderr is logged too.
	if log := f.stderrLog(t, "memhog"); !strings.Contains(log, "memhog: malloc failed") {
		t.Errorf("memhog log %q", log)
	}
}
