package main

// wisp server against an app flooding the network with outbound requests:
// the app's outbound connections stay within its limit
// (serverMaxOutboundConnections, [outbound_networking]
// max_total_connections), and another tenant's app keeps answering.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/platform"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// connCounter is a loopback HTTP server that counts the connections it has
// open at once. Keep-alives are off, so each connection carries one
// request, and a connection is counted closed when its handler is done,
// before the response is written: the count never lags behind a
// connection the client has closed (and so behind the client's slot).
type connCounter struct {
	srv *httptest.Server

	mu       sync.Mutex
	open     map[net.Conn]bool
	max      int
	accepted int
}

type connCtxKey struct{}

func newConnCounter(t *testing.T, hold time.Duration) *connCounter {
	t.Helper()
	cc := &connCounter{open: map[net.Conn]bool{}}
	cc.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(hold) // a slow third party: connections pile up
		cc.done(r.Context().Value(connCtxKey{}).(net.Conn))
		io.WriteString(w, "upstream ok")
	}))
	cc.srv.Config.SetKeepAlivesEnabled(false)
	cc.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connCtxKey{}, c)
	}
	cc.srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.mu.Lock()
			cc.open[c] = true
			cc.accepted++
			cc.max = max(cc.max, len(cc.open))
			cc.mu.Unlock()
		case http.StateClosed, http.StateHijacked:
			cc.done(c)
		}
	}
	cc.srv.Start()
	t.Cleanup(cc.srv.Close)
	return cc
}

func (cc *connCounter) done(c net.Conn) {
	cc.mu.Lock()
	delete(cc.open, c)
	cc.mu.Unlock()
}

// reset starts a new measurement.
func (cc *connCounter) reset() {
	cc.mu.Lock()
	cc.max, cc.accepted = len(cc.open), 0
	cc.mu.Unlock()
}

func (cc *connCounter) stats() (maxOpen, accepted int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.max, cc.accepted
}

// floodApp is a wasi:http app whose request for /<authority> makes GET
// http://<authority>/ and answers with the upstream status.
func floodApp(t *testing.T) string {
	t.Helper()
	dir := writeAppFiles(t, `spin_manifest_version = 2
[application]
name = "flood"
[[trigger.http]]
route = "/..."
component = "flood"
[component.flood]
source = "outbound.wasm"
allowed_outbound_hosts = ["http://127.0.0.1:*"]
`, nil)
	copyFile(t, testguest.WAT(t, filepath.Join("..", "..", "internal", "trigger", "http", "wasihttp", "testdata", "outbound.wat")), filepath.Join(dir, "outbound.wasm"))
	return dir
}

// appGet requests path from app over the node's app listener; unlike
// testNode.get it returns errors, for use off the test goroutine.
func appGet(n *testNode, app, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, n.apps.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = app + "." + testDomain
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// flood sends total requests to app from clients concurrent clients and
// counts the answers by status (-1: transport error).
func flood(n *testNode, app, path string, clients, total int) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(total) {
				status, _, err := appGet(n, app, path)
				if err != nil {
					status = -1
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

func TestServerOutboundFlood(t *testing.T) {
	requireTool(t, "wat2wasm")
	const (
		limit   = 4
		clients = 32 // below the per-app concurrency quota (64): none is turned away
		total   = 320
		hold    = 30 * time.Millisecond
	)
	defer func(old int) { serverMaxOutboundConnections = old }(serverMaxOutboundConnections)
	serverMaxOutboundConnections = limit

	upstream := newConnCounter(t, hold)
	n := startNode(t, t.TempDir(), func(cfg *platform.Config) {
		// The node blocks loopback and private networks for tenants by
		// default; this one allows them (wisp server
		// --allow-private-outbound) so that the flood reaches the test's
		// server. A long request timeout: flood requests wait for a
		// connection slot rather than fail.
		rt, err := newServerRuntime(context.Background(), cfg.Logger, 60*time.Second, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rt.Close(context.Background()) })
		cfg.Runtime = rt
	})
	mallory, _ := n.tenant("mallory", platformapi.Quotas{})
	alice, _ := n.tenant("alice", platformapi.Quotas{})
	mustDeploy(t, mallory, "flood", floodApp(t), nil, platformapi.DeployOptions{})
	mustDeploy(t, alice, "hello", wagiApp(t, "hello", "", nil), nil, platformapi.DeployOptions{})
	path := "/" + strings.TrimPrefix(upstream.srv.URL, "http://")
	if r := n.get("flood", path); r.Status != 200 {
		t.Fatalf("flood app, one request: %d %q", r.Status, r.Body)
	}
	if r := n.get("hello", "/"); r.Status != 200 || r.Body != "hello from wagi\n" {
		t.Fatalf("hello: %d %q", r.Status, r.Body)
	}

	// Alice's app is asked again and again while mallory's floods.
	upstream.reset()
	stop := make(chan struct{})
	var helloOK, helloBad atomic.Int64
	var helloErr atomic.Value
	var bystander sync.WaitGroup
	bystander.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			status, body, err := appGet(n, "hello", "/")
			if err != nil || status != 200 || body != "hello from wagi\n" {
				helloBad.Add(1)
				helloErr.Store(fmt.Sprintf("%d %q %v", status, body, err))
				continue
			}
			helloOK.Add(1)
		}
	})
	start := time.Now()
	statuses := flood(n, "flood", path, clients, total)
	took := time.Since(start)
	close(stop)
	bystander.Wait()
	maxOpen, accepted := upstream.stats()
	t.Logf("flood of %d requests from %d clients in %v: statuses %v; upstream saw %d connections, at most %d at once (limit %d); hello answered %d times meanwhile",
		total, clients, took, statuses, accepted, maxOpen, limit, helloOK.Load())

	if maxOpen > limit {
		t.Errorf("the upstream saw %d connections open at once from one app, limit %d", maxOpen, limit)
	}
	// Waiting dials proceed as connections close: every request is served.
	if statuses[200] != total || accepted != total {
		t.Errorf("flood: statuses %v and %d upstream connections, want %d answered 200", statuses, accepted, total)
	}
	if bad := helloBad.Load(); bad != 0 {
		t.Errorf("alice's app failed %d times during the flood, last: %v", bad, helloErr.Load())
	}
	if helloOK.Load() == 0 {
		t.Error("alice's app never answered during the flood")
	}

	// Control: the same flood from an app loaded without a limit opens
	// more connections at once, so the bound above is the limit's doing.
	serverMaxOutboundConnections = 0
	mustDeploy(t, mallory, "flood-unlimited", floodApp(t), nil, platformapi.DeployOptions{})
	upstream.reset()
	statuses = flood(n, "flood-unlimited", path, clients, clients*2)
	maxOpen, _ = upstream.stats()
	t.Logf("without a limit: statuses %v; at most %d upstream connections at once", statuses, maxOpen)
	if maxOpen <= limit {
		t.Errorf("without a limit the flood opened at most %d connections at once: the test does not exercise the limit of %d", maxOpen, limit)
	}
}
