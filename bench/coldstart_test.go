package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testguest/jco"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// coldStartSamples is how many fresh instances each row measures.
const coldStartSamples = 300

// guestRow is one guest of the cold-start table and of BenchmarkSuite:
// op runs what a request runs there in a fresh instance, in-process (nil:
// no in-process figure, e.g. jco); serve, if not nil, serves the same guest
// over loopback HTTP through the code `wisp up` uses.
type guestRow struct {
	name  string
	op    func() error
	serve func() (url string, stop func())
}

// guestRows builds every guest once and returns the rows, native Go first
// (the baseline). Everything it loads is closed when b ends.
func guestRows(b *testing.B, eng *engine.Engine) []guestRow {
	ctx := context.Background()
	guests := testguest.Dir(b)

	native := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from native go\n")
	})
	req := httptest.NewRequest("GET", "/", nil)
	rows := []guestRow{{"native-go-net/http", func() error {
		native.ServeHTTP(httptest.NewRecorder(), req)
		return nil
	}, func() (string, func()) { return serveNative(b) }}}

	// WAGI guests: a whole run (instantiate, _start writing the response
	// to stdout, close).
	for _, g := range []struct{ name, path string }{
		{"wagi-c-hello", testguest.C(b, filepath.Join(guests, "wagi", "hello.c"))},
		{"wagi-go-hello", testguest.Go(b, filepath.Join(guests, "go-wagi-hello"))},
	} {
		m := compile(b, eng, g.path)
		rows = append(rows, guestRow{g.name + " (run)", func() error {
			_, err := m.Run(ctx, engine.RunConfig{Args: []string{"hello"}, Stdout: io.Discard})
			return err
		}, func() (string, func()) { return serveWAGI(b, eng, g.path) }})
	}

	// Components: instantiate + close, the wasi:http executor's floor.
	wctx := wasi.WithCtx(ctx, &wasi.Ctx{})
	// instantiate loads path; want, if not nil, is whether it must have
	// been snapshotted at load time.
	instantiate := func(e *engine.Engine, path string, want *bool) func() error {
		_, loaded := loadComponent(b, e, path)
		b.Cleanup(func() { loaded.Close(ctx) })
		comp := loaded.Component("hello").Linked
		if ok, _ := comp.Snapshotted(); want != nil && ok != *want {
			b.Fatalf("%s: snapshotted = %v", path, ok)
		}
		return func() error {
			inst, err := comp.Instantiate(wctx)
			if err != nil {
				return err
			}
			return inst.Close(wctx)
		}
	}
	hello := helloComponent(b)
	rows = append(rows, guestRow{"wasihttp-wat-hello (instantiate)", instantiate(eng, hello, nil),
		func() (string, func()) { return serveComponent(b, eng, hello) }})

	// The Wisp Go SDK hello (a canonical-ABI core module, standard Go):
	// once with _initialize run per instance (an engine with snapshots
	// disabled, as before issue #7's (c); in-process only) and once from
	// the snapshot LoadCore takes at load time.
	goSDK := buildGoSDKExample(b)
	noSnap, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(b), NoSnapshots: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { noSnap.Close(ctx) })
	no, yes := false, true
	rows = append(rows,
		guestRow{"go-sdk-hello (instantiate+_initialize)", instantiate(noSnap, goSDK, &no), nil},
		guestRow{"go-sdk-hello (instantiate from snapshot)", instantiate(eng, goSDK, &yes),
			func() (string, func()) { return serveComponent(b, eng, goSDK) }})

	js := testguest.Fixture(b, "spin-js-http/spin-js-http.wasm")
	rows = append(rows, guestRow{"spin-js (instantiate)", instantiate(eng, js, nil),
		func() (string, func()) { return serveComponent(b, eng, js) }})

	// The same JS component under `jco serve --isolate-requests instance`:
	// HTTP only, and only when node and jco are installed.
	if _, err := os.Stat(jco.Binary()); err != nil {
		fmt.Println("jco: not installed, no jco row:", err)
	} else if _, err := exec.LookPath("node"); err != nil {
		fmt.Println("jco: no node, no jco row:", err)
	} else {
		rows = append(rows, guestRow{"jco-spin-js (HTTP only)", nil, func() (string, func()) {
			url, stop, err := jcoServe(b, js)
			if err != nil {
				b.Fatal(err)
			}
			return url, stop
		}})
	}
	return rows
}

// coldStart is one row's in-process figures.
type coldStart struct {
	p50, p99  time.Duration
	heapPerOp float64 // Go heap bytes allocated per op (runtime.MemStats.TotalAlloc)
}

// measureColdStart runs op a few times to pay first-use costs, then
// coldStartSamples times, timing each and counting the Go heap allocated
// over the samples.
func measureColdStart(op func() error) (coldStart, error) {
	for range 3 {
		if err := op(); err != nil {
			return coldStart{}, err
		}
	}
	lat := make([]time.Duration, coldStartSamples)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range lat {
		t0 := time.Now()
		if err := op(); err != nil {
			return coldStart{}, err
		}
		lat[i] = time.Since(t0)
	}
	runtime.ReadMemStats(&after)
	slices.Sort(lat)
	return coldStart{
		p50:       percentile(lat, 0.5),
		p99:       percentile(lat, 0.99),
		heapPerOp: float64(after.TotalAlloc-before.TotalAlloc) / float64(len(lat)),
	}, nil
}

// BenchmarkColdStart measures fresh-instance latency in-process (no HTTP):
// for each guest, the time to create a new instance, run what a request
// runs there, and close it, sampled coldStartSamples times, against a
// native Go net/http handler called in-process in the same run. It prints
// one table with p50/p99, Go heap per instance and ratios to the native
// baseline. BenchmarkSuite prints the same columns beside the HTTP ones.
func BenchmarkColdStart(b *testing.B) {
	type result struct {
		name string
		coldStart
	}
	var results []result
	for _, r := range guestRows(b, newEngine(b)) {
		if r.op == nil {
			continue
		}
		b.Run(r.name, func(b *testing.B) {
			cs, err := measureColdStart(r.op)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(cs.p50.Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(cs.p99.Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(cs.heapPerOp, "heap-B/op")
			if !slices.ContainsFunc(results, func(x result) bool { return x.name == r.name }) {
				results = append(results, result{r.name, cs})
			}
		})
	}
	if len(results) == 0 {
		return
	}
	base := results[0]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "fresh instance (in-process)\tsamples\tp50\tp99\tp50 ×native\tp99 ÷p50\theap/op\t\n")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%.1f\t%.1f\t%s\t\n", r.name, coldStartSamples,
			r.p50.Round(100*time.Nanosecond), r.p99.Round(100*time.Nanosecond),
			float64(r.p50)/float64(base.p50), float64(r.p99)/float64(r.p50), kib(r.heapPerOp))
	}
	tw.Flush()
}

// kib formats a byte count in KiB.
func kib(bytes float64) string { return fmt.Sprintf("%.1f KiB", bytes/1024) }
func compile(b *testing.B, eng *engine.Engine, path string) *engine.Module {
	b.Helper()
	wasm, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	m, err := eng.Compile(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// buildGoSDKExample builds examples/http-go-sdk as a standard-Go reactor.
func buildGoSDKExample(b *testing.B) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "main.wasm")
	testguest.GoReactor(b, filepath.Join(testguest.Dir(b), "..", "..", "examples", "http-go-sdk"), out)
	return out
}
