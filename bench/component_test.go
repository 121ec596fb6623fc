package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testguest/jco"
	"github.com/wisp-dev/wisp/internal/testguest/wasmtools"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	wasihttpexec "github.com/wisp-dev/wisp/internal/trigger/http/wasihttp"
	"github.com/wisp-dev/wisp/internal/wasi"
	"github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// helloBody is what testdata/guests/wasihttp/hello.wat answers.
const helloBody = "hello from a wasi:http component\n"

// JS rows (the Spin JS SDK component under Wisp and under jco) take a fixed
// number of requests, not b.N: a request costs milliseconds to tens of
// milliseconds there, so letting the benchmark framework grow b.N towards
// -benchtime would re-run the row several times for minutes, and jco's
// throughput does not depend on it anyway. A fixed count also gives every
// run the same number of samples behind p99. jsBudget bounds a row in time
// whatever the count (the row then reports the requests it made).
//
// The fast rows (native, the WAT component) follow b.N but send at least
// fastMinRequests, so that the quick `-benchtime 1x` run still gives them
// a meaningful p50/p99; ns/op of such a run is then the whole batch's time.
const (
	jsRequests      = 200
	jsBudget        = 30 * time.Second
	fastMinRequests = 1000
)

// jsRequestCount is jsRequests, or BENCH_JS_REQUESTS.
func jsRequestCount() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_JS_REQUESTS")); err == nil && n > 0 {
		return n
	}
	return jsRequests
}

// helloComponent builds the tiny wasi:http component from
// testdata/guests/wasihttp (world.wit + hello.wat) and returns its path.
func helloComponent(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(testguest.Dir(tb), "wasihttp")
	witText, err := os.ReadFile(filepath.Join(dir, "world.wit"))
	if err != nil {
		tb.Fatal(err)
	}
	wat, err := os.ReadFile(filepath.Join(dir, "hello.wat"))
	if err != nil {
		tb.Fatal(err)
	}
	return wasmtools.Component(tb, string(witText), "hello", string(wat))
}

// newEngine is the engine `wisp up` builds, with the shared compilation cache.
func newEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close(ctx) })
	return eng
}

// loadComponent loads wasmPath as the single component "hello" of an app
// routed at "/...", linked against the host `wisp up` builds (cmd/wisp
// newHost).
func loadComponent(tb testing.TB, eng *engine.Engine, wasmPath string) (*lockedapp.LockedApp, *executor.App) {
	tb.Helper()
	app := &lockedapp.LockedApp{
		Version:  lockedapp.Version,
		Metadata: lockedapp.Metadata{Name: "bench"},
		Triggers: []lockedapp.Trigger{{
			ID: "hello-trigger", Type: "http", Component: "hello",
			HTTP: &lockedapp.HTTPTrigger{Route: "/...", Executor: lockedapp.Executor{Type: "spin"}},
		}},
		Components: []lockedapp.Component{{ID: "hello", Source: lockedapp.Source{Path: wasmPath, Digest: digest(tb, wasmPath)}}},
	}
	host, err := component.NewHost(append(wasi.Interfaces(), wasihttp.Interfaces()...)...)
	if err != nil {
		tb.Fatal(err)
	}
	loaded, err := executor.Load(context.Background(), eng, app, nil, host)
	if err != nil {
		tb.Fatal(err)
	}
	if loaded.Component("hello").Linked == nil {
		loaded.Close(context.Background())
		tb.Fatalf("%s: not linked as a component", wasmPath)
	}
	return app, loaded
}

// serveComponent serves wasmPath at "/..." through the same HTTP trigger
// and wasi:http executor as `wisp up`: a fresh instance per request.
func serveComponent(tb testing.TB, eng *engine.Engine, wasmPath string) (string, func()) {
	tb.Helper()
	app, loaded := loadComponent(tb, eng, wasmPath)
	c := loaded.Component("hello")
	h, err := wasihttpexec.New(c, c.Linked, wasihttpexec.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := httptrigger.New(app, map[string]httptrigger.Handler{"hello": h}, httptrigger.Config{
		Logger: discardLogger(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	url, stop := serveTrigger(tb, srv)
	return url, func() { stop(); loaded.Close(context.Background()) }
}

// TestWASIHTTPHello checks the tiny WAT component end to end: built with
// wasm-tools, linked against Wisp's host, served by the trigger.
func TestWASIHTTPHello(t *testing.T) {
	url, stop := serveComponent(t, newEngine(t), helloComponent(t))
	defer stop()
	for range 3 { // a fresh instance each time
		resp, err := http.Get(url + "some/path")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || string(body) != helloBody {
			t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, body, helloBody)
		}
	}
}

// BenchmarkComponentHTTP serves hello-world responses from native Go
// net/http (the baseline), the tiny WAT wasi:http component and the Spin JS
// SDK component through the same trigger and wasi:http executor as `wisp
// up`, and the same JS component under `jco serve --isolate-requests
// instance` (the Bytecode Alliance's JavaScript host, also an instance per
// request). It prints one table with ratios against the baseline and, for
// the JS rows, Wisp against jco.
func BenchmarkComponentHTTP(b *testing.B) {
	eng := newEngine(b)
	hello := helloComponent(b)
	jsWasm := testguest.Fixture(b, "spin-js-http/spin-js-http.wasm")

	var results []result
	// Rows driven by b.N (at least fastMinRequests), as sub-benchmarks.
	for _, tg := range []struct {
		name  string
		serve func() (string, func())
	}{
		{"native-go-net/http", func() (string, func()) { return serveNative(b) }},
		{"wisp-wasihttp-wat-hello", func() (string, func()) { return serveComponent(b, eng, hello) }},
	} {
		url, stop := tg.serve()
		var last result
		b.Run(tg.name, func(b *testing.B) {
			last = hammer(b, url, max(b.N, fastMinRequests), concurrency())
			last.name = tg.name
			b.ReportMetric(float64(last.p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(last.p99.Microseconds()), "p99-µs")
			b.ReportMetric(last.rps, "req/s")
		})
		stop()
		results = append(results, last)
	}

	// Fixed-count JS rows (see jsRequests). A benchmark with sub-benchmarks
	// runs its own body once, so these run once per invocation.
	n := jsRequestCount()
	fixed := func(name, url string) {
		hammerUntil(b, url+"?warmup", min(n, 4), 1, time.Time{}) // first-request costs
		r := hammerUntil(b, url, n, concurrency(), time.Now().Add(jsBudget))
		r.name = name
		if name == "wisp-spin-js" && r.firstBodySeen != "hello from js" {
			b.Fatalf("%s: body %q", name, r.firstBodySeen)
		}
		results = append(results, r)
	}
	url, stop := serveComponent(b, eng, jsWasm)
	fixed("wisp-spin-js", url)
	stop()
	if url, stop, err := jcoServe(b, jsWasm); err != nil {
		fmt.Println("jco:", err)
	} else {
		fixed("jco-spin-js", url)
		stop()
	}
	printComponentTable(os.Stdout, results)
}

// printComponentTable is printTable with a column comparing the Wisp JS
// row with the jco row.
func printComponentTable(w io.Writer, rs []result) {
	if len(rs) == 0 || rs[0].requests == 0 {
		return
	}
	base := rs[0]
	var wispJS, jco *result
	for i := range rs {
		switch rs[i].name {
		case "wisp-spin-js":
			wispJS = &rs[i]
		case "jco-spin-js":
			jco = &rs[i]
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\trequests\tconc\tp50\tp99\treq/s\tp50 ×base\treq/s ÷base\tp50 ×jco\treq/s ÷jco\t\n")
	for _, r := range rs {
		vsP50, vsRPS := "-", "-"
		if r.name == "wisp-spin-js" && wispJS != nil && jco != nil && jco.requests > 0 {
			vsP50 = fmt.Sprintf("%.2f", float64(wispJS.p50)/float64(jco.p50))
			vsRPS = fmt.Sprintf("%.2f", wispJS.rps/jco.rps)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%.0f\t%.2f\t%.3f\t%s\t%s\t\n", r.name, r.requests, r.concurrency,
			r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.rps,
			float64(r.p50)/float64(base.p50), r.rps/base.rps, vsP50, vsRPS)
	}
	tw.Flush()
}

// jcoServe starts jco serve on the same component; it returns an error,
// not a failure, if jco is not installed.
func jcoServe(b *testing.B, wasm string) (url string, stop func(), err error) {
	b.Helper()
	srv, err := jco.Serve(wasm, b.TempDir())
	if errors.Is(err, jco.ErrNotInstalled) {
		return "", nil, err
	}
	if err != nil {
		b.Fatal(err)
	}
	return srv.URL + "/", srv.Stop, nil
}

// BenchmarkInstantiate measures a fresh instance alone, instantiate then
// close, without HTTP or a call: the per-request floor of the wasi:http
// executor.
func BenchmarkInstantiate(b *testing.B) {
	eng := newEngine(b)
	for _, tg := range []struct {
		name string
		wasm func() string
	}{
		{"wasihttp-wat-hello", func() string { return helloComponent(b) }},
		{"spin-js", func() string { return testguest.Fixture(b, "spin-js-http/spin-js-http.wasm") }},
	} {
		_, loaded := loadComponent(b, eng, tg.wasm())
		comp := loaded.Component("hello").Linked
		ctx := wasi.WithCtx(context.Background(), &wasi.Ctx{})
		b.Run(tg.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inst, err := comp.Instantiate(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := inst.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		loaded.Close(context.Background())
	}
}
