// Package factor is the host-capability framework: a Factor is one
// capability (key-value, variables, outbound HTTP, …), self-contained as in
// Spin's factors. It owns its runtime-config sections, validates an app's
// use of it once at load time, opens its backends, builds per-instance
// state and provides the host functions that read that state.
//
// Lifecycle:
//
//	Set.Interfaces()     once per process: bound into the component Host
//	Set.ConfigureApp()   once per app: take runtime config, validate, open
//	App.Prepare()        once per instance: what this component may reach,
//	                     carried to host functions in the context
//	App.Close()          once per app: release backends
//
// A Set is an ordered slice of factors; a factor may depend on factors
// earlier in the slice and reach their per-app state by name through
// AppContext.Lookup. Nothing here is generic machinery.
package factor

import (
	"context"
	"errors"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// Factor is one host capability.
type Factor interface {
	// Name identifies the factor in a Set and in Lookup ("variables",
	// "key-value"). Unique within a Set.
	Name() string
	// Deps names the factors whose AppState this one looks up; they must
	// come earlier in the Set.
	Deps() []string
	// Interfaces are the host interfaces this factor implements. Their
	// functions find per-instance state in the context that App.Prepare
	// returned.
	Interfaces() []component.Interface
	// ConfigureApp is called once per app: it takes the factor's
	// runtime-config sections, validates the app's use of the capability
	// (errors name the component and the offending item) and, unless
	// ac.ValidateOnly, opens backends. On error it must release whatever it
	// opened.
	ConfigureApp(ctx context.Context, ac *AppContext) (AppState, error)
}

// AppState is a factor's per-app state.
type AppState interface {
	// Prepare returns ctx carrying what component componentID may reach
	// through this factor. It is called before each guest call into a
	// fresh instance and must be cheap.
	Prepare(ctx context.Context, componentID string) (context.Context, error)
	// Close releases the app's backends.
	Close() error
}

// AppContext is what factors see while configuring an app.
type AppContext struct {
	// App is the application being configured.
	App *lockedapp.LockedApp
	// RuntimeConfig holds the operator's runtime config; factors Take
	// their sections. Never nil after Set.ConfigureApp starts.
	RuntimeConfig *runtimeconfig.Config
	// StateDir is where factors keep the app's state (the default
	// key-value store). "" means no persistent state: in-memory backends.
	StateDir string
	// BaseDir resolves relative paths in the runtime config (the runtime
	// config file's directory); "" means the working directory.
	BaseDir string
	// ValidateOnly asks factors to validate without opening backends
	// (wisp doctor). The returned AppState is only closed.
	ValidateOnly bool

	states map[string]AppState
}

// Lookup returns the AppState of a factor configured earlier in the Set.
// Factors call it in ConfigureApp for their declared dependencies and
// type-assert the result to the dependency's exported state type.
func (ac *AppContext) Lookup(name string) (AppState, bool) {
	s, ok := ac.states[name]
	return s, ok
}

// Set is an ordered set of factors.
type Set struct {
	factors []Factor
}

// NewSet checks that names are unique and non-empty and that every
// dependency comes earlier, and returns the set.
func NewSet(factors ...Factor) (*Set, error) {
	seen := make(map[string]bool, len(factors))
	for i, f := range factors {
		if f == nil {
			return nil, fmt.Errorf("factor: factor %d is nil", i)
		}
		name := f.Name()
		if name == "" {
			return nil, fmt.Errorf("factor: factor %d (%T) has no name", i, f)
		}
		if seen[name] {
			return nil, fmt.Errorf("factor: %q appears twice", name)
		}
		for _, d := range f.Deps() {
			if !seen[d] {
				return nil, fmt.Errorf("factor: %q depends on %q, which must come earlier in the set", name, d)
			}
		}
		seen[name] = true
	}
	return &Set{factors: append([]Factor(nil), factors...)}, nil
}

// Factors returns the factors in order.
func (s *Set) Factors() []Factor { return append([]Factor(nil), s.factors...) }

// Interfaces returns every factor's host interfaces, in set order, for
// component.NewHost.
func (s *Set) Interfaces() []component.Interface {
	var out []component.Interface
	for _, f := range s.factors {
		out = append(out, f.Interfaces()...)
	}
	return out
}

// ConfigureApp configures every factor for the app in order, then checks
// that every runtime-config section was taken by some factor. On error,
// the factors already configured are closed.
func (s *Set) ConfigureApp(ctx context.Context, ac *AppContext) (_ *App, err error) {
	if ac == nil || ac.App == nil {
		return nil, errors.New("factor: ConfigureApp needs an app")
	}
	if ac.RuntimeConfig == nil {
		ac.RuntimeConfig = runtimeconfig.Empty()
	}
	ac.states = make(map[string]AppState, len(s.factors))
	app := &App{}
	defer func() {
		if err != nil {
			app.Close() // the configuration error is what matters
		}
	}()
	for _, f := range s.factors {
		st, err := f.ConfigureApp(ctx, ac)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		if st == nil {
			return nil, fmt.Errorf("%s: ConfigureApp returned no state", f.Name())
		}
		ac.states[f.Name()] = st
		app.names = append(app.names, f.Name())
		app.states = append(app.states, st)
	}
	if err := ac.RuntimeConfig.CheckAllTaken(); err != nil {
		return nil, err
	}
	return app, nil
}

// App is a set of factors configured for one application. Safe for
// concurrent Prepare calls.
type App struct {
	names  []string
	states []AppState
}

// Prepare applies every factor's per-instance state for component
// componentID to ctx, in set order. Call it before each guest call and
// pass the returned context to component.Instance.Call.
func (a *App) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	for i, st := range a.states {
		var err error
		if ctx, err = st.Prepare(ctx, componentID); err != nil {
			return nil, fmt.Errorf("%s: component %q: %w", a.names[i], componentID, err)
		}
	}
	return ctx, nil
}

// State returns the per-app state of factor name.
func (a *App) State(name string) (AppState, bool) {
	for i, n := range a.names {
		if n == name {
			return a.states[i], true
		}
	}
	return nil, false
}

// Close closes every factor's state in reverse order and joins the errors.
func (a *App) Close() error {
	if a == nil {
		return nil
	}
	var errs []error
	for i := len(a.states) - 1; i >= 0; i-- {
		if err := a.states[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.names[i], err))
		}
	}
	a.states, a.names = nil, nil
	return errors.Join(errs...)
}
