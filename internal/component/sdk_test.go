package component_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/testguest"
	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/trigger/http/wasihttp"
	"github.com/wisp-dev/wisp/internal/wasi"
	host "github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// buildGoSDKGuest builds a main package of the repository (its own go.mod,
// "examples/http-go-sdk" or "sdk/go/internal/testapp") as a standard-Go
// reactor.
func buildGoSDKGuest(t testing.TB, rel string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(testguest.Dir(t), "..", "..", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "main.wasm")
	testguest.GoReactor(t, dir, out)
	return out
}

// goSDKServer serves the example through the wasi:http executor, linked
// by executor.Load the way wisp up does (a core module exporting
// "<interface>#<func>" goes through component.LoadCore).
func goSDKServer(t testing.TB, guest string, env map[string]string) (url, logDir string) {
	t.Helper()
	h, logDir := goSDKHandler(t, guest, env)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, logDir
}

func goSDKHandler(t testing.TB, guest string, env map[string]string) (_ http.Handler, logDir string) {
	t.Helper()
	wasmPath := buildGoSDKGuest(t, guest)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("module size: %d bytes", len(wasm))
	ctx := context.Background()
	h, err := component.NewHost(append(wasi.Interfaces(), host.Interfaces()...)...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })

	// LoadCore directly first: its errors name the import that does not
	// match its WIT signature.
	comp, err := component.LoadCore(ctx, eng, wasm, h)
	if err != nil {
		t.Fatal(err)
	}
	comp.Close(ctx)

	logDir = t.TempDir()
	sink, err := logs.New(logDir, nil, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sink.Close()
		if t.Failed() {
			files, _ := filepath.Glob(filepath.Join(logDir, "*"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", filepath.Base(f), b)
			}
		}
	})
	sum := sha256.Sum256(wasm)
	app, err := executor.Load(ctx, eng, &lockedapp.LockedApp{Components: []lockedapp.Component{{
		ID:          "http-go-sdk",
		Source:      lockedapp.Source{Path: wasmPath, Digest: "sha256:" + hex.EncodeToString(sum[:])},
		Environment: env,
	}}}, sink, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(ctx) })
	c := app.Component("http-go-sdk")
	if c.Linked == nil {
		t.Fatal("executor did not link the SDK module as a canonical-ABI core module")
	}
	handler, err := wasihttp.New(c, c.Linked, wasihttp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		handler.ServeHTTP(w, r.WithContext(ctx), &trigger.RequestInfo{
			ComponentID:       "http-go-sdk",
			FullURL:           "http://" + r.Host + r.RequestURI,
			PathInfo:          r.URL.EscapedPath(),
			MatchedRoute:      "/...",
			RawComponentRoute: "/...",
			BasePath:          "/",
			ClientAddr:        r.RemoteAddr,
		})
	}), logDir
}

type sdkResult struct {
	status int
	header http.Header
	body   []byte
}

func sdkDo(client *http.Client, method, url string, body []byte, header ...string) (sdkResult, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return sdkResult{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return sdkResult{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return sdkResult{}, fmt.Errorf("%s %s: reading body: %w", method, url, err)
	}
	return sdkResult{resp.StatusCode, resp.Header, b}, nil
}

func checkHello(r sdkResult) error {
	if r.status != 200 || string(r.body) != "Hello from the Wisp Go SDK\n" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		return fmt.Errorf("GET /: %d %v %q", r.status, r.header, r.body)
	}
	return nil
}

// TestGoSDK runs the Go SDK example, a standard-Go reactor speaking the
// canonical ABI, end to end through the wasi:http executor.
func TestGoSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a standard-Go module")
	}
	base, _ := goSDKServer(t, "examples/http-go-sdk", nil)
	client := &http.Client{Timeout: 60 * time.Second}

	t.Run("hello", func(t *testing.T) {
		r, err := sdkDo(client, "GET", base+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkHello(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		r, err := sdkDo(client, "GET", base+"/nope", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 404 {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	})
	t.Run("echo 1MiB", func(t *testing.T) {
		body := make([]byte, 1<<20)
		rand.Read(body)
		r, err := sdkDo(client, "PUT", base+"/echo?a=1&b=two", body, "X-Echo", "héllo, wörld", "Content-Type", "application/x-test")
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 {
			t.Fatalf("status %d: %q", r.status, r.body)
		}
		if !bytes.Equal(r.body, body) {
			t.Fatalf("body: got %d bytes, want the %d sent", len(r.body), len(body))
		}
		for k, want := range map[string]string{
			"X-Method": "PUT", "X-Path": "/echo", "X-Query": "a=1&b=two",
			"X-Echo": "héllo, wörld", "Content-Type": "application/octet-stream",
			"Content-Length": fmt.Sprint(len(body)),
		} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})
	t.Run("many headers", func(t *testing.T) {
		// ~300 KiB of header entries: more than the SDK's static arena, so
		// the host's cabi_realloc calls take the heap-overflow path.
		const n = 300
		hdr := []string{"X-Echo", "many"}
		value := string(bytes.Repeat([]byte("v"), 1000))
		for i := range n {
			hdr = append(hdr, fmt.Sprintf("X-H-%03d", i), value)
		}
		r, err := sdkDo(client, "GET", base+"/echo", nil, hdr...)
		if err != nil {
			t.Fatal(err)
		}
		var count int
		fmt.Sscan(r.header.Get("X-Header-Count"), &count)
		if r.status != 200 || r.header.Get("X-Echo") != "many" || count < n {
			t.Fatalf("got %d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("echo empty POST", func(t *testing.T) {
		r, err := sdkDo(client, "POST", base+"/echo", []byte{})
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || len(r.body) != 0 || r.header.Get("X-Method") != "POST" {
			t.Fatalf("got %d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("sequential", func(t *testing.T) {
		const n = 200
		start := time.Now()
		for i := range n {
			r, err := sdkDo(client, "GET", base+"/", nil)
			if err == nil {
				err = checkHello(r)
			}
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		t.Logf("%d sequential requests: %v per request", n, time.Since(start)/n)
	})
	t.Run("concurrent", func(t *testing.T) {
		const clients, each = 8, 25
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, clients*each)
		for c := range clients {
			wg.Go(func() {
				for i := range each {
					body := fmt.Appendf(nil, "client %d request %d", c, i)
					r, err := sdkDo(client, "POST", base+"/echo", body, "X-Echo", fmt.Sprint(c))
					if err == nil && (r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Echo") != fmt.Sprint(c)) {
						err = fmt.Errorf("got %d %v %q", r.status, r.header, r.body)
					}
					if err != nil {
						errs <- fmt.Errorf("client %d request %d: %w", c, i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		t.Logf("%d×%d concurrent requests in %v", clients, each, time.Since(start))
	})
}

// TestGoSDKUnderGCPressure runs the guest with GOGC=1, so its garbage
// collector runs constantly, including inside the cabi_realloc calls the
// host makes while an import runs: memory the host writes must survive.
func TestGoSDKUnderGCPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a standard-Go module")
	}
	base, _ := goSDKServer(t, "examples/http-go-sdk", map[string]string{"GOGC": "1"})
	client := &http.Client{Timeout: 60 * time.Second}
	hdr := []string{"X-Echo", "gc"}
	value := string(bytes.Repeat([]byte("w"), 2000))
	for i := range 200 {
		hdr = append(hdr, fmt.Sprintf("X-G-%03d", i), fmt.Sprint(i, value))
	}
	for i := range 5 {
		body := make([]byte, 1<<20+i)
		rand.Read(body)
		r, err := sdkDo(client, "POST", base+"/echo", body, hdr...)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || !bytes.Equal(r.body, body) || r.header.Get("X-Echo") != "gc" {
			t.Fatalf("request %d: got %d %v, %d bytes", i, r.status, r.header, len(r.body))
		}
	}
}

// TestGoSDKEdges runs the SDK's own test guest: environment, logging,
// panics, status codes, large streamed responses, request fields.
func TestGoSDKEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a standard-Go module")
	}
	base, logDir := goSDKServer(t, "sdk/go/internal/testapp", map[string]string{"GREETING": "hi there"})
	client := &http.Client{Timeout: 60 * time.Second}
	get := func(t *testing.T, path string) sdkResult {
		t.Helper()
		r, err := sdkDo(client, "GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("env", func(t *testing.T) {
		if r := get(t, "/env"); r.status != 200 || string(r.body) != "hi there" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	})
	t.Run("log", func(t *testing.T) {
		if r := get(t, "/log"); r.status != 200 {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		b, _ := os.ReadFile(filepath.Join(logDir, "http-go-sdk_stderr.txt"))
		if !bytes.Contains(b, []byte("logged from the guest")) {
			t.Fatalf("stderr log lacks the guest's line: %q", b)
		}
	})
	t.Run("stdio", func(t *testing.T) {
		if r := get(t, "/stdio"); r.status != 200 || string(r.body) != "true" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		out, _ := os.ReadFile(filepath.Join(logDir, "http-go-sdk_stdout.txt"))
		errb, _ := os.ReadFile(filepath.Join(logDir, "http-go-sdk_stderr.txt"))
		if !bytes.Contains(out, []byte("printed to stdout")) || !bytes.Contains(errb, []byte("printed to stderr")) {
			t.Fatalf("guest stdio not in the logs: stdout %q, stderr %q", out, errb)
		}
	})
	t.Run("panic", func(t *testing.T) {
		if r := get(t, "/panic"); r.status != 500 {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	})
	t.Run("panic after write", func(t *testing.T) {
		r, err := sdkDo(client, "GET", base+"/panic-after-write", nil)
		if err == nil {
			t.Fatalf("a response the guest abandoned arrived whole: %d %q", r.status, r.body)
		}
	})
	t.Run("status", func(t *testing.T) {
		if r := get(t, "/status?code=418"); r.status != 418 || string(r.body) != "status body" {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		if r := get(t, "/status?code=204"); r.status != 204 || len(r.body) != 0 {
			t.Fatalf("got %d %q", r.status, r.body)
		}
	})
	t.Run("big", func(t *testing.T) {
		const n = 5<<20 + 7
		r := get(t, fmt.Sprintf("/big?n=%d", n))
		if r.status != 200 || len(r.body) != n || !bytes.HasPrefix(r.body, []byte("0123456789abcdef0123")) {
			t.Fatalf("got %d, %d bytes", r.status, len(r.body))
		}
	})
	t.Run("request", func(t *testing.T) {
		r, err := sdkDo(client, "PATCH", base+"/request?x=1&y=%20", []byte("abc"))
		if err != nil {
			t.Fatal(err)
		}
		host := strings.TrimPrefix(base, "http://")
		want := fmt.Sprintf("PATCH http://%s/request?x=1&y=%%20 %s /request?x=1&y=%%20 3 127.0.0.1:", host, host)
		if r.status != 200 || !strings.HasPrefix(string(r.body), want) {
			t.Fatalf("got %d %q, want prefix %q", r.status, r.body, want)
		}
	})
}

// BenchmarkGoSDKHello is the whole request path for a standard-Go reactor:
// fresh instance, Go runtime and package initialisation, the handler,
// the response.
func BenchmarkGoSDKHello(b *testing.B) {
	h, _ := goSDKHandler(b, "examples/http-go-sdk", nil)
	req := httptest.NewRequest("GET", "/", nil)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 || w.Body.String() != "Hello from the Wisp Go SDK\n" {
			b.Fatalf("got %d %q", w.Code, w.Body)
		}
	}
}
