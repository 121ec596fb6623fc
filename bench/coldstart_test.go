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
	"slices"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// coldStartSamples is how many fresh instances each row measures.
const coldStartSamples = 300

// BenchmarkColdStart measures fresh-instance latency in-process (no HTTP):
// for each guest, the time to create a new instance, run what a request
// runs there, and close it, sampled coldStartSamples times, against a
// native Go net/http handler called in-process in the same run. It prints
// one table with p50/p99 and ratios to the native baseline.
func BenchmarkColdStart(b *testing.B) {
	eng := newEngine(b)
	ctx := context.Background()
	guests := testguest.Dir(b)

	type row struct {
		name string
		op   func() error
	}
	native := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from native go\n")
	})
	req := httptest.NewRequest("GET", "/", nil)
	rows := []row{{"native-go-net/http (handler)", func() error {
		native.ServeHTTP(httptest.NewRecorder(), req)
		return nil
	}}}

	// WAGI guests: a whole run (instantiate, _start writing the response
	// to stdout, close).
	for _, g := range []struct{ name, path string }{
		{"wagi-c-hello (run)", testguest.C(b, filepath.Join(guests, "wagi", "hello.c"))},
		{"wagi-go-hello (run)", testguest.Go(b, filepath.Join(guests, "go-wagi-hello"))},
	} {
		m := compile(b, eng, g.path)
		rows = append(rows, row{g.name, func() error {
			_, err := m.Run(ctx, engine.RunConfig{Args: []string{"hello"}, Stdout: io.Discard})
			return err
		}})
	}

	// Components: instantiate + close, the wasi:http executor's floor.
	wctx := wasi.WithCtx(ctx, &wasi.Ctx{})
	for _, g := range []struct{ name, path string }{
		{"wasihttp-wat-hello (instantiate)", helloComponent(b)},
		{"spin-js (instantiate)", testguest.Fixture(b, "spin-js-http/spin-js-http.wasm")},
	} {
		_, loaded := loadComponent(b, eng, g.path)
		b.Cleanup(func() { loaded.Close(ctx) })
		comp := loaded.Component("hello").Linked
		rows = append(rows, row{g.name, func() error {
			inst, err := comp.Instantiate(wctx)
			if err != nil {
				return err
			}
			return inst.Close(wctx)
		}})
	}

	// The Wisp Go SDK hello (a canonical-ABI core module, standard Go):
	// instantiate + close, once with _initialize run per instance (an
	// engine with snapshots disabled, as before issue #7's (c)) and once
	// from the snapshot LoadCore takes at load time.
	goSDK := buildGoSDKExample(b)
	for _, g := range []struct {
		name       string
		noSnapshot bool
	}{
		{"go-sdk-hello (instantiate+_initialize)", true},
		{"go-sdk-hello (instantiate from snapshot)", false},
	} {
		e, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(b), NoSnapshots: g.noSnapshot})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { e.Close(ctx) })
		_, loaded := loadComponent(b, e, goSDK)
		b.Cleanup(func() { loaded.Close(ctx) })
		comp := loaded.Component("hello").Linked
		if ok, _ := comp.Snapshotted(); ok == g.noSnapshot {
			b.Fatalf("%s: snapshotted = %v", g.name, ok)
		}
		rows = append(rows, row{g.name, func() error {
			inst, err := comp.Instantiate(wctx)
			if err != nil {
				return err
			}
			return inst.Close(wctx)
		}})
	}

	type result struct {
		name     string
		p50, p99 time.Duration
	}
	var results []result
	for _, r := range rows {
		b.Run(r.name, func(b *testing.B) {
			for range 3 { // warm-up: first-use costs
				if err := r.op(); err != nil {
					b.Fatal(err)
				}
			}
			lat := make([]time.Duration, coldStartSamples)
			b.ResetTimer()
			for i := range lat {
				t0 := time.Now()
				if err := r.op(); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(t0)
			}
			b.StopTimer()
			slices.Sort(lat)
			res := result{r.name, percentile(lat, 0.5), percentile(lat, 0.99)}
			b.ReportMetric(float64(res.p50.Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(res.p99.Nanoseconds())/1e3, "p99-µs")
			if len(results) < len(rows) && !slices.ContainsFunc(results, func(x result) bool { return x.name == r.name }) {
				results = append(results, res)
			}
		})
	}
	if len(results) == 0 {
		return
	}
	base := results[0]
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "fresh instance (in-process)\tsamples\tp50\tp99\tp50 ×native\tp99 ÷p50\t\n")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%.1f\t%.1f\t\n", r.name, coldStartSamples,
			r.p50.Round(100*time.Nanosecond), r.p99.Round(100*time.Nanosecond),
			float64(r.p50)/float64(base.p50), float64(r.p99)/float64(r.p50))
	}
	tw.Flush()
}

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
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join(testguest.Dir(b), "..", "..", "examples", "http-go-sdk")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the Go SDK example: %v\n%s", err, msg)
	}
	return out
}
