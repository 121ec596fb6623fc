// Package factortest helps test factors without a guest: it builds an
// AppContext from a small LockedApp and runtime-config text, configures
// factors, and calls their host functions directly with arguments in the
// canonical-ABI Go representation (internal/component/cabi).
package factortest

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// NewApp returns a LockedApp named "test" holding components.
func NewApp(components ...lockedapp.Component) *lockedapp.LockedApp {
	return &lockedapp.LockedApp{
		Version:    lockedapp.Version,
		Metadata:   lockedapp.Metadata{Name: "test"},
		Components: components,
	}
}

// NewAppContext returns an AppContext for app with the runtime config
// parsed from runtimeConfig (TOML text, "" for none) and a fresh state
// directory under t.TempDir().
func NewAppContext(t testing.TB, app *lockedapp.LockedApp, runtimeConfig string) *factor.AppContext {
	t.Helper()
	rc, err := runtimeconfig.Parse([]byte(runtimeConfig), "runtime-config.toml")
	if err != nil {
		t.Fatalf("factortest: runtime config: %v", err)
	}
	dir := t.TempDir()
	return &factor.AppContext{App: app, RuntimeConfig: rc, StateDir: dir, BaseDir: dir}
}

// Configure builds a Set of factors, configures ac's app and closes it
// when the test ends.
func Configure(t testing.TB, ac *factor.AppContext, factors ...factor.Factor) *factor.App {
	t.Helper()
	set, err := factor.NewSet(factors...)
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	return configure(t, set, ac)
}

// configure is Configure for a Set already built.
func configure(t testing.TB, set *factor.Set, ac *factor.AppContext) *factor.App {
	t.Helper()
	app, err := set.ConfigureApp(context.Background(), ac)
	if err != nil {
		t.Fatalf("factortest: ConfigureApp: %v", err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("factortest: Close: %v", err)
		}
	})
	return app
}

// Prepare is App.Prepare failing the test on error.
func Prepare(t testing.TB, app *factor.App, componentID string) context.Context {
	t.Helper()
	ctx, err := app.Prepare(context.Background(), componentID)
	if err != nil {
		t.Fatalf("factortest: Prepare(%q): %v", componentID, err)
	}
	return ctx
}

// Func returns the implementation of function fn of interface iface among
// ifaces, after checking that ifaces bind to their WIT definitions (as
// component.NewHost does). It fails the test if there is none.
func Func(t testing.TB, ifaces []component.Interface, iface, fn string) component.HostFunc {
	t.Helper()
	if _, err := component.NewHost(ifaces...); err != nil {
		t.Fatalf("factortest: %v", err)
	}
	for _, i := range ifaces {
		if i.Name != iface {
			continue
		}
		if f := i.Funcs[fn]; f != nil {
			return f
		}
	}
	t.Fatalf("factortest: no host function %s#%s", iface, fn)
	return nil
}

// Call calls function fn of interface iface with args and returns its
// results; a Go error (a trap) fails the test.
func Call(t testing.TB, ctx context.Context, ifaces []component.Interface, iface, fn string, args ...any) []any {
	t.Helper()
	res, err := TryCall(t, ctx, ifaces, iface, fn, args...)
	if err != nil {
		t.Fatalf("factortest: %s#%s trapped: %v", iface, fn, err)
	}
	return res
}

// TryCall is Call returning the trap instead of failing.
func TryCall(t testing.TB, ctx context.Context, ifaces []component.Interface, iface, fn string, args ...any) ([]any, error) {
	t.Helper()
	return Func(t, ifaces, iface, fn)(ctx, &component.Call{}, args)
}

// ConfigureErr is the error configuring ac's app with factors returns:
// for tests of what ConfigureApp rejects. An app that configures is
// closed.
func ConfigureErr(t testing.TB, ac *factor.AppContext, factors ...factor.Factor) error {
	t.Helper()
	set, err := factor.NewSet(factors...)
	if err != nil {
		t.Fatalf("factortest: %v", err)
	}
	app, err := set.ConfigureApp(context.Background(), ac)
	if err == nil {
		app.Close()
	}
	return err
}
