package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// handlerFunc adapts a function to Handler, standing in for an executor.
type handlerFunc func(w http.ResponseWriter, r *http.Request, info *RequestInfo)

func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request, info *RequestInfo) {
	f(w, r, info)
}

// recordingHandler remembers the last request it served.
type recordingHandler struct {
	mu     sync.Mutex
	info   RequestInfo
	header http.Header
	ctx    context.Context
}

func (h *recordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request, info *RequestInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.info = *info
	h.info.Params = append([]Param(nil), info.Params...)
	h.info.params = [4]Param{}
	h.header = r.Header.Clone()
	h.ctx = r.Context()
	io.WriteString(w, "from "+info.ComponentID)
}

func (h *recordingHandler) last() (RequestInfo, http.Header, context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.info, h.header, h.ctx
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func testApp(triggers ...lockedapp.Trigger) *lockedapp.LockedApp {
	app := &lockedapp.LockedApp{Version: lockedapp.Version, Metadata: lockedapp.Metadata{Name: "test-app", Version: "1.2.3"}, Triggers: triggers}
	seen := map[string]bool{}
	for _, t := range triggers {
		if t.Component != "" && !seen[t.Component] {
			seen[t.Component] = true
			app.Components = append(app.Components, lockedapp.Component{ID: t.Component})
		}
	}
	return app
}

func staticTrigger(id, route string, sr lockedapp.StaticResponse) lockedapp.Trigger {
	return lockedapp.Trigger{ID: id, Type: "http", HTTP: &lockedapp.HTTPTrigger{Route: route, StaticResponse: &sr}}
}

// newTestServer builds a Server whose components all share one recording
// handler, plus an httptest server in front of it.
func newTestServer(t *testing.T, cfg Config, triggers ...lockedapp.Trigger) (*Server, *httptest.Server, *recordingHandler) {
	t.Helper()
	rec := &recordingHandler{}
	handlers := map[string]Handler{}
	for _, tr := range triggers {
		if tr.Component != "" {
			handlers[tr.Component] = rec
		}
	}
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger()
	}
	s, err := New(testApp(triggers...), handlers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts, rec
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	return do(t, http.MethodGet, url, nil, nil)
}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestServerRequestInfo(t *testing.T) {
	_, ts, rec := newTestServer(t, Config{},
		httpTrigger("exact", "/hello"),
		httpTrigger("param", "/users/:user_id"),
		httpTrigger("wild", "/static/..."),
		httpTrigger("both", "/foo/:userid/..."),
		httpTrigger("root", "/"),
	)
	tests := []struct {
		path string
		want RequestInfo
	}{
		{"/hello?x=1", RequestInfo{TriggerID: "t-exact", ComponentID: "exact", FullURL: ts.URL + "/hello?x=1",
			MatchedRoute: "/hello", RawComponentRoute: "/hello", ComponentRoute: "/hello"}},
		{"/users/42", RequestInfo{TriggerID: "t-param", ComponentID: "param", FullURL: ts.URL + "/users/42",
			MatchedRoute: "/users/:user_id", RawComponentRoute: "/users/:user_id", ComponentRoute: "/users/:user_id",
			Params: []Param{{"user_id", "42"}}}},
		{"/static/css/a%20b.css", RequestInfo{TriggerID: "t-wild", ComponentID: "wild", FullURL: ts.URL + "/static/css/a%20b.css",
			PathInfo: "/css/a%20b.css", Wildcard: "/css/a%20b.css",
			MatchedRoute: "/static/...", RawComponentRoute: "/static/...", ComponentRoute: "/static"}},
		{"/static/", RequestInfo{TriggerID: "t-wild", ComponentID: "wild", FullURL: ts.URL + "/static/",
			PathInfo: "/", Wildcard: "/",
			MatchedRoute: "/static/...", RawComponentRoute: "/static/...", ComponentRoute: "/static"}},
		{"/foo/42/bar?key1=value1&key2=value2", RequestInfo{TriggerID: "t-both", ComponentID: "both",
			FullURL:  ts.URL + "/foo/42/bar?key1=value1&key2=value2",
			PathInfo: "/bar", Wildcard: "/bar", MatchedRoute: "/foo/:userid/...", RawComponentRoute: "/foo/:userid/...",
			ComponentRoute: "/foo/:userid", Params: []Param{{"userid", "42"}}}},
		{"/", RequestInfo{TriggerID: "t-root", ComponentID: "root", FullURL: ts.URL + "/",
			MatchedRoute: "", RawComponentRoute: "/", ComponentRoute: "/"}},
	}
	for _, tt := range tests {
		resp, body := get(t, ts.URL+tt.path)
		if resp.StatusCode != 200 || body != "from "+tt.want.ComponentID {
			t.Errorf("%s: %d %q", tt.path, resp.StatusCode, body)
			continue
		}
		got, _, _ := rec.last()
		if !strings.HasPrefix(got.ClientAddr, "127.0.0.1:") {
			t.Errorf("%s: ClientAddr %q", tt.path, got.ClientAddr)
		}
		got.ClientAddr = ""
		tt.want.BasePath = "/"
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.path, got, tt.want)
		}
	}
}

// Mirrors test_default_headers and test_default_headers_with_named_wildcards
// in Spin's crates/trigger-http/src/headers.rs.
func TestServerSpinHeaders(t *testing.T) {
	rec := &recordingHandler{}
	app := testApp(httpTrigger("DUMMY", "/foo/:userid/..."))
	s, err := New(app, map[string]Handler{"DUMMY": rec}, Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://fermyon.dev/foo/42/bar?key1=value1&key2=value2", nil)
	r.RemoteAddr = "127.0.0.1:8777"
	s.ServeHTTP(httptest.NewRecorder(), r)
	info, _, _ := rec.last()
	got := SpinHeaders(&info)
	want := [][2]string{
		{"spin-path-info", "/bar"},
		{"spin-full-url", "https://fermyon.dev/foo/42/bar?key1=value1&key2=value2"},
		{"spin-matched-route", "/foo/:userid/..."},
		{"spin-base-path", "/"},
		{"spin-raw-component-route", "/foo/:userid/..."},
		{"spin-component-route", "/foo/:userid"},
		{"spin-client-addr", "127.0.0.1:8777"},
		{"spin-path-match-userid", "42"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SpinHeaders:\n got %q\nwant %q", got, want)
	}

	h := http.Header{"Spin-Client-Addr": {"6.6.6.6:1"}, "Spin-Path-Match-Admin": {"1"}, "Accept": {"*/*"}}
	SetSpinHeaders(h, &info)
	if h.Get("spin-client-addr") != "127.0.0.1:8777" || len(h["Spin-Client-Addr"]) != 1 ||
		h.Get("spin-path-match-admin") != "" || h.Get("Accept") != "*/*" {
		t.Errorf("SetSpinHeaders: %v", h)
	}
}

func TestSpinHeadersParamNames(t *testing.T) {
	info := &RequestInfo{Params: []Param{{"user_id", "1"}, {"Name", "2"}, {"bad name", "3"}}}
	var got []string
	for _, kv := range SpinHeaders(info)[7:] {
		got = append(got, kv[0]+"="+kv[1])
	}
	want := []string{"spin-path-match-user-id=1", "spin-path-match-name=2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestServerStripsSpoofedHeaders(t *testing.T) {
	_, ts, rec := newTestServer(t, Config{}, httpTrigger("c", "/:id"))
	_, _ = do(t, "GET", ts.URL+"/1", nil, http.Header{
		"Spin-Client-Addr":     {"10.0.0.1:1"},
		"Spin-Full-Url":        {"http://evil/"},
		"Spin-Path-Match-Id":   {"999"},
		"Spin-Path-Match-Role": {"admin"},
		"Spin-Custom":          {"kept"},
		"X-Other":              {"kept"},
	})
	_, h, _ := rec.last()
	for name := range h {
		if IsSpinHeader(name) {
			t.Errorf("client header %s reached the handler", name)
		}
	}
	if h.Get("Spin-Custom") != "kept" || h.Get("X-Other") != "kept" {
		t.Errorf("unrelated headers lost: %v", h)
	}
	if h.Get("Connection") != "" {
		t.Errorf("Connection header reached the handler")
	}
}

func TestServerWellKnown(t *testing.T) {
	_, ts, _ := newTestServer(t, Config{Version: "0.9.0"},
		httpTrigger("all", "/..."),
		httpTrigger("mine", "/.well-known/spin/..."),
	)
	for _, method := range []string{"GET", "POST"} {
		resp, body := do(t, method, ts.URL+"/.well-known/spin/health", nil, nil)
		if resp.StatusCode != 200 || body != "OK" {
			t.Errorf("%s health: %d %q", method, resp.StatusCode, body)
		}
	}
	resp, body := get(t, ts.URL+"/.well-known/spin/info")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("info: %d %v", resp.StatusCode, resp.Header)
	}
	want := "{\n  \"name\": \"test-app\",\n  \"version\": \"1.2.3\",\n  \"wisp_version\": \"0.9.0\"\n}"
	if body != want {
		t.Errorf("info body %q, want %q", body, want)
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(body), &info); err != nil || info["name"] != "test-app" {
		t.Errorf("info JSON %v %v", info, err)
	}
	// Other reserved paths are 404 even though an app route covers them;
	// a path that only looks similar goes to the app.
	for path, want := range map[string]int{
		"/.well-known/spin/other":   404,
		"/.well-known/spin/health/": 404,
		"/.well-known/spin/":        404,
		"/.well-known/spin":         200,
		"/.well-known/spindle":      200,
	} {
		if resp, _ := get(t, ts.URL+path); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestServerStaticResponse(t *testing.T) {
	_, ts, _ := newTestServer(t, Config{},
		staticTrigger("plain", "/plain", lockedapp.StaticResponse{Body: "hello"}),
		staticTrigger("redirect", "/old/...", lockedapp.StaticResponse{StatusCode: 301, Headers: map[string]string{"Location": "/new", "X-Why": "moved"}}),
	)
	resp, body := get(t, ts.URL+"/plain")
	if resp.StatusCode != 200 || body != "hello" || resp.Header.Get("Content-Type") != "" {
		t.Errorf("plain: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	req, _ := http.NewRequest("DELETE", ts.URL+"/old/x", nil)
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirect following
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/new" || resp.Header.Get("X-Why") != "moved" {
		t.Errorf("redirect: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestServerNotFound(t *testing.T) {
	priv := httpTrigger("secret", "")
	priv.HTTP.Private = true
	logger, logs := testLogger()
	_, ts, _ := newTestServer(t, Config{Logger: logger}, httpTrigger("a", "/a"), priv)
	for _, path := range []string{"/", "/b", "/a/b", "/secret"} {
		resp, body := get(t, ts.URL+path)
		if resp.StatusCode != 404 || body != "" {
			t.Errorf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	if n := strings.Count(logs.String(), "matched no route"); n != 1 {
		t.Errorf("404 hint logged %d times", n)
	}
}

func TestServerAllMethodsReachComponent(t *testing.T) {
	_, ts, _ := newTestServer(t, Config{}, httpTrigger("a", "/a"))
	for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"} {
		if resp, body := do(t, m, ts.URL+"/a", nil, nil); resp.StatusCode != 200 || body != "from a" {
			t.Errorf("%s: %d %q", m, resp.StatusCode, body)
		}
	}
}

// readAll stands in for an executor: it maps *http.MaxBytesError to 413.
var readAll = handlerFunc(func(w http.ResponseWriter, r *http.Request, _ *RequestInfo) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	fmt.Fprintf(w, "read %d", len(b))
})

func TestServerBodyLimit(t *testing.T) {
	called := false
	app := testApp(httpTrigger("c", "/..."))
	h := handlerFunc(func(w http.ResponseWriter, r *http.Request, info *RequestInfo) {
		called = true
		readAll(w, r, info)
	})
	s, err := New(app, map[string]Handler{"c": h}, Config{MaxBodyBytes: 10, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()

	// Declared too large: refused before the handler runs.
	resp, _ := do(t, "POST", ts.URL+"/x", strings.NewReader(strings.Repeat("a", 11)), nil)
	if resp.StatusCode != 413 || called {
		t.Errorf("Content-Length over limit: %d, handler called %v", resp.StatusCode, called)
	}
	// Chunked (no Content-Length): cut off while reading.
	resp, _ = do(t, "POST", ts.URL+"/x", io.MultiReader(strings.NewReader(strings.Repeat("a", 20))), nil)
	if resp.StatusCode != 413 || !called {
		t.Errorf("chunked over limit: %d, handler called %v", resp.StatusCode, called)
	}
	// At the limit: fine.
	resp, body := do(t, "POST", ts.URL+"/x", strings.NewReader(strings.Repeat("a", 10)), nil)
	if resp.StatusCode != 200 || body != "read 10" {
		t.Errorf("at limit: %d %q", resp.StatusCode, body)
	}
}

func TestServerRequestTimeout(t *testing.T) {
	_, ts, rec := newTestServer(t, Config{RequestTimeout: time.Minute}, httpTrigger("a", "/a"))
	get(t, ts.URL+"/a")
	_, _, ctx := rec.last()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > time.Minute || time.Until(dl) < 50*time.Second {
		t.Errorf("deadline %v %v", dl, ok)
	}

	_, ts, rec = newTestServer(t, Config{}, httpTrigger("a", "/a"))
	get(t, ts.URL+"/a")
	if _, _, ctx := rec.last(); ctx == nil {
		t.Fatal("handler not called")
	} else if _, ok := ctx.Deadline(); ok {
		t.Error("deadline set without RequestTimeout")
	}
}

func TestServerPanicRecovery(t *testing.T) {
	logger, logs := testLogger()
	app := testApp(httpTrigger("boom", "/boom"), httpTrigger("late", "/late"), httpTrigger("ok", "/ok"))
	handlers := map[string]Handler{
		"boom": handlerFunc(func(http.ResponseWriter, *http.Request, *RequestInfo) { panic("kaboom") }),
		"late": handlerFunc(func(w http.ResponseWriter, _ *http.Request, _ *RequestInfo) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(http.Flusher).Flush()
			panic("late kaboom")
		}),
		"ok": handlerFunc(func(w http.ResponseWriter, _ *http.Request, _ *RequestInfo) { io.WriteString(w, "fine") }),
	}
	s, err := New(app, handlers, Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	ts.Start()
	defer ts.Close()

	resp, body := get(t, ts.URL+"/boom")
	if resp.StatusCode != 500 || body != "" {
		t.Errorf("panic: %d %q", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "kaboom") {
		t.Errorf("panic not logged: %s", logs)
	}
	// A panic after the response started aborts the connection.
	if resp, err := http.Get(ts.URL + "/late"); err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Error("late panic: response looked complete")
		}
	}
	if resp, body := get(t, ts.URL+"/ok"); resp.StatusCode != 200 || body != "fine" {
		t.Errorf("after panics: %d %q", resp.StatusCode, body)
	}
}

func TestServerAccessLog(t *testing.T) {
	logger, logs := testLogger()
	_, ts, _ := newTestServer(t, Config{Logger: logger}, httpTrigger("a", "/a"))
	get(t, ts.URL+"/a?q=1")
	out := logs.String()
	for _, want := range []string{"level=DEBUG", "msg=request", "method=GET", "uri=\"/a?q=1\"", "status=200", "bytes=6", "trigger=t-a"} {
		if !strings.Contains(out, want) {
			t.Errorf("access log lacks %s: %s", want, out)
		}
	}
}

func TestNewErrors(t *testing.T) {
	ok := handlerFunc(func(http.ResponseWriter, *http.Request, *RequestInfo) {})
	neither := lockedapp.Trigger{ID: "n", Type: "http", HTTP: &lockedapp.HTTPTrigger{Route: "/n"}}
	both := staticTrigger("b", "/b", lockedapp.StaticResponse{})
	both.Component = "c"
	privNoHandler := httpTrigger("p", "/p")
	privNoHandler.HTTP.Private = true
	tests := []struct {
		name    string
		trigger lockedapp.Trigger
		want    string
	}{
		{"no handler", httpTrigger("missing", "/m"), `no handler for component "missing"`},
		{"private without handler", privNoHandler, `no handler for component "p"`},
		{"neither", neither, "has neither"},
		{"both", both, "has both"},
		{"bad status", staticTrigger("s", "/s", lockedapp.StaticResponse{StatusCode: 99}), "status 99"},
		{"bad header", staticTrigger("s", "/s", lockedapp.StaticResponse{Headers: map[string]string{"a b": "c"}}), "header"},
		{"duplicate", httpTrigger("c", "/c/"), "duplicate"},
	}
	for _, tt := range tests {
		app := testApp(httpTrigger("c", "/c"), tt.trigger)
		_, err := New(app, map[string]Handler{"c": ok}, Config{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestRoutesText(t *testing.T) {
	app := testApp(httpTrigger("hello", "/hello/..."), httpTrigger("root", "/"),
		staticTrigger("teapot", "/tea", lockedapp.StaticResponse{StatusCode: 418}))
	app.Components[0].Description = "Says hello"
	ok := handlerFunc(func(http.ResponseWriter, *http.Request, *RequestInfo) {})
	s, err := New(app, map[string]Handler{"hello": ok, "root": ok}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := "Available Routes:\n" +
		"  root: http://127.0.0.1:3000/\n" +
		"  teapot: http://127.0.0.1:3000/tea\n" +
		"  hello: http://127.0.0.1:3000/hello (wildcard)\n" +
		"    Says hello\n"
	if got := s.RoutesText("http://127.0.0.1:3000"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n := len(s.Routes()); n != 3 {
		t.Errorf("Routes: %d", n)
	}
}
