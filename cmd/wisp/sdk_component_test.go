package main

// `wisp build --component`: a standard-Go module built with the Wisp Go
// SDK becomes a Component Model binary that runs under jco serve (an
// independent host) and under wisp up, answering the same.

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// componentize runs `wisp build --component` in app with the adapter from
// tools/jco when scripts/deps.sh installed it (else wisp fetches it with
// npm).
func componentize(t *testing.T, app string) {
	t.Helper()
	adapter := filepath.Join(repoRoot(t), "tools", "jco", "node_modules", "@bytecodealliance", "jco", "lib", "wasi_snapshot_preview1.reactor.wasm")
	if _, err := os.Stat(adapter); err == nil {
		t.Setenv("WISP_WASI_ADAPTER", adapter)
	} else {
		requireTool(t, "npm")
	}
	out, err := wisp(t, app, "build", "--component")
	if err != nil || !strings.Contains(out, "is now a component") {
		t.Fatalf("wisp build --component: %v\n%s", err, out)
	}
	wasm, err := os.ReadFile(filepath.Join(app, "main.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(wasm, []byte("\x00asm\x0d\x00\x01\x00")) {
		t.Fatal("main.wasm is not a component")
	}
	// A second run leaves the component alone.
	if out, err := wisp(t, app, "build", "--component"); err != nil || !strings.Contains(out, "already a component") {
		t.Fatalf("second wisp build --component: %v\n%s", err, out)
	}
}

func TestSDKComponentMatchesJco(t *testing.T) {
	requireTool(t, "node")
	app := sdkApp(t, "http-go-sdk")
	componentize(t, app)
	wispURL := up(t, app).URL
	jcoURL := jcoServe(t, filepath.Join(app, "main.wasm"))

	big := make([]byte, 1<<20)
	rand.Read(big)
	type request struct {
		method, path string
		body         []byte
	}
	for _, rq := range []request{
		{"GET", "/", nil},
		{"GET", "/nope", nil},
		{"PUT", "/echo?a=1&b=two", []byte("small body")},
		{"POST", "/echo", big},
		{"POST", "/echo", nil},
	} {
		t.Run(rq.method+" "+rq.path, func(t *testing.T) {
			// ASCII only: node, under jco, reads header bytes as Latin-1.
			h := map[string][]string{"X-Echo": {"hello-echo"}, "Content-Type": {"application/x-test"}}
			w := do(t, rq.method, wispURL+rq.path, bytes.NewReader(rq.body), h)
			j := do(t, rq.method, jcoURL+rq.path, bytes.NewReader(rq.body), h)
			if w.Status != j.Status || w.Body != j.Body {
				t.Errorf("wisp %d (%d bytes), jco %d (%d bytes)", w.Status, len(w.Body), j.Status, len(j.Body))
			}
			if rq.path != "/nope" && w.Status != 200 {
				t.Errorf("status %d: %q", w.Status, w.Body)
			}
			for _, k := range []string{"Content-Type", "X-Method", "X-Path", "X-Query", "X-Echo", "Content-Length"} {
				if w.Header.Get(k) != j.Header.Get(k) {
					t.Errorf("%s: wisp %q, jco %q", k, w.Header.Get(k), j.Header.Get(k))
				}
			}
			if strings.HasPrefix(rq.path, "/echo") && w.Body != string(rq.body) {
				t.Errorf("echo: %d bytes back of %d", len(w.Body), len(rq.body))
			}
		})
	}
}

// TestSDKComponentSpinAPIs: the componentized host-API example still
// reaches the Spin interfaces (key-value, variables) on Wisp.
func TestSDKComponentSpinAPIs(t *testing.T) {
	app := sdkApp(t, "go-sdk-apis")
	componentize(t, app)
	s := up(t, app, "--variable", "secret=x")
	if r := do(t, "PUT", s.URL+"/kv/k", strings.NewReader("v"), nil); r.Status != 200 {
		t.Fatalf("PUT /kv/k = %d %q\n%s", r.Status, r.Body, s.output())
	}
	if r := get(t, s.URL+"/kv/k"); r.Status != 200 || r.Body != "v" {
		t.Fatalf("GET /kv/k = %d %q", r.Status, r.Body)
	}
	if r := get(t, s.URL+"/variables/greeting"); r.Status != 200 || r.Body != "Hello from a variable" {
		t.Fatalf("variable = %d %q", r.Status, r.Body)
	}
}
