package wasihttp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/outboundnet"
	fv "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/testguest"
	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/trigger/http/wasihttp"
	vars "github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/internal/wasi"
	host "github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// Status codes testdata/outbound.wat answers for a failed outbound request:
// 500 + the wasi:http error-code case.
const (
	statusIPProhibited  = 500 + 4
	statusRequestDenied = 500 + 15
)

// proxyApp serves testdata/outbound.wat as each of components (same wasm,
// different grants) with the outbound-networking factor configured from
// runtime config rc, as `wisp up` wires it. It returns a function that sends
// /<authority> to component id and returns the guest's status.
func proxyApp(t *testing.T, rc string, values map[string]string, components ...lockedapp.Component) func(id, authority string) int {
	t.Helper()
	ctx := context.Background()
	wasmPath := testguest.WAT(t, "testdata/outbound.wat")
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(wasm)
	for i := range components {
		components[i].Source = lockedapp.Source{Path: wasmPath, Digest: "sha256:" + hex.EncodeToString(sum[:])}
	}
	app := factortest.NewApp(components...)
	app.Variables = map[string]lockedapp.Variable{"backend": {Default: new(string)}}

	set, err := factor.NewSet(fv.New([]vars.Provider{vars.Static(values)}), outboundnet.New())
	if err != nil {
		t.Fatal(err)
	}
	fapp, err := set.ConfigureApp(ctx, factortest.NewAppContext(t, app, rc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fapp.Close() })

	h, err := component.NewHost(append(append(wasi.Interfaces(), host.Interfaces()...), set.Interfaces()...)...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	loaded, err := executor.Load(ctx, eng, app, nil, h, executor.WithPrepare(fapp.Prepare))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loaded.Close(ctx) })

	return func(id, authority string) int {
		t.Helper()
		c := loaded.Component(id)
		handler, err := wasihttp.New(c, c.Linked, wasihttp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/"+authority, nil)
		handler.ServeHTTP(rec, req, &trigger.RequestInfo{ComponentID: id, BasePath: "/", ClientAddr: "127.0.0.1:1"})
		return rec.Code
	}
}

func TestGuestOutboundPolicy(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	send := proxyApp(t, "", map[string]string{"backend": u.Host},
		lockedapp.Component{ID: "none"},
		lockedapp.Component{ID: "templated", AllowedOutboundHosts: []string{"http://{{ backend }}"}},
	)
	if got := send("none", u.Host); got != statusRequestDenied {
		t.Errorf("component without grant: status %d, want %d (HTTP-request-denied)", got, statusRequestDenied)
	}
	if got := send("templated", u.Host); got != http.StatusAccepted {
		t.Errorf("templated grant: status %d, want %d", got, http.StatusAccepted)
	}
	if got := send("templated", "localhost:"+u.Port()); got != statusRequestDenied {
		t.Errorf("host outside the rendered grant: status %d, want %d", got, statusRequestDenied)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestGuestOutboundBlockPrivate(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	send := proxyApp(t, "[outbound_networking]\nblock_networks = [\"private\"]\n", nil,
		lockedapp.Component{ID: "web", AllowedOutboundHosts: []string{"http://localhost:*", "http://127.0.0.1:*"}},
	)
	// Allowed by allowed_outbound_hosts, but "localhost" resolves to a
	// loopback address, which "private" blocks.
	for _, authority := range []string{"localhost:" + u.Port(), u.Host} {
		if got := send("web", authority); got != statusIPProhibited {
			t.Errorf("%s: status %d, want %d (destination-IP-prohibited)", authority, got, statusIPProhibited)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}
