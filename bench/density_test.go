package bench

// BenchmarkDensity: one `wisp server` node (the real binary, a separate
// process whose RSS is read from /proc) holding N distinct apps.
//
//	go test -run '^$' -bench Density -benchtime 1x ./bench/                       # N=200
//	WISP_DENSITY_APPS=10000 go test -run '^$' -bench Density -benchtime 1x -timeout 2h ./bench/
//
// Every app is the same small C WAGI guest with its own 16-digit id patched
// into a string constant, so every binary (and its compiled code) is
// distinct and every answer names its app. Apps are packed by the same
// loader and bundle code as `wisp deploy` and uploaded through the admin
// API client.

import (
	"bufio"
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

func densityApps(b *testing.B) int {
	if s := os.Getenv("WISP_DENSITY_APPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("WISP_DENSITY_APPS=%q: want a positive number", s)
		}
		return n
	}
	return 200
}

func BenchmarkDensity(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the server's RSS from /proc")
	}
	n := densityApps(b)
	work := b.TempDir()
	ctx := context.Background()

	// The guest, compiled once; every app patches its id in.
	src := filepath.Join(work, "density.c")
	if err := os.WriteFile(src, []byte(densityGuest), 0o644); err != nil {
		b.Fatal(err)
	}
	base, err := os.ReadFile(testguest.C(b, src))
	if err != nil {
		b.Fatal(err)
	}
	marker := []byte("WISP-DENSITY-ID:________________")
	at := bytes.Index(base, marker)
	if at < 0 || bytes.Count(base, marker) != 1 {
		b.Fatal("the id placeholder is not in the compiled guest exactly once")
	}
	at += len("WISP-DENSITY-ID:")
	appName := func(i int) string { return fmt.Sprintf("app%05d", i) }
	appID := func(i int) string { return fmt.Sprintf("%016d", i) }

	srv := startDensityServer(b, work)
	client := platformapi.NewClient(srv.admin, srv.token, nil)

	for b.Loop() {
		rssStart := srv.rss(b)

		// Deploy: 2 workers (the machine has 2 cores; the server compiles
		// each app's code at deploy time, filling its disk cache).
		deployStart := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dir := filepath.Join(work, "app"+strconv.Itoa(w))
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "spin.toml"), []byte(densityManifest), 0o644)
				wasm := slices.Clone(base)
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					copy(wasm[at:], appID(i))
					if err := deployDensityApp(ctx, client, dir, appName(i), wasm); err != nil {
						errs <- fmt.Errorf("app %d: %w", i, err)
						return
					}
					if i > 0 && i%1000 == 0 {
						b.Logf("deployed %d apps in %v", i, time.Since(deployStart).Round(time.Second))
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
		deployTime := time.Since(deployStart)

		// Idle: nothing is loaded after a deploy. Give the Go runtime time
		// to return the deploy's garbage to the OS.
		rssIdle := srv.settledRSS(b)

		// Cold: the first request to every app, in random order, one at a
		// time; each must answer with its own id.
		order := rand.Perm(n)
		cold := make([]time.Duration, 0, n)
		for _, i := range order {
			start := time.Now()
			if err := srv.check(appName(i), appID(i)); err != nil {
				b.Fatal(err)
			}
			cold = append(cold, time.Since(start))
		}
		rssAfterCold := srv.rss(b)

		// Spread: requests to random apps from 4 connections; an app is
		// warm only if it is still among the server's loaded ones.
		const clients = 4
		total := min(max(2*n, 2000), 20000)
		spread := make([]time.Duration, total)
		var sent atomic.Int64
		spreadStart := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(sent.Add(1)) - 1
					if k >= total {
						return
					}
					i := rand.IntN(n)
					start := time.Now()
					if err := srv.check(appName(i), appID(i)); err != nil {
						errs <- err
						return
					}
					spread[k] = time.Since(start)
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		spreadTime := time.Since(spreadStart)
		rssAfterSpread := srv.rss(b)

		perApp := float64(rssIdle-rssStart) / float64(n)
		c50, c99 := densityPercentile(cold, 50), densityPercentile(cold, 99)
		s50, s99 := densityPercentile(spread, 50), densityPercentile(spread, 99)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "\nDensity: %d distinct apps on one node (GOMAXPROCS %d, max loaded %d)\n", n, runtime.GOMAXPROCS(0), srv.maxLoaded)
		fmt.Fprintf(tw, "deploy\t%v total\t%.1f ms/app\n", deployTime.Round(time.Millisecond), float64(deployTime.Microseconds())/1000/float64(n))
		fmt.Fprintf(tw, "RSS empty node\t%s\t\n", densityMiB(rssStart))
		fmt.Fprintf(tw, "RSS idle, all deployed\t%s\t%.1f KiB/app\n", densityMiB(rssIdle), perApp/1024)
		fmt.Fprintf(tw, "RSS after a request to every app\t%s\t\n", densityMiB(rssAfterCold))
		fmt.Fprintf(tw, "RSS after spread requests\t%s\t\n", densityMiB(rssAfterSpread))
		fmt.Fprintf(tw, "cold first request (all %d apps)\tp50 %v\tp99 %v\n", n, c50, c99)
		fmt.Fprintf(tw, "spread over all apps (%d req, %d conns)\tp50 %v\tp99 %v\t%.0f req/s\n", total, clients, s50, s99, float64(total)/spreadTime.Seconds())
		tw.Flush()
		b.ReportMetric(perApp/1024, "idle-KiB/app")
		b.ReportMetric(float64(c50.Microseconds())/1000, "cold-p50-ms")
		b.ReportMetric(float64(c99.Microseconds())/1000, "cold-p99-ms")
		b.ReportMetric(float64(s99.Microseconds())/1000, "spread-p99-ms")
		b.ReportMetric(float64(deployTime.Milliseconds())/float64(n), "deploy-ms/app")
		if perApp > 256*1024 {
			b.Errorf("idle RSS %.1f KiB per app, target 256 KiB", perApp/1024)
		}
		if c50 > 20*time.Millisecond {
			b.Errorf("cold first request p50 %v, target 20 ms", c50)
		}
	}
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

func densityPercentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}

// densityServer is a `wisp server` process.
type densityServer struct {
	cmd       *exec.Cmd
	apps      string // http://127.0.0.1:port
	admin     string
	token     string
	maxLoaded int
	http      *http.Client
}

func startDensityServer(b *testing.B, work string) *densityServer {
	bin := filepath.Join(work, "wisp")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wisp").CombinedOutput(); err != nil {
		b.Fatalf("building wisp: %v\n%s", err, out)
	}
	s := &densityServer{token: "wisp_density_bench_token", maxLoaded: 1000,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	s.cmd = exec.Command(bin, "server", "--data-dir", filepath.Join(work, "data"),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--domain", "density.test",
		"--max-apps", "1000000", "--max-loaded", strconv.Itoa(s.maxLoaded), "--idle-timeout", "1m")
	// A fresh compile cache: nothing compiled is shared with other runs.
	s.cmd.Env = append(os.Environ(), "WISP_CACHE_DIR="+filepath.Join(work, "cache"), "WISP_ADMIN_TOKEN="+s.token)
	s.cmd.Dir = work
	out, err := s.cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
		}
	})
	sc := bufio.NewScanner(out)
	for (s.apps == "" || s.admin == "") && sc.Scan() {
		line := sc.Text()
		if _, rest, ok := strings.Cut(line, "Serving apps on "); ok {
			s.apps, _, _ = strings.Cut(rest, " ")
		}
		if _, rest, ok := strings.Cut(line, "Admin API on "); ok {
			s.admin, _, _ = strings.Cut(rest, " ")
		}
	}
	if s.apps == "" || s.admin == "" {
		b.Fatal("wisp server did not start")
	}
	go io.Copy(io.Discard, out)
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
	if want := "WISP-DENSITY-ID:" + id + "\n"; resp.StatusCode != 200 || string(body) != want {
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

// settledRSS waits (up to a minute) until RSS stops falling.
func (s *densityServer) settledRSS(b *testing.B) int64 {
	last := s.rss(b)
	for range 30 {
		time.Sleep(2 * time.Second)
		cur := s.rss(b)
		if cur >= last-(256<<10) {
			return min(cur, last)
		}
		last = cur
	}
	return last
}
