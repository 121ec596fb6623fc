package platform

// The lifecycle of apps with event triggers, with a Runtime that records
// what the platform asks of it (the real runtime, with real Redis and
// MQTT, is tested in cmd/wisp/server_triggers_test.go).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// fakeRuntime records loads and closes as events "load <app> <rev-marker>"
// and "close <app> <rev-marker>"; the marker is the app's "v" variable.
type fakeRuntime struct {
	mu     sync.Mutex
	events []string
	fail   bool // loads with Triggers fail
}

type fakeLoaded struct {
	rt   *fakeRuntime
	name string
}

func (f *fakeLoaded) ServeHTTP(w http.ResponseWriter, r *http.Request) { io.WriteString(w, f.name) }

func (f *fakeLoaded) Close(context.Context) error {
	f.rt.record("close " + f.name)
	return nil
}

func (rt *fakeRuntime) record(e string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.events = append(rt.events, e)
}

func (rt *fakeRuntime) Events() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.events)
}

func (rt *fakeRuntime) Load(_ context.Context, spec LoadSpec) (Loaded, error) {
	if spec.ValidateOnly {
		return &fakeLoaded{rt: &fakeRuntime{}}, nil
	}
	rt.mu.Lock()
	fail := rt.fail && spec.Triggers
	rt.mu.Unlock()
	name := fmt.Sprintf("%s %s triggers=%v", spec.Name, spec.Variables["v"], spec.Triggers)
	if fail {
		rt.record("fail " + name)
		return nil, errors.New("cannot connect to the broker")
	}
	rt.record("load " + name)
	return &fakeLoaded{rt: rt, name: name}, nil
}

// testBundle packs an app with one component and the given trigger type.
func testBundle(t *testing.T, triggerType, v string) []byte {
	t.Helper()
	return bundleWith(t, triggerType, v, []byte("\x00asm\x01\x00\x00\x00"))
}

// bundleWith packs an app whose one component is code, with the given
// trigger type and the deployed variable v.
func bundleWith(t *testing.T, triggerType, v string, code []byte) []byte {
	t.Helper()
	src := filepath.Join(t.TempDir(), "c.wasm")
	if err := os.WriteFile(src, code, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	tr := lockedapp.Trigger{ID: "t", Type: triggerType, Component: "c", Config: map[string]any{"channel": "x"}}
	if triggerType == "http" {
		tr = lockedapp.Trigger{ID: "t", Type: "http", Component: "c", HTTP: &lockedapp.HTTPTrigger{Route: "/..."}}
	}
	app := &lockedapp.LockedApp{
		Version:    lockedapp.Version,
		Metadata:   lockedapp.Metadata{Name: "a"},
		Triggers:   []lockedapp.Trigger{tr},
		Components: []lockedapp.Component{{ID: "c", Source: lockedapp.Source{Path: src, Digest: "sha256:" + hex.EncodeToString(sum[:])}}},
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, app, map[string]string{"v": v}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func openTestNode(t *testing.T, dir string, rt Runtime, tweak func(*Config)) *Node {
	t.Helper()
	cfg := Config{DataDir: dir, Domain: "test", Runtime: rt, BootstrapToken: "wisp_x",
		Logger: slog.New(slog.DiscardHandler)}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

func deployBundle(t *testing.T, n *Node, name string, b []byte) error {
	t.Helper()
	_, err := n.Deploy(context.Background(), "admin", name, bytes.NewReader(b), nil)
	return err
}

func waitEvent(t *testing.T, rt *fakeRuntime, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(rt.Events(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no event %q in %q", want, rt.Events())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPinnedLifecycle(t *testing.T) {
	rt := &fakeRuntime{}
	dir := t.TempDir()
	n := openTestNode(t, dir, rt, func(c *Config) { c.MaxLoaded = 1 })

	// Deploy loads a listening app at once, with its triggers; an HTTP
	// app waits for its first request.
	if err := deployBundle(t, n, "sub", testBundle(t, "redis", "r1")); err != nil {
		t.Fatal(err)
	}
	if err := deployBundle(t, n, "web", testBundle(t, "http", "w1")); err != nil {
		t.Fatal(err)
	}
	if got, want := rt.Events(), []string{"load sub r1 triggers=true"}; !slices.Equal(got, want) {
		t.Fatalf("after deploys: %q, want %q", got, want)
	}

	// Neither the LRU budget (1, taken by web) nor idleness unloads it.
	e := n.apps["web"]
	if _, err := n.pool.acquire(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	e.live.Load().release()
	if n.pool.reapOnce(time.Now().Add(time.Hour)) != 1 {
		t.Error("the idle HTTP app was not reaped")
	}
	if !n.apps["sub"].loaded() || n.pool.loadedCount() != 1 {
		t.Errorf("the pinned app was unloaded (loaded: %d)", n.pool.loadedCount())
	}

	// Redeploy: the new revision loads before the old one closes.
	if err := deployBundle(t, n, "sub", testBundle(t, "redis", "r2")); err != nil {
		t.Fatal(err)
	}
	ev := rt.Events()
	if i, j := slices.Index(ev, "load sub r2 triggers=true"), slices.Index(ev, "close sub r1 triggers=true"); i < 0 || j < i {
		t.Errorf("redeploy events %q: want r2 loaded, then r1 closed", ev)
	}

	// A failing start fails the deploy; r2 stays.
	rt.mu.Lock()
	rt.fail = true
	rt.mu.Unlock()
	err := deployBundle(t, n, "sub", testBundle(t, "redis", "r3"))
	var perr *Error
	if !errors.As(err, &perr) || perr.Status != 400 {
		t.Errorf("deploy with failing triggers: %v, want a 400", err)
	}
	if slices.Contains(rt.Events(), "close sub r2 triggers=true") || n.apps["sub"].current().revision != 2 {
		t.Errorf("the failed deploy disturbed revision 2: %q", rt.Events())
	}
	rt.mu.Lock()
	rt.fail = false
	rt.mu.Unlock()

	// Redeploying it as an HTTP app unpins and unloads it.
	if err := deployBundle(t, n, "sub", testBundle(t, "http", "h4")); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rt.Events(), "close sub r2 triggers=true") || n.apps["sub"].loaded() {
		t.Errorf("after an HTTP redeploy: %q", rt.Events())
	}
	// Rolling back to revision 2 loads it with its triggers again.
	if _, err := n.Rollback("admin", "sub", 2); err != nil {
		t.Fatal(err)
	}
	if got := rt.Events(); got[len(got)-1] != "load sub r2 triggers=true" || !n.apps["sub"].loaded() {
		t.Errorf("after rollback: %q", got)
	}

	// Delete closes it.
	if err := n.DeleteApp("admin", "sub"); err != nil {
		t.Fatal(err)
	}
	if got := rt.Events(); got[len(got)-1] != "close sub r2 triggers=true" {
		t.Errorf("after delete: %q", got)
	}
}

func TestPinnedRestoreAndRetry(t *testing.T) {
	rt := &fakeRuntime{}
	dir := t.TempDir()
	n := openTestNode(t, dir, rt, nil)
	if err := deployBundle(t, n, "sub", testBundle(t, "mqtt", "m1")); err != nil {
		t.Fatal(err)
	}
	n.Close()
	if got := rt.Events(); got[len(got)-1] != "close sub m1 triggers=true" {
		t.Fatalf("after Close: %q", got)
	}

	// A node started while the broker is down retries until it is up.
	rt2 := &fakeRuntime{fail: true}
	n2 := openTestNode(t, dir, rt2, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n2.Run(ctx)
	waitEvent(t, rt2, "fail sub m1 triggers=true")
	rt2.mu.Lock()
	rt2.fail = false
	rt2.mu.Unlock()
	waitEvent(t, rt2, "load sub m1 triggers=true")
	if !n2.apps["sub"].loaded() {
		t.Error("restored app not loaded")
	}
	n2.Close()
	// A closed node loads nothing, even with Run still going.
	time.Sleep(3 * pinnedCheck)
	if got := rt2.Events(); got[len(got)-1] != "close sub m1 triggers=true" {
		t.Errorf("after the second Close: %q", got)
	}
}
