package platform

// The memory budget of loaded apps (Config.MaxLoadedBytes) and the
// rate-limited return of freed memory, with the recording Runtime of
// pinned_test.go.

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// sizedWasm is a valid, empty Wasm module padded with a custom section to
// size bytes.
func sizedWasm(size int) []byte {
	head := []byte("\x00asm\x01\x00\x00\x00")
	// Custom section: id 0, a 5-byte LEB128 length, name "p", padding.
	payload := size - len(head) - 6
	body := append([]byte{1, 'p'}, make([]byte, payload-2)...)
	n := uint32(len(body))
	leb := []byte{byte(n) | 0x80, byte(n>>7) | 0x80, byte(n>>14) | 0x80, byte(n>>21) | 0x80, byte(n >> 28)}
	return slices.Concat(head, []byte{0}, leb, body)
}

// sizedBundle packs an app whose one component is a size-byte Wasm file.
func sizedBundle(t *testing.T, triggerType, v string, size int) []byte {
	t.Helper()
	code := sizedWasm(size)
	if len(code) != size {
		t.Fatalf("sizedWasm(%d) has %d bytes", size, len(code))
	}
	return bundleWith(t, triggerType, v, code)
}

// costOf is what an app of one size-byte component is charged.
func costOf(size int) int64 { return costPerWasmByte * int64(size) }

// request loads the app if needed, as a request does, and finishes.
func request(t *testing.T, n *Node, name string) {
	t.Helper()
	l, err := n.pool.acquire(context.Background(), n.apps[name])
	if err != nil {
		t.Fatal(err)
	}
	l.release()
}

// loadedApps lists the names of the loaded apps.
func loadedApps(n *Node) []string {
	var out []string
	for name, e := range n.apps {
		if e.loaded() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func TestLoadedBytesBudget(t *testing.T) {
	const size = 256 << 10
	cost := costOf(size)
	rt := &fakeRuntime{}
	// Room for the pinned app and three others, not four.
	n := openTestNode(t, t.TempDir(), rt, func(c *Config) { c.MaxLoadedBytes = 4*cost + cost/2 })
	check := func(step string, wantLoaded []string, wantBytes int64) {
		t.Helper()
		if got := loadedApps(n); !slices.Equal(got, wantLoaded) {
			t.Errorf("%s: loaded %q, want %q", step, got, wantLoaded)
		}
		if got := n.pool.loadedBytes(); got != wantBytes {
			t.Errorf("%s: %d bytes charged, want %d (%.2f apps)", step, got, wantBytes, float64(got)/float64(cost))
		}
	}

	if err := deployBundle(t, n, "sub", sizedBundle(t, "redis", "s1", size)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if err := deployBundle(t, n, name, sizedBundle(t, "http", name+"1", size)); err != nil {
			t.Fatal(err)
		}
	}
	check("after deploys", []string{"sub"}, cost)

	request(t, n, "a")
	request(t, n, "b")
	request(t, n, "c")
	check("three loaded", []string{"a", "b", "c", "sub"}, 4*cost)
	request(t, n, "a") // b is now the least recently used

	// The fourth does not fit: b goes, not the pinned app.
	request(t, n, "d")
	check("d loaded", []string{"a", "c", "d", "sub"}, 4*cost)
	if !slices.Contains(rt.Events(), "close b b1 triggers=false") {
		t.Errorf("b was not closed: %q", rt.Events())
	}

	// An app larger than the whole budget loads, alone beside the pinned
	// app, and is the first to go when another loads.
	const bigSize = 2 << 20
	if err := deployBundle(t, n, "big", sizedBundle(t, "http", "B1", bigSize)); err != nil {
		t.Fatal(err)
	}
	if costOf(bigSize) <= n.cfg.MaxLoadedBytes {
		t.Fatalf("big costs %d, not more than the budget %d", costOf(bigSize), n.cfg.MaxLoadedBytes)
	}
	request(t, n, "big")
	check("big loaded", []string{"big", "sub"}, cost+costOf(bigSize))
	request(t, n, "a")
	check("a after big", []string{"a", "sub"}, 2*cost)

	// The charge goes back down on idle unload, redeploy and delete.
	request(t, n, "c")
	if got := n.pool.reapOnce(time.Now().Add(time.Hour)); got != 2 {
		t.Errorf("reaped %d apps, want 2", got)
	}
	check("after reaping", []string{"sub"}, cost)
	request(t, n, "c")
	if err := deployBundle(t, n, "c", sizedBundle(t, "http", "c2", size)); err != nil {
		t.Fatal(err)
	}
	check("after redeploying c", []string{"sub"}, cost)
	// A pinned app's redeploy replaces its charge with the new revision's.
	if err := deployBundle(t, n, "sub", sizedBundle(t, "redis", "s2", 2*size)); err != nil {
		t.Fatal(err)
	}
	check("after redeploying sub bigger", []string{"sub"}, costOf(2*size))
	request(t, n, "d")
	if err := n.DeleteApp("admin", "d"); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteApp("admin", "sub"); err != nil {
		t.Fatal(err)
	}
	check("after deletes", nil, 0)
	if _, err := n.Rollback("admin", "c", 1); err != nil {
		t.Fatal(err)
	}
	request(t, n, "c")
	check("after rollback", []string{"c"}, cost)
	n.Close()
	if got := n.pool.loadedBytes(); got != 0 {
		t.Errorf("closed node: %d bytes charged", got)
	}
}

// With pinned apps over the budget, on-demand apps still load, one at a
// time, and the pinned ones stay.
func TestLoadedBytesPinnedOverBudget(t *testing.T) {
	const size = 64 << 10
	rt := &fakeRuntime{}
	n := openTestNode(t, t.TempDir(), rt, func(c *Config) { c.MaxLoadedBytes = costOf(size) })
	for _, name := range []string{"p1", "p2"} {
		if err := deployBundle(t, n, name, sizedBundle(t, "cron", name, size)); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a", "b"} {
		if err := deployBundle(t, n, name, sizedBundle(t, "http", name, size)); err != nil {
			t.Fatal(err)
		}
	}
	request(t, n, "a")
	request(t, n, "b")
	if got, want := loadedApps(n), []string{"b", "p1", "p2"}; !slices.Equal(got, want) {
		t.Errorf("loaded %q, want %q", got, want)
	}
	if got, want := n.pool.loadedBytes(), 3*costOf(size); got != want {
		t.Errorf("%d bytes charged, want %d", got, want)
	}
}

// A component file shared by two components is charged once.
func TestLoadCost(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.wasm"), filepath.Join(dir, "b.wasm")
	if err := os.WriteFile(a, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, make([]byte, 3000), 0o644); err != nil {
		t.Fatal(err)
	}
	app := &lockedapp.LockedApp{Components: []lockedapp.Component{
		{ID: "x", Source: lockedapp.Source{Path: a}},
		{ID: "y", Source: lockedapp.Source{Path: b}},
		{ID: "z", Source: lockedapp.Source{Path: a}},
		{ID: "gone", Source: lockedapp.Source{Path: filepath.Join(dir, "missing.wasm")}},
	}}
	if got, want := loadCost(LoadSpec{App: app}), costPerWasmByte*4000; got != int64(want) {
		t.Errorf("loadCost = %d, want %d", got, want)
	}
}

// Unloads and deploys ask for memory to be returned; a burst of requests
// gets one collection at once and one more after reclaimInterval, no more.
func TestReclaimCoalesces(t *testing.T) {
	rt := &fakeRuntime{}
	n := openTestNode(t, t.TempDir(), rt, nil)
	var frees atomic.Int32
	n.pool.free = func() { frees.Add(1) }
	n.pool.reclaimEvery = time.Hour

	// Without Run nothing collects; the request waits.
	if err := deployBundle(t, n, "a", sizedBundle(t, "http", "a1", 1024)); err != nil {
		t.Fatal(err)
	}
	if len(n.pool.reclaim) != 1 {
		t.Error("a deploy's validation load did not ask for memory back")
	}
	<-n.pool.reclaim
	request(t, n, "a")
	if len(n.pool.reclaim) != 0 {
		t.Error("a load asked for memory back")
	}
	n.pool.reapOnce(time.Now().Add(time.Hour))
	if len(n.pool.reclaim) != 1 {
		t.Error("unloading an app did not ask for memory back")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.pool.reclaimLoop(ctx)
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for frees.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("reclaimLoop did not collect")
		}
		time.Sleep(time.Millisecond)
	}
	// Now waiting out the interval (an hour here): a burst coalesces into
	// the one pending request.
	for range 100 {
		n.pool.reclaimSoon()
	}
	if got := frees.Load(); got != 1 {
		t.Errorf("%d collections, want 1 within the interval", got)
	}
	if len(n.pool.reclaim) != 1 {
		t.Errorf("%d requests pending, want the burst coalesced into 1", len(n.pool.reclaim))
	}
	cancel()
	<-done
}
