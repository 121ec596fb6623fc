package component_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/wasi"
	host "github.com/wisp-dev/wisp/internal/wasihttp"
)

// TestGoSDKSnapshot: a Go SDK reactor is initialised once, at load time
// (LoadCore snapshots _initialize), and every request still gets a fresh
// instance: nothing a request writes is visible to the next, the
// component's environment reaches the handler per request (while
// initialisation saw none), and crypto/rand differs per request. The Go
// runtime's own generator (math/rand) is seeded during initialisation and
// so repeats across instances of one snapshot: the documented limit.
func TestGoSDKSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles a standard-Go module")
	}
	const guest = "internal/component/testdata/snapguest"
	ctx := context.Background()
	wasm, err := os.ReadFile(buildGoSDKGuest(t, guest))
	if err != nil {
		t.Fatal(err)
	}
	h, err := component.NewHost(append(wasi.Interfaces(), host.Interfaces()...)...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	comp, err := component.LoadCore(ctx, eng, wasm, h)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := comp.Snapshotted()
	comp.Close(ctx)
	if !ok {
		t.Fatalf("Go SDK module not snapshotted: %v", err)
	}

	base, _ := goSDKServer(t, guest, map[string]string{"FOO": "bar"})
	client := &http.Client{Timeout: 60 * time.Second}
	seen := map[string]bool{}
	var maths []string
	for range 4 {
		r, err := sdkDo(client, "GET", base+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 {
			t.Fatalf("status %d: %q", r.status, r.body)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			got[k] = v
		}
		for k, want := range map[string]string{"requests": "1", "env": "bar", "initenv": ""} {
			if got[k] != want {
				t.Errorf("%s = %q, want %q (body %q)", k, got[k], want, r.body)
			}
		}
		if seen[got["crypto"]] {
			t.Errorf("crypto/rand repeated across requests: %s", got["crypto"])
		}
		seen[got["crypto"]] = true
		maths = append(maths, got["math"])
	}
	t.Logf("math/rand/v2.Uint64 per request (repeats by design): %v", maths)
}
