package wasihttp_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
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

// jsApp serves the Spin JS SDK fixture on a loopback server, routed at
// "/..." like its spin.toml.
func jsApp(t *testing.T) (url string, logDir string) {
	t.Helper()
	fixture := testguest.Fixture(t, "spin-js-http/spin-js-http.wasm")
	wasm, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
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
	comp, err := component.Load(ctx, eng, wasm, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { comp.Close(ctx) })

	logDir = t.TempDir()
	sink, err := logs.New(logDir, nil, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	sum := sha256.Sum256(wasm)
	app, err := executor.Load(ctx, eng, &lockedapp.LockedApp{Components: []lockedapp.Component{{
		ID:     "spin-js-http",
		Source: lockedapp.Source{Path: fixture, Digest: "sha256:" + hex.EncodeToString(sum[:])},
	}}}, sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := wasihttp.New(app.Component("spin-js-http"), comp, wasihttp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		handler.ServeHTTP(w, r.WithContext(ctx), &trigger.RequestInfo{
			ComponentID:       "spin-js-http",
			FullURL:           "http://" + r.Host + r.RequestURI,
			PathInfo:          r.URL.EscapedPath(),
			MatchedRoute:      "/...",
			RawComponentRoute: "/...",
			ComponentRoute:    "",
			BasePath:          "/",
			ClientAddr:        r.RemoteAddr,
		})
	}))
	// net/http reports misuse of a connection (such as a request body
	// still being read after the handler returned) in its error log only.
	serverLog := &syncBuffer{}
	srv.Config.ErrorLog = log.New(serverLog, "", 0)
	srv.Start()
	t.Cleanup(func() {
		if s := serverLog.String(); strings.Contains(s, "panic") {
			t.Errorf("net/http server log:\n%s", s)
		}
	})
	t.Cleanup(srv.Close)
	return srv.URL, logDir
}

type result struct {
	status int
	header http.Header
	body   []byte
	length int64
}

func do(t *testing.T, method, url string, body []byte, header ...string) result {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "curl/7.88.1")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return result{resp.StatusCode, resp.Header, b, resp.ContentLength}
}

// TestSpinJSComponent checks every row of the fixture README's route table.
func TestSpinJSComponent(t *testing.T) {
	base, logDir := jsApp(t)

	t.Run("root", func(t *testing.T) {
		r := do(t, "GET", base+"/", nil)
		if r.status != 200 || string(r.body) != "hello from js" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("got %d %v %q", r.status, r.header, r.body)
		}
	})

	echo := func(t *testing.T, r result) map[string]any {
		t.Helper()
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("got %d %v %q", r.status, r.header, r.body)
		}
		var m map[string]any
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Fatalf("%v: %q", err, r.body)
		}
		return m
	}
	t.Run("echo GET", func(t *testing.T) {
		m := echo(t, do(t, "GET", base+"/echo?a=1&b=two&a=3", nil, "x-wisp-test", "yes"))
		want := `{"a":["1","3"],"b":"two"}`
		params, _ := json.Marshal(m["params"])
		if m["method"] != "GET" || m["path"] != "/echo" || m["query"] != "a=1&b=two&a=3" || string(params) != want ||
			m["bodyBytes"] != 0.0 || m["body"] != "" {
			t.Errorf("echo = %v", m)
		}
		h := m["headers"].(map[string]any)
		if h["user-agent"] != "curl/7.88.1" || h["x-wisp-test"] != "yes" {
			t.Errorf("headers = %v", h)
		}
		// Spin's metadata headers reach the guest.
		if !strings.HasSuffix(h["spin-full-url"].(string), "/echo?a=1&b=two&a=3") || h["spin-path-info"] != "/echo" ||
			h["spin-matched-route"] != "/..." || h["spin-raw-component-route"] != "/..." || h["spin-base-path"] != "/" ||
			!strings.HasPrefix(h["spin-client-addr"].(string), "127.0.0.1:") {
			t.Errorf("spin headers = %v", h)
		}
	})
	t.Run("echo POST", func(t *testing.T) {
		m := echo(t, do(t, "POST", base+"/echo?x=y", []byte("ping body"), "Content-Type", "text/plain"))
		h := m["headers"].(map[string]any)
		if m["method"] != "POST" || m["query"] != "x=y" || m["bodyBytes"] != 9.0 || m["body"] != "ping body" ||
			h["content-type"] != "text/plain" || h["content-length"] != "9" {
			t.Errorf("echo = %v", m)
		}
	})
	t.Run("echo 100000", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789"), 10000)
		m := echo(t, do(t, "POST", base+"/echo", big))
		if m["bodyBytes"] != 100000.0 || m["body"] != string(big) {
			t.Errorf("bodyBytes = %v", m["bodyBytes"])
		}
	})
	for _, code := range []string{"200", "201", "404", "418", "500", "599"} {
		t.Run("status "+code, func(t *testing.T) {
			r := do(t, "GET", base+"/status/"+code, nil)
			if got := r.status; got != atoi(code) || string(r.body) != "status "+code+"\n" || r.header.Get("X-Status") != code ||
				r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("got %d %v %q", r.status, r.header, r.body)
			}
		})
	}
	for _, code := range []string{"204", "205", "304"} {
		t.Run("status "+code+" without body", func(t *testing.T) {
			r := do(t, "GET", base+"/status/"+code, nil)
			if r.status != atoi(code) || len(r.body) != 0 || r.header.Get("X-Status") != code {
				t.Errorf("got %d %v %q", r.status, r.header, r.body)
			}
		})
	}
	for _, bad := range []string{"600", "199", "abc"} {
		t.Run("bad status "+bad, func(t *testing.T) {
			r := do(t, "GET", base+"/status/"+bad, nil)
			if r.status != 400 || string(r.body) != "bad status code: "+bad+"\n" {
				t.Errorf("got %d %q", r.status, r.body)
			}
		})
	}
	t.Run("stream", func(t *testing.T) {
		r := do(t, "GET", base+"/stream", nil)
		sum := sha256.Sum256(r.body)
		if r.status != 200 || len(r.body) != 65536 || r.header.Get("X-Stream-Bytes") != "65536" || r.length != -1 ||
			hex.EncodeToString(sum[:]) != "4a168384c9ea911e0c9e008ce3a77c60939e049b15a27bb2856d861e1aa480f0" {
			t.Errorf("got %d %v, %d bytes, content-length %d", r.status, r.header, len(r.body), r.length)
		}
	})
	t.Run("throw", func(t *testing.T) {
		r := do(t, "GET", base+"/throw", nil)
		if r.status != 500 || len(r.body) != 0 {
			b, _ := os.ReadFile(filepath.Join(logDir, "spin-js-http_stderr.txt"))
			t.Errorf("got %d %q; component log:\n%s", r.status, r.body, b)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, _ := os.ReadFile(filepath.Join(logDir, "spin-js-http_stderr.txt"))
			if strings.Contains(string(b), "deliberate failure on /throw") {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("guest stderr not in the log: %q", b)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	t.Run("missing", func(t *testing.T) {
		r := do(t, "GET", base+"/missing", nil)
		if r.status != 404 || string(r.body) != "not found: /missing\n" {
			t.Errorf("got %d %q", r.status, r.body)
		}
	})
	t.Run("fresh instance per request", func(t *testing.T) {
		done := make(chan int, 6)
		for i := 0; i < 6; i++ {
			go func() {
				resp, err := http.Get(base + "/echo")
				if err != nil {
					done <- 0
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- resp.StatusCode
			}()
		}
		for i := 0; i < 6; i++ {
			if status := <-done; status != 200 {
				t.Errorf("parallel request: %d", status)
			}
		}
	})
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestUnreadBodyKeepsConnection sends small bodies the guest never reads
// over one keep-alive connection: every request must be answered and the
// connection must stay usable (see Handler.stopBody).
func TestUnreadBodyKeepsConnection(t *testing.T) {
	base, _ := jsApp(t)
	for i := 0; i < 5; i++ {
		r := do(t, "POST", base+"/", []byte("ignored body"))
		if r.status != 200 || string(r.body) != "hello from js" {
			t.Fatalf("request %d: %d %q", i, r.status, r.body)
		}
	}
}
