package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/testguest"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	wasihttpexec "github.com/wisp-dev/wisp/internal/trigger/http/wasihttp"
	"github.com/wisp-dev/wisp/internal/wasi"
	"github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// goSDKSamples is how many fresh instances BenchmarkGoSDKHello measures.
const goSDKSamples = 300

// BenchmarkGoSDKHello reports the Wisp Go SDK's hello world
// (examples/http-go-sdk, standard Go, -buildmode=c-shared): the module's
// size, and the latency of a request in a fresh instance (instantiate,
// Go runtime and package initialisation, the handler, the response)
// through the wasi:http executor in-process, no network: p50 and p99 of
// goSDKSamples requests.
//
//	go test -run '^$' -bench GoSDKHello -benchtime 1x ./bench/
func BenchmarkGoSDKHello(b *testing.B) {
	wasmPath := buildGoSDKExample(b)
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		b.Fatal(err)
	}

	ctx := context.Background()
	host, err := component.NewHost(append(wasi.Interfaces(), wasihttp.Interfaces()...)...)
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)
	sink, err := logs.New(b.TempDir(), nil, logs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	sum := sha256.Sum256(wasm)
	app, err := executor.Load(ctx, eng, &lockedapp.LockedApp{Components: []lockedapp.Component{{
		ID:     "hello",
		Source: lockedapp.Source{Path: wasmPath, Digest: "sha256:" + hex.EncodeToString(sum[:])},
	}}}, sink, host)
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close(ctx)
	c := app.Component("hello")
	handler, err := wasihttpexec.New(c, c.Linked, wasihttpexec.Options{})
	if err != nil {
		b.Fatal(err)
	}
	info := &httptrigger.RequestInfo{
		ComponentID: "hello", FullURL: "http://localhost/", PathInfo: "/",
		MatchedRoute: "/...", RawComponentRoute: "/...", BasePath: "/", ClientAddr: "127.0.0.1:1",
	}
	serve := func() error {
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, httptest.NewRequest("GET", "/", nil), info)
		if w.Code != http.StatusOK || w.Body.String() != "Hello from the Wisp Go SDK\n" {
			return fmt.Errorf("got %d %q", w.Code, w.Body)
		}
		return nil
	}
	for range 5 { // warm: compilation cache, first instances
		if err := serve(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var samples []time.Duration
	for b.Loop() {
		samples = samples[:0]
		for range goSDKSamples {
			start := time.Now()
			if err := serve(); err != nil {
				b.Fatal(err)
			}
			samples = append(samples, time.Since(start))
		}
	}
	slices.Sort(samples)
	p50, p99 := samples[len(samples)/2], samples[len(samples)*99/100]
	b.ReportMetric(float64(len(wasm)), "module-bytes")
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	fmt.Printf("Go SDK hello world: module %d bytes (%.1f MiB); fresh-instance request p50 %v, p99 %v (%d samples)\n",
		len(wasm), float64(len(wasm))/(1<<20), p50, p99, len(samples))
}
