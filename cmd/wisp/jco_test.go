package main

// The independent check: the official Spin JS SDK component runs under
// `jco serve` (the Bytecode Alliance's JavaScript host) and under wisp up,
// and both must answer the same requests the same way.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testguest/jco"
)

// jsApp copies the Spin JS fixture app into a temp dir and returns it.
func jsApp(t *testing.T) (dir, wasm string) {
	t.Helper()
	src := testguest.Fixture(t, "spin-js-http")
	dir = t.TempDir()
	for _, f := range []string{"spin.toml", "spin-js-http.wasm"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f))
	}
	return dir, filepath.Join(dir, "spin-js-http.wasm")
}

// jcoServe starts jco serve on the same component.
func jcoServe(t *testing.T, wasm string) string {
	t.Helper()
	srv, err := jco.Serve(wasm, t.TempDir())
	if errors.Is(err, jco.ErrNotInstalled) && os.Getenv("CI") == "" {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv.URL
}

func TestJSComponentMatchesJco(t *testing.T) {
	requireTool(t, "node")
	dir, wasm := jsApp(t)
	wispURL := up(t, dir).URL
	jcoURL := jcoServe(t, wasm)

	type request struct {
		method, path, body string
	}
	// /status/204, /205 and /304 are left out: they kill jco serve (see the
	// fixture's README); TestJSComponent checks them against the README.
	requests := []request{
		{"GET", "/", ""},
		{"GET", "/echo?a=1&b=two&a=3", ""},
		{"POST", "/echo?x=y", "ping body"},
		{"POST", "/echo", strings.Repeat("0123456789", 10000)},
		{"GET", "/status/201", ""},
		{"GET", "/status/418", ""},
		{"GET", "/status/600", ""},
		{"GET", "/status/abc", ""},
		{"GET", "/stream", ""},
		{"GET", "/throw", ""},
		{"GET", "/missing", ""},
	}
	// Body-less statuses, which jco cannot serve: the guest never takes the
	// response body, and Wisp must still answer (fixture README).
	for _, code := range []string{"204", "205", "304"} {
		r := get(t, wispURL+"/status/"+code)
		if fmt.Sprint(r.Status) != code || r.Body != "" || r.Header.Get("X-Status") != code {
			t.Errorf("wisp GET /status/%s = %d %q %v", code, r.Status, r.Body, r.Header)
		}
	}
	for _, rq := range requests {
		t.Run(rq.method+" "+rq.path, func(t *testing.T) {
			header := http.Header{"User-Agent": {"curl/7.88.1"}, "X-Wisp-Test": {"yes"}}
			if rq.body != "" {
				header.Set("Content-Type", "text/plain")
			}
			w := do(t, rq.method, wispURL+rq.path, strings.NewReader(rq.body), header)
			j := do(t, rq.method, jcoURL+rq.path, strings.NewReader(rq.body), header)
			if w.Status != j.Status {
				t.Errorf("status: wisp %d, jco %d", w.Status, j.Status)
			}
			for _, h := range []string{"Content-Type", "X-Status", "X-Stream-Bytes"} {
				if w.Header.Get(h) != j.Header.Get(h) {
					t.Errorf("%s: wisp %q, jco %q", h, w.Header.Get(h), j.Header.Get(h))
				}
			}
			wb, jb := w.Body, j.Body
			if strings.HasPrefix(rq.path, "/echo") {
				// Wisp adds Spin's request metadata headers, which the guest
				// echoes; jco is not a Spin host. Compare the rest.
				wb, jb = withoutSpinHeaders(t, wb), withoutSpinHeaders(t, jb)
			}
			if wb != jb {
				t.Errorf("body differs:\nwisp %.300q\njco  %.300q", wb, jb)
			}
		})
	}
}

// withoutSpinHeaders drops the spin-* entries of the /echo JSON's headers.
func withoutSpinHeaders(t *testing.T, body string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("echo body is not JSON: %v: %q", err, body)
	}
	if h, ok := v["headers"].(map[string]any); ok {
		for k := range h {
			if strings.HasPrefix(k, "spin-") {
				delete(h, k)
			}
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
