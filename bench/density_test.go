package bench

// BenchmarkDensity: one `wisp server` node (the real binary, a separate
// process whose RSS is read from /proc) holding many distinct apps of two
// kinds, C WAGI and Go SDK, measured kind by kind.
//
//	go test -run '^$' -bench Density -benchtime 1x ./bench/        # 200 C + 10 Go SDK
//	WISP_DENSITY_APPS=10000 WISP_DENSITY_GO_APPS=0 go test -run '^$' -bench Density -benchtime 1x -timeout 30m ./bench/
//
// WISP_DENSITY_APPS is the number of C apps (default 200),
// WISP_DENSITY_GO_APPS that of Go SDK apps (default 10; 0: none). Each kind
// is one guest compiled once (a small C WAGI program; a standard-Go wasi:http
// handler built with sdk/go, ~8 MB) with each app's own 16-digit id patched
// into a string in its data section (so every answer names its app) and
// into an appended custom section (so every app's compiled code is its own:
// the deploy checks that the server's compile cache grew by one entry per
// app). Apps are packed by the same loader and bundle code as `wisp deploy`
// and uploaded through the admin API client. bench/README.md describes the
// table.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wisp-dev/wisp/internal/loader"
	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/pkg/manifest"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

const densityGuest = `#include <stdio.h>
// The 16 underscores are replaced by each app's id in the binary.
static const char id[] = "WISP-DENSITY-ID:________________";
int main(void) {
    printf("Content-Type: text/plain\n\n%s\n", id);
    return 0;
}
`

const densityManifest = `spin_manifest_version = 2
[application]
name = "density"
[[trigger.http]]
route = "/..."
component = "app"
executor = { type = "wagi" }
[component.app]
source = "app.wasm"
`

// densityKind is one kind of app in the run: a base binary with one id
// placeholder, patched per app.
type densityKind struct {
	label    string // column header
	metric   string // prefix of the reported metrics
	n        int
	manifest string
	wasm     []byte
	at       int // offset of the id's 16 bytes in wasm's data
	// atSection is the offset of the id in a custom section appended to
	// wasm, which keeps compiled code distinct.
	atSection int
	name      func(i int) string
	id        func(i int) string

	// Results.
	deploy       time.Duration
	rssIdle      int64 // RSS growth from deploying this kind, settled
	cold, spread []time.Duration
	spreadTime   time.Duration
	rssCold      int64 // RSS growth from the cold requests to this kind
	loaded       int   // apps of this kind loaded after its cold requests
	settleLoaded bool  // measure rssCold settled
	evicted      bool  // the cold requests made the LRU unload apps
}

func newDensityKind(b *testing.B, label, metric string, n int, manifest string, wasm []byte, name, id func(int) string) *densityKind {
	marker := []byte(densityMarker + densityBlank)
	at := bytes.Index(wasm, marker)
	if at < 0 || bytes.Count(wasm, marker) != 1 {
		b.Fatalf("%s: the id placeholder is not in the compiled guest exactly once", label)
	}
	// The id in the data section alone does not make the compiled code
	// distinct: the engine moves data segments out of the module it
	// compiles (rewrite.Restorable), so every variant would share one
	// compile-cache entry and one compiled module in memory. A custom
	// section holding the id too stays in what is compiled; the deploy
	// checks that every app got its own cache entry.
	wasm = append(slices.Clip(wasm), densityIDSection()...)
	return &densityKind{label: label, metric: metric, n: n, manifest: manifest, wasm: wasm,
		at: at + len(densityMarker), atSection: len(wasm) - len(densityBlank), name: name, id: id}
}

// densityMarker precedes the 16-byte id in every guest and every answer;
// densityBlank is the placeholder for the id.
const (
	densityMarker = "WISP-DENSITY-ID:"
	densityBlank  = "________________"
)

// densityIDSection is a custom section "wisp-density-id" whose last 16
// bytes are the id placeholder (valid anywhere after the header).
func densityIDSection() []byte {
	const name = "wisp-density-id"
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, densityBlank...)
	return append([]byte{0, byte(len(body))}, body...)
}

// patch writes app i's id into wasm, a copy of k.wasm.
func (k *densityKind) patch(wasm []byte, i int) {
	copy(wasm[k.at:], k.id(i))
	copy(wasm[k.atSection:], k.id(i))
}

func densityCount(b *testing.B, env string, def, least int) int {
	s := os.Getenv(env)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < least {
		b.Fatalf("%s=%q: want a number ≥ %d", env, s, least)
	}
	return n
}

func BenchmarkDensity(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the server's RSS from /proc")
	}
	nC := densityCount(b, "WISP_DENSITY_APPS", 200, 1)
	nGo := densityCount(b, "WISP_DENSITY_GO_APPS", 10, 0)
	work := b.TempDir()
	ctx := context.Background()

	// Each guest is compiled once; every app patches its id in. Ids are
	// unique across kinds: Go apps number on after the C ones.
	src := filepath.Join(work, "density.c")
	if err := os.WriteFile(src, []byte(densityGuest), 0o644); err != nil {
		b.Fatal(err)
	}
	cWasm, err := os.ReadFile(testguest.C(b, src))
	if err != nil {
		b.Fatal(err)
	}
	kinds := []*densityKind{newDensityKind(b, "C WAGI", "", nC, densityManifest, cWasm,
		func(i int) string { return fmt.Sprintf("app%05d", i) },
		func(i int) string { return fmt.Sprintf("%016d", i) })}
	if nGo > 0 {
		kinds = append(kinds, newDensityKind(b, "Go SDK", "go-", nGo, densityGoManifest, buildDensityGoGuest(b, work),
			func(i int) string { return fmt.Sprintf("go%05d", i) },
			func(i int) string { return fmt.Sprintf("%016d", nC+i) }))
		kinds[1].settleLoaded = true
	}

	srv := startDensityServer(b, work)
	client := platformapi.NewClient(srv.admin, srv.token, nil)

	for b.Loop() {
		rssStart := srv.rss(b)

		// Deploy, one kind after the other, each followed by an idle
		// pause: nothing is loaded after a deploy, and the Go runtime
		// needs time to return the deploy's garbage to the OS.
		rss := rssStart
		for _, k := range kinds {
			before := densityCompiled(b, work)
			k.deploy = deployDensityKind(ctx, b, client, work, k)
			if got := densityCompiled(b, work) - before; got < k.n {
				b.Fatalf("%s: %d apps deployed but %d new compile-cache entries: apps share compiled code", k.label, k.n, got)
			}
			idle := srv.settledRSS(b)
			k.rssIdle, rss = idle-rss, idle
		}
		rssIdle := rss

		// Cold: the first request to every app, kind by kind, in random
		// order, one at a time; each must answer with its own id. Go SDK
		// apps go first, and the RSS they add once loaded is measured
		// settled (a load leaves tens of MiB of garbage until the next
		// collection), from the settled idle RSS; the C apps' is not
		// settled (their loads leave little garbage, and waiting for a
		// collection costs up to 2 minutes).
		requested := 0
		for _, k := range slices.Backward(kinds) {
			// Past --max-loaded the LRU unloads other apps, and the RSS
			// growth is no longer this kind's.
			requested += k.n
			k.evicted = requested > srv.maxLoaded
			k.cold = k.cold[:0]
			for _, i := range rand.Perm(k.n) {
				start := time.Now()
				if err := srv.check(k.name(i), k.id(i)); err != nil {
					b.Fatal(err)
				}
				k.cold = append(k.cold, time.Since(start))
			}
			now := srv.rss(b)
			if k.settleLoaded {
				now = srv.settledRSS(b)
			}
			k.rssCold, rss = now-rss, now
			k.loaded = densityLoaded(ctx, b, client, k)
		}
		rssAfterCold := rss

		// Spread: requests to random apps of one kind from 4 connections,
		// kind by kind; an app is warm only if it is still among the
		// server's loaded ones.
		for _, k := range kinds {
			k.spread, k.spreadTime = spreadDensity(b, srv, k)
		}
		rssAfterSpread := srv.rss(b)

		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "\nDensity: %d distinct apps on one node (GOMAXPROCS %d, max loaded %d, idle timeout %v)\n",
			nC+nGo, runtime.GOMAXPROCS(0), srv.maxLoaded, srv.idleTimeout)
		row := func(name string, cell func(k *densityKind) string) {
			fmt.Fprint(tw, name)
			for _, k := range kinds {
				fmt.Fprint(tw, "\t", cell(k))
			}
			fmt.Fprintln(tw, "\t")
		}
		row("", func(k *densityKind) string { return k.label })
		row("apps", func(k *densityKind) string { return strconv.Itoa(k.n) })
		row("module size", func(k *densityKind) string { return densityKiB(float64(len(k.wasm))) })
		row("deploy", func(k *densityKind) string {
			return fmt.Sprintf("%.1f ms/app (%v)", densityMs(k.deploy)/float64(k.n), k.deploy.Round(time.Second))
		})
		row("RSS idle, all deployed", func(k *densityKind) string {
			return fmt.Sprintf("%s/app (+%s)", densityKiB(float64(k.rssIdle)/float64(k.n)), densityMiB(k.rssIdle))
		})
		row("cold first request p50 / p99", func(k *densityKind) string {
			return fmt.Sprintf("%v / %v", densityPercentile(k.cold, 50), densityPercentile(k.cold, 99))
		})
		row("RSS growth after cold requests", func(k *densityKind) string {
			settled := ""
			if k.settleLoaded {
				settled = ", settled"
			}
			return fmt.Sprintf("%s (%d loaded%s)", densityMiB(k.rssCold), k.loaded, settled)
		})
		row("  per loaded app", func(k *densityKind) string {
			if k.evicted {
				return "- (the LRU unloaded apps)"
			}
			return densityMiB(k.rssCold / int64(max(k.loaded, 1)))
		})
		row("spread p50 / p99", func(k *densityKind) string {
			return fmt.Sprintf("%v / %v", densityPercentile(k.spread, 50), densityPercentile(k.spread, 99))
		})
		row("spread requests, rate", func(k *densityKind) string {
			return fmt.Sprintf("%d, %.0f req/s", len(k.spread), float64(len(k.spread))/k.spreadTime.Seconds())
		})
		fmt.Fprintf(tw, "RSS: empty node %s, all deployed %s, after cold requests %s, after spread requests %s\n",
			densityMiB(rssStart), densityMiB(rssIdle), densityMiB(rssAfterCold), densityMiB(rssAfterSpread))
		var allCold []time.Duration
		for _, k := range kinds {
			allCold = append(allCold, k.cold...)
		}
		fmt.Fprintf(tw, "node, all %d apps: idle RSS %s/app, cold first request p50 %v / p99 %v\n", nC+nGo,
			densityKiB(float64(rssIdle-rssStart)/float64(nC+nGo)), densityPercentile(allCold, 50), densityPercentile(allCold, 99))
		fmt.Fprintf(tw, "spread: %d connections, each request to a random app of the column's kind\n", densitySpreadConns)
		tw.Flush()

		for _, k := range kinds {
			perApp := float64(k.rssIdle) / float64(k.n)
			c50, c99 := densityPercentile(k.cold, 50), densityPercentile(k.cold, 99)
			b.ReportMetric(perApp/1024, k.metric+"idle-KiB/app")
			b.ReportMetric(densityMs(c50), k.metric+"cold-p50-ms")
			b.ReportMetric(densityMs(c99), k.metric+"cold-p99-ms")
			b.ReportMetric(densityMs(densityPercentile(k.spread, 99)), k.metric+"spread-p99-ms")
			b.ReportMetric(densityMs(k.deploy)/float64(k.n), k.metric+"deploy-ms/app")
			if perApp > 256*1024 {
				b.Errorf("%s: idle RSS %.1f KiB per app, target 256 KiB", k.label, perApp/1024)
			}
			if c50 > 20*time.Millisecond {
				b.Errorf("%s: cold first request p50 %v, target 20 ms", k.label, c50)
			}
		}
	}
}

// densitySpreadConns is how many connections send the spread requests.
const densitySpreadConns = 4

// deployDensityKind deploys k's apps from 2 workers (the machine has 2
// cores; the server compiles each app's code at deploy time, filling its
// disk cache) and returns how long that took.
func deployDensityKind(ctx context.Context, b *testing.B, client *platformapi.Client, work string, k *densityKind) time.Duration {
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(work, k.metric+"deploy"+strconv.Itoa(w))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				errs <- err
				return
			}
			if err := os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(k.manifest), 0o644); err != nil {
				errs <- err
				return
			}
			wasm := slices.Clone(k.wasm)
			for {
				i := int(next.Add(1)) - 1
				if i >= k.n {
					return
				}
				k.patch(wasm, i)
				if err := deployDensityApp(ctx, client, dir, k.name(i), wasm); err != nil {
					errs <- fmt.Errorf("%s app %d: %w", k.label, i, err)
					return
				}
				if i > 0 && i%1000 == 0 {
					b.Logf("deployed %d %s apps in %v", i, k.label, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return time.Since(start)
}

// spreadDensity sends requests to random apps of k from
// densitySpreadConns connections: 2 per app, at least 2,000, at most 20,000.
func spreadDensity(b *testing.B, srv *densityServer, k *densityKind) ([]time.Duration, time.Duration) {
	total := min(max(2*k.n, 2000), 20000)
	spread := make([]time.Duration, total)
	var sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, densitySpreadConns)
	start := time.Now()
	for range densitySpreadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(sent.Add(1)) - 1
				if j >= total {
					return
				}
				i := rand.IntN(k.n)
				t := time.Now()
				if err := srv.check(k.name(i), k.id(i)); err != nil {
					errs <- err
					return
				}
				spread[j] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return spread, time.Since(start)
}

// densityCompiled counts the files in the server's compile cache (one per
// compiled module).
func densityCompiled(b *testing.B, work string) int {
	n := 0
	err := filepath.WalkDir(filepath.Join(work, "cache", "compiled"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		b.Fatal(err)
	}
	return n
}

// densityLoaded counts the loaded apps of k, as the admin API reports them.
func densityLoaded(ctx context.Context, b *testing.B, client *platformapi.Client, k *densityKind) int {
	apps, err := client.ListApps(ctx)
	if err != nil {
		b.Fatal(err)
	}
	mine := make(map[string]bool, k.n)
	for i := range k.n {
		mine[k.name(i)] = true
	}
	n := 0
	for _, a := range apps {
		if a.Loaded && mine[a.Name] {
			n++
		}
	}
	return n
}

func deployDensityApp(ctx context.Context, c *platformapi.Client, dir, name string, wasm []byte) error {
	if err := os.WriteFile(filepath.Join(dir, "app.wasm"), wasm, 0o644); err != nil {
		return err
	}
	m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
	if err != nil {
		return err
	}
	app, err := loader.Load(ctx, m, loader.Options{CacheDir: filepath.Join(dir, "downloads")})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, app, nil); err != nil {
		return err
	}
	_, err = c.Deploy(ctx, name, &buf, int64(buf.Len()), platformapi.DeployOptions{})
	return err
}

func densityMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func densityKiB(n float64) string { return fmt.Sprintf("%.1f KiB", n/1024) }

func densityMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func densityPercentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

// densityServer is a `wisp server` process.
type densityServer struct {
	cmd         *exec.Cmd
	apps        string // http://127.0.0.1:port
	admin       string
	token       string
	maxLoaded   int
	idleTimeout time.Duration
	http        *http.Client
	gcs         atomic.Int64 // garbage collections the server has reported
}

func startDensityServer(b *testing.B, work string) *densityServer {
	s := &densityServer{token: "wisp_density_bench_token", maxLoaded: 1000, idleTimeout: 10 * time.Minute,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	// gctrace: one stderr line per garbage collection, which settledRSS
	// waits for.
	ws := startWispServer(b, work, []string{"WISP_ADMIN_TOKEN=" + s.token, "GODEBUG=gctrace=1"},
		func(line string) {
			if strings.HasPrefix(line, "gc ") {
				s.gcs.Add(1)
			}
		},
		"--domain", "density.test",
		"--max-apps", "1000000", "--max-loaded", strconv.Itoa(s.maxLoaded), "--idle-timeout", s.idleTimeout.String())
	s.cmd, s.apps, s.admin = ws.cmd, ws.apps, ws.admin
	return s
}

// check sends GET / to app and expects its id.
func (s *densityServer) check(app, id string) error {
	req, err := http.NewRequest(http.MethodGet, s.apps+"/", nil)
	if err != nil {
		return err
	}
	req.Host = app + ".density.test"
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", app, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := densityMarker + id + "\n"; resp.StatusCode != 200 || string(body) != want {
		return fmt.Errorf("%s answered %d %q, want %q", app, resp.StatusCode, body, want)
	}
	return nil
}

// rss is the server's resident set size in bytes.
func (s *densityServer) rss(b *testing.B) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// settledRSS returns the server's RSS once it is idle: after a garbage
// collection that ended after the call (the Go runtime forces one at least
// every 2 minutes; until then a deploy's garbage stays resident) and once
// RSS has not fallen by more than 256 KiB for 10 s (the scavenger returns
// freed pages gradually). It waits at most 3 minutes for the collection
// and 2 more for the scavenger.
func (s *densityServer) settledRSS(b *testing.B) int64 {
	gcs := s.gcs.Load()
	for deadline := time.Now().Add(3 * time.Minute); s.gcs.Load() == gcs; {
		if time.Now().After(deadline) {
			b.Log("settledRSS: no garbage collection in the server within 3 minutes")
			break
		}
		time.Sleep(time.Second)
	}
	const poll, window = 2 * time.Second, 5 // polls
	hist := []int64{s.rss(b)}
	for range 60 {
		time.Sleep(poll)
		hist = append(hist, s.rss(b))
		if n := len(hist); n > window && hist[n-1-window]-hist[n-1] <= 256<<10 {
			break
		}
	}
	return slices.Min(hist)
}
