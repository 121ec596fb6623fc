// Package bench measures Wisp's request path against baselines measured in
// the same run. Run with `make bench`; see README.md in this directory.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/testguest"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/trigger/http/wagi"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// result is one target's figures from its last (largest) benchmark run.
type result struct {
	name          string
	p50, p99      time.Duration
	rps           float64
	requests      int
	concurrency   int
	firstBodySeen string
}

// concurrency is the number of client connections sending requests at
// once; BENCH_CONCURRENCY overrides it.
func concurrency() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY")); err == nil && n > 0 {
		return n
	}
	return 4
}

// BenchmarkHTTPHello serves a hello-world response from native Go net/http
// (the baseline), a tiny C WAGI guest and a standard-Go WAGI guest through
// the same HTTP trigger as `wisp up`, and prints latency percentiles and
// throughput with ratios against the baseline.
func BenchmarkHTTPHello(b *testing.B) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)

	guests := testguest.Dir(b)
	targets := []struct {
		name  string
		serve func(b *testing.B) (url string, stop func())
	}{
		{"native-go-net/http", serveNative},
		{"wagi-c-hello", func(b *testing.B) (string, func()) {
			return serveWAGI(b, eng, testguest.C(b, filepath.Join(guests, "wagi", "hello.c")))
		}},
		{"wagi-go-hello", func(b *testing.B) (string, func()) {
			return serveWAGI(b, eng, testguest.Go(b, filepath.Join(guests, "go-wagi-hello")))
		}},
	}

	var results []result
	for _, tg := range targets {
		url, stop := tg.serve(b)
		var last result
		b.Run(tg.name, func(b *testing.B) {
			last = hammer(b, url, b.N, concurrency())
			last.name = tg.name
			b.ReportMetric(float64(last.p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(last.p99.Microseconds()), "p99-µs")
			b.ReportMetric(last.rps, "req/s")
		})
		stop()
		results = append(results, last)
	}
	printTable(os.Stdout, results)
}

// hammer sends n GET requests over c keep-alive connections and records
// each request's latency. Every response must be a 200 with a body.
func hammer(b *testing.B, url string, n, c int) result {
	b.Helper()
	return hammerUntil(b, url, n, c, time.Time{})
}

// hammerUntil is hammer that starts no request after deadline (zero: no
// deadline); the result covers the requests made.
func hammerUntil(b *testing.B, url string, n, c int, deadline time.Time) result {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var next atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr error
	var errOnce sync.Once
	var body atomic.Value
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				bs, err := getOK(client, url)
				if err == nil && i == 0 {
					body.Store(string(bs))
				}
				lat[i] = time.Since(t0)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatalf("request failed: %v", firstErr)
	}
	n = min(n, int(next.Load()))
	lat = lat[:n]
	slices.Sort(lat)
	r := result{
		p50:         percentile(lat, 0.50),
		p99:         percentile(lat, 0.99),
		rps:         float64(n) / elapsed.Seconds(),
		requests:    n,
		concurrency: c,
	}
	if s, ok := body.Load().(string); ok {
		r.firstBodySeen = s
	}
	return r
}

// getOK GETs url and reads the body; anything but a 200 with a body is an
// error.
func getOK(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	bs, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil && (resp.StatusCode != http.StatusOK || len(bs) == 0) {
		err = fmt.Errorf("status %d, %d body bytes", resp.StatusCode, len(bs))
	}
	return bs, err
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)) + 0.5)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func printTable(w io.Writer, rs []result) {
	if len(rs) == 0 || rs[0].requests == 0 {
		return
	}
	base := rs[0]
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\trequests\tconc\tp50\tp99\treq/s\tp50 ×base\treq/s ÷base\t\n")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v\t%.0f\t%.2f\t%.3f\t\n", r.name, r.requests, r.concurrency,
			r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.rps,
			float64(r.p50)/float64(base.p50), r.rps/base.rps)
	}
	tw.Flush()
}

func serveNative(b *testing.B) (string, func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from native go\n")
	})
	return serve(b, mux)
}

// serveWAGI serves wasmPath at "/..." through the same trigger and
// executor as `wisp up`.
func serveWAGI(b *testing.B, eng *engine.Engine, wasmPath string) (string, func()) {
	b.Helper()
	app := &lockedapp.LockedApp{
		Version:  lockedapp.Version,
		Metadata: lockedapp.Metadata{Name: "bench"},
		Triggers: []lockedapp.Trigger{{
			ID: "hello-trigger", Type: "http", Component: "hello",
			HTTP: &lockedapp.HTTPTrigger{Route: "/...", Executor: lockedapp.Executor{
				Type: "wagi", Argv: "${SCRIPT_NAME} ${ARGS}", Entrypoint: "_start"}},
		}},
		Components: []lockedapp.Component{{ID: "hello", Source: lockedapp.Source{Path: wasmPath, Digest: digest(b, wasmPath)}}},
	}
	loaded, err := executor.Load(context.Background(), eng, app, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := wagi.New(loaded.Component("hello"), app.Triggers[0].HTTP.Executor, wagi.Options{})
	srv, err := httptrigger.New(app, map[string]httptrigger.Handler{"hello": h}, httptrigger.Config{
		Logger: discardLogger(),
	})
	if err != nil {
		b.Fatal(err)
	}
	url, stop := serveTrigger(b, srv)
	return url, func() { stop(); loaded.Close(context.Background()) }
}

func serveTrigger(b testing.TB, srv *httptrigger.Server) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String() + "/", func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("serve: %v", err)
		}
	}
}

func serve(b testing.TB, h http.Handler) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }
}
