package factortest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// WAT assembles the WAT file at path and returns the module. Each
// vars entry K=V first replaces "{{K}}" with V and "{{K_LEN}}" with
// len(V) in the text, so a test can write addresses into a guest.
func WAT(t testing.TB, path string, vars map[string]string) []byte {
	t.Helper()
	if len(vars) > 0 {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("factortest: %v", err)
		}
		text := string(src)
		for k, v := range vars {
			text = strings.ReplaceAll(text, "{{"+k+"_LEN}}", strconv.Itoa(len(v)))
			text = strings.ReplaceAll(text, "{{"+k+"}}", v)
		}
		path = filepath.Join(t.TempDir(), filepath.Base(path))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatalf("factortest: %v", err)
		}
	}
	wasm, err := os.ReadFile(testguest.WAT(t, path))
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	return wasm
}

// Guest is a canonical-ABI core module loaded through component.LoadCore
// with a Set's interfaces in the Host, and the App that Set configured:
// the wiring cmd/wisp does. Everything is closed when the test ends.
type Guest struct {
	App *factor.App

	t    testing.TB
	core *component.Component
}

// NewGuest loads wasm with the interfaces of factors and configures ac's
// app with the same factors.
func NewGuest(t testing.TB, wasm []byte, ac *factor.AppContext, factors ...factor.Factor) *Guest {
	t.Helper()
	ctx := context.Background()
	set, err := factor.NewSet(factors...)
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	host, err := component.NewHost(set.Interfaces()...)
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	core, err := component.LoadCore(ctx, eng, wasm, host)
	if err != nil {
		t.Fatalf("factortest: LoadCore: %v", err)
	}
	t.Cleanup(func() { core.Close(ctx) })
	// Registered last, so the app closes before the module and engine.
	return &Guest{App: configure(t, set, ac), t: t, core: core}
}

// Run prepares componentID's context from ctx (App.Prepare) and calls
// the guest's wasi:cli/run in a fresh instance; it fails the test if the
// call traps or the guest reports failure.
func (g *Guest) Run(ctx context.Context, componentID string) {
	g.t.Helper()
	callCtx, err := g.App.Prepare(ctx, componentID)
	if err != nil {
		g.t.Fatalf("factortest: Prepare(%q): %v", componentID, err)
	}
	res, err := g.TryRun(callCtx)
	if err != nil {
		g.t.Fatalf("factortest: guest trapped: %v", err)
	}
	if r := res[0].(cabi.Result); r.IsErr {
		g.t.Fatal("guest reported failure")
	}
}

// TryRun calls the guest's wasi:cli/run in a fresh instance with ctx as
// it is (not prepared) and returns its results or the trap.
func (g *Guest) TryRun(ctx context.Context) ([]any, error) {
	g.t.Helper()
	inst, err := g.core.Instantiate(ctx)
	if err != nil {
		g.t.Fatalf("factortest: Instantiate: %v", err)
	}
	defer inst.Close(context.Background())
	return inst.Call(ctx, "wasi:cli/run@0.2.0", "run")
}
