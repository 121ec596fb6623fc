package http

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// startServe runs s.Serve on a fresh local port and returns its base URL,
// the cancel function that starts the shutdown, and a channel that is
// closed when Serve returns (Serve's result is then in *result).
func startServe(t *testing.T, s *Server) (base string, cancel context.CancelFunc, done <-chan struct{}, result *error) {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	result = new(error)
	go func() {
		*result = s.Serve(ctx, ln)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return "http://" + ln.Addr().String(), cancel, finished, result
}

func newServer(t *testing.T, cfg Config, handlers map[string]Handler, triggers ...lockedapp.Trigger) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger, _ = testLogger()
	}
	s, err := New(testApp(triggers...), handlers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServeStartupLog(t *testing.T) {
	logger, logs := testLogger()
	ok := handlerFunc(func(http.ResponseWriter, *http.Request, *RequestInfo) {})
	s := newServer(t, Config{Logger: logger}, map[string]Handler{"hello": ok}, httpTrigger("hello", "/hello/..."))
	base, _, _, _ := startServe(t, s)
	get(t, base+"/.well-known/spin/health") // Serve has logged by now
	out := logs.String()
	if !strings.Contains(out, "level=INFO msg=\"Serving "+base+"\"") ||
		!strings.Contains(out, "hello: "+base+"/hello (wildcard)") {
		t.Errorf("startup log: %s", out)
	}
}

func TestServeHeaderLimit(t *testing.T) {
	ok := handlerFunc(func(w http.ResponseWriter, _ *http.Request, _ *RequestInfo) { io.WriteString(w, "ok") })
	s := newServer(t, Config{MaxHeaderBytes: 1024}, map[string]Handler{"a": ok}, httpTrigger("a", "/a"))
	base, _, _, _ := startServe(t, s)

	// net/http allows MaxHeaderBytes plus 4 KiB of slack for its buffer.
	resp, _ := do(t, "GET", base+"/a", nil, http.Header{"X-Big": {strings.Repeat("x", 8<<10)}})
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("big headers: %d", resp.StatusCode)
	}
	resp, body := do(t, "GET", base+"/a", nil, http.Header{"X-Small": {strings.Repeat("x", 512)}})
	if resp.StatusCode != 200 || body != "ok" {
		t.Errorf("small headers: %d %q", resp.StatusCode, body)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	slow := handlerFunc(func(w http.ResponseWriter, r *http.Request, _ *RequestInfo) {
		close(started)
		select {
		case <-release:
			io.WriteString(w, "done")
		case <-r.Context().Done():
			t.Error("in-flight request cancelled during drain")
		}
	})
	s := newServer(t, Config{ShutdownTimeout: 10 * time.Second}, map[string]Handler{"slow": slow}, httpTrigger("slow", "/slow"))
	base, cancel, done, serveErr := startServe(t, s)

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	cancel()

	// New connections are refused once the listener is closed.
	addr := strings.TrimPrefix(base, "http://")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatalf("Serve returned %v with a request in flight", *serveErr)
	default:
	}

	close(release)
	if r := <-got; r.err != nil || r.status != 200 || r.body != "done" {
		t.Errorf("in-flight request: %+v", r)
	}
	<-done
	if *serveErr != nil {
		t.Errorf("Serve: %v", *serveErr)
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	aborted := make(chan struct{})
	stuck := handlerFunc(func(w http.ResponseWriter, r *http.Request, _ *RequestInfo) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // only a forced close ends this
		close(aborted)
	})
	s := newServer(t, Config{ShutdownTimeout: 100 * time.Millisecond}, map[string]Handler{"stuck": stuck}, httpTrigger("stuck", "/stuck"))
	base, cancel, done, serveErr := startServe(t, s)
	resp, err := http.Get(base + "/stuck")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	select {
	case <-done:
		if err := *serveErr; err == nil || !strings.Contains(err.Error(), "aborted") {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not give up after ShutdownTimeout")
	}
	<-aborted
}

func TestListenFindFreePort(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	if _, err := Listen(addr, false); err == nil || !strings.Contains(err.Error(), "already in use") ||
		!strings.Contains(err.Error(), "--find-free-port") {
		t.Errorf("without find-free-port: %v", err)
	}
	ln, err := Listen(addr, true)
	if err != nil {
		// The next ports may be taken by someone else on a busy machine.
		t.Skipf("no free port after %d: %v", port, err)
	}
	defer ln.Close()
	got := ln.Addr().(*net.TCPAddr).Port
	if got <= port || got >= port+maxPortTries {
		t.Errorf("found port %d, want in (%d, %d)", got, port, port+maxPortTries)
	}
}

func TestListenFindFreePortGivesUp(t *testing.T) {
	if _, err := Listen("127.0.0.1:65535", true); err == nil || !strings.Contains(err.Error(), "maximum port number") {
		t.Errorf("port 65535: %v", err)
	}
	if _, err := Listen("nonsense", true); err == nil {
		t.Error("bad address: no error")
	}
}

// TestServeRawConnection checks the request path and client address seen
// through a real socket, where RequestURI carries the raw target.
func TestServeRawConnection(t *testing.T) {
	rec := &recordingHandler{}
	s := newServer(t, Config{}, map[string]Handler{"a": rec}, httpTrigger("a", "/a/:x/..."))
	base, _, _, _ := startServe(t, s)
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /a/%%2F/b%%20c/?q=%%20 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	info, _, _ := rec.last()
	if info.FullURL != "http://example.com:8080/a/%2F/b%20c/?q=%20" || info.PathInfo != "/b%20c/" ||
		len(info.Params) != 1 || info.Params[0].Value != "%2F" || info.ClientAddr != c.LocalAddr().String() {
		t.Errorf("info %+v", info)
	}
}
