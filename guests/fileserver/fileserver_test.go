package main

import (
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var site = fstest.MapFS{
	"index.html":          {Data: []byte("<h1>home</h1>")},
	"style.css":           {Data: []byte("body{}")},
	"app.js":              {Data: []byte("1")},
	"notes.txt":           {Data: []byte("notes")},
	"mod.wasm":            {Data: []byte("\x00asm")},
	"font.woff2":          {Data: []byte("w")},
	"noext":               {Data: []byte("<html><body>sniffed</body></html>")},
	"docs/index.html":     {Data: []byte("docs")},
	"docs/guide/a.json":   {Data: []byte(`{"a":1}`)},
	"empty-dir/README.md": {Data: []byte("# x")},
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func TestHandler(t *testing.T) {
	h := Handler(site)
	tests := []struct {
		method, path string
		status       int
		ctype, body  string
		location     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "<h1>home</h1>", ""},
		{"GET", "/index.html", 200, "text/html; charset=utf-8", "<h1>home</h1>", ""},
		{"GET", "/style.css", 200, "text/css; charset=utf-8", "body{}", ""},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8", "1", ""},
		{"GET", "/notes.txt", 200, "text/plain; charset=utf-8", "notes", ""},
		{"GET", "/mod.wasm", 200, "application/wasm", "\x00asm", ""},
		{"GET", "/font.woff2", 200, "font/woff2", "w", ""},
		{"GET", "/noext", 200, "text/html; charset=utf-8", "<html><body>sniffed</body></html>", ""},
		{"GET", "/docs/", 200, "text/html; charset=utf-8", "docs", ""},
		{"GET", "/docs", 301, "", "", "docs/"},
		{"GET", "/docs?x=1", 301, "", "", "docs/?x=1"},
		{"GET", "/docs/guide/a.json", 200, "application/json", `{"a":1}`, ""},
		{"GET", "/docs/guide/", 404, "", "Not Found\n", ""},
		{"GET", "/empty-dir/", 404, "", "Not Found\n", ""},
		{"GET", "/missing.html", 404, "", "Not Found\n", ""},
		{"GET", "/../../etc/passwd", 404, "", "Not Found\n", ""},
		{"GET", "/docs/../style.css", 200, "text/css; charset=utf-8", "body{}", ""},
		{"HEAD", "/style.css", 200, "text/css; charset=utf-8", "", ""},
		{"POST", "/style.css", 405, "", "Method Not Allowed\n", ""},
	}
	for _, tt := range tests {
		w := serve(h, tt.method, tt.path)
		if w.Code != tt.status || w.Body.String() != tt.body {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, w.Code, w.Body.String(), tt.status, tt.body)
		}
		if tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tt.method, tt.path, w.Header().Get("Content-Type"), tt.ctype)
		}
		if got := w.Header().Get("Location"); got != tt.location {
			t.Errorf("%s %s: Location %q, want %q", tt.method, tt.path, got, tt.location)
		}
	}
}

func TestHandlerCustom404AndRange(t *testing.T) {
	fsys := fstest.MapFS{"404.html": {Data: []byte("gone")}, "big.txt": {Data: []byte("0123456789")}}
	h := Handler(fsys)
	if w := serve(h, "GET", "/nope"); w.Code != 404 || w.Body.String() != "gone" || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("custom 404 = %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
	r := httptest.NewRequest("GET", "/big.txt", nil)
	r.Header.Set("Range", "bytes=2-4")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusPartialContent || w.Body.String() != "234" {
		t.Errorf("range = %d %q", w.Code, w.Body.String())
	}
}

func TestStripPrefix(t *testing.T) {
	h := StripPrefix("/static", Handler(site))
	tests := []struct {
		path     string
		status   int
		body     string
		location string
	}{
		{"/static/style.css", 200, "body{}", ""},
		{"/static/", 200, "<h1>home</h1>", ""},
		{"/static", 301, "", "static/"},
		{"/static/docs", 301, "", "docs/"},
		{"/staticky/style.css", 404, "404 page not found\n", ""},
		{"/other/style.css", 404, "404 page not found\n", ""},
	}
	for _, tt := range tests {
		w := serve(h, "GET", tt.path)
		if w.Code != tt.status || w.Body.String() != tt.body || w.Header().Get("Location") != tt.location {
			t.Errorf("GET %s = %d %q (Location %q), want %d %q (%q)", tt.path, w.Code, w.Body.String(),
				w.Header().Get("Location"), tt.status, tt.body, tt.location)
		}
	}
	// A route of "/..." passes SCRIPT_NAME "" or "/": nothing to strip.
	for _, p := range []string{"", "/"} {
		if w := serve(StripPrefix(p, Handler(site)), "GET", "/style.css"); w.Code != 200 {
			t.Errorf("prefix %q: %d", p, w.Code)
		}
	}
}

// TestCGIRequest feeds the handler the request that net/http/cgi builds from
// a WAGI environment, as main does under Wisp: route "/static/...", files
// mounted from a real directory.
func TestCGIRequest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hi from disk"), 0o644)
	env := map[string]string{
		"REQUEST_METHOD":  "GET",
		"SERVER_PROTOCOL": "HTTP/1.1",
		"HTTP_HOST":       "127.0.0.1:3000",
		"SCRIPT_NAME":     "/static",
		"PATH_INFO":       "/hello.txt",
		"QUERY_STRING":    "v=1",
	}
	for _, withRequestURI := range []bool{false, true} {
		if withRequestURI {
			env["REQUEST_URI"] = "/static/hello.txt?v=1"
		}
		r, err := cgi.RequestFromMap(env)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		StripPrefix(env["SCRIPT_NAME"], Handler(os.DirFS(dir))).ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "hi from disk" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
			t.Errorf("REQUEST_URI=%v: %d %q %q", withRequestURI, w.Code, w.Body.String(), w.Header().Get("Content-Type"))
		}
	}
}
