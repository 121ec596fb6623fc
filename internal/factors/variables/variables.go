// Package variables is the variables factor: spin:variables@3.0.0,
// fermyon:spin/variables@2.0.0 and wasi:config/store over
// internal/variables.Resolver. A component sees only its own component
// variables, rendered against the application variables; errors name
// variables, never values.
package variables

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	vars "github.com/wisp-dev/wisp/internal/variables"
)

// Name is the factor's name in a factor.Set.
const Name = "variables"

// Interface names.
const (
	SpinV3     = "spin:variables/variables@3.0.0"
	FermyonV2  = "fermyon:spin/variables@2.0.0"
	WASIConfig = "wasi:config/store@0.2.0-draft-2024-09-27"
)

// Factor is the variables factor. A variable's value comes from the first
// provider that has one, in Spin's order: the providers the composition
// root puts before the runtime config (--variable flags), those of the
// runtime config's [[config_provider]] entries in file order (see
// parseProviders), those it puts after (the environment, then .env), and
// finally the declared default.
type Factor struct {
	before, after []vars.Provider
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor consulting before, the runtime config's
// providers, then after.
func New(before []vars.Provider, after ...vars.Provider) *Factor {
	return &Factor{before: slices.Clone(before), after: slices.Clone(after)}
}

func (*Factor) Name() string   { return Name }
func (*Factor) Deps() []string { return nil }

// AppState is the factor's per-app state; other factors reach it with
// AppContext.Lookup(variables.Name) to render templates.
type AppState struct {
	resolver   *vars.Resolver
	components map[string][]string // component id → its variable names, sorted
}

var _ factor.AppState = (*AppState)(nil)

// Resolver returns the app's resolver.
func (s *AppState) Resolver() *vars.Resolver { return s.resolver }

// ConfigureApp builds the app's resolver and validates it: every required
// variable has a value and every component template is well-formed.
func (f *Factor) ConfigureApp(ctx context.Context, ac *factor.AppContext) (factor.AppState, error) {
	configured, err := parseProviders(ac)
	if err != nil {
		return nil, err
	}
	providers := slices.Concat(f.before, configured, f.after)
	r := vars.NewResolver(ac.App, providers...)
	if err := r.Validate(ctx); err != nil {
		return nil, err
	}
	s := &AppState{resolver: r, components: make(map[string][]string, len(ac.App.Components))}
	for _, c := range ac.App.Components {
		s.components[c.ID] = slices.Sorted(maps.Keys(c.Variables))
	}
	return s, nil
}

type ctxKey struct{}

type instance struct {
	state       *AppState
	componentID string
}

// Prepare records which component the instance runs.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	if _, ok := s.components[componentID]; !ok {
		return nil, errors.New("no such component in the app")
	}
	return context.WithValue(ctx, ctxKey{}, &instance{state: s, componentID: componentID}), nil
}

// Close does nothing: the resolver holds no resources.
func (*AppState) Close() error { return nil }

var errNotPrepared = errors.New("variables: host function called without per-instance state (App.Prepare was not called)")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// Error cases of spin:variables and fermyon:spin/variables (same order).
const (
	errInvalidName = iota
	errUndefined
	errProvider
	errOther
)

// errorCase maps a resolver error onto the WIT error variant. Resolver
// errors name variables and components, never values.
func errorCase(err error) cabi.Variant {
	var c uint32
	switch {
	case errors.Is(err, vars.ErrInvalidName):
		c = errInvalidName
	case errors.Is(err, vars.ErrUndefined):
		c = errUndefined
	case errors.Is(err, vars.ErrNoValue):
		c = errProvider
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		c = errOther
	default:
		c = errProvider // a provider failed to answer
	}
	return cabi.Variant{Case: c, Value: err.Error()}
}

func get(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	name, _ := args[0].(string)
	v, err := in.state.resolver.ComponentVariable(ctx, in.componentID, name)
	if err != nil {
		return []any{cabi.Err(errorCase(err))}, nil
	}
	return []any{cabi.Ok(v)}, nil
}

// wasi:config/store error cases.
const (
	cfgUpstream = iota
	cfgIO
)

func configGet(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	name, _ := args[0].(string)
	v, err := in.state.resolver.ComponentVariable(ctx, in.componentID, name)
	switch {
	case err == nil:
		return []any{cabi.Ok(cabi.Some(v))}, nil
	case errors.Is(err, vars.ErrInvalidName), errors.Is(err, vars.ErrUndefined):
		// As Spin: an unknown or invalid key is absent, not an error.
		return []any{cabi.Ok(cabi.None)}, nil
	default:
		return []any{cabi.Err(configError(err))}, nil
	}
}

func configError(err error) cabi.Variant {
	if errorCase(err).Case == errProvider {
		return cabi.Variant{Case: cfgUpstream, Value: err.Error()}
	}
	return cabi.Variant{Case: cfgIO, Value: err.Error()}
}

func configGetAll(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	names := in.state.components[in.componentID]
	out := make([]any, 0, len(names))
	for _, name := range names {
		v, err := in.state.resolver.ComponentVariable(ctx, in.componentID, name)
		if err != nil {
			return []any{cabi.Err(configError(err))}, nil
		}
		out = append(out, []any{name, v})
	}
	return []any{cabi.Ok(out)}, nil
}

// Interfaces implements spin:variables@3.0.0 (its async get, served
// synchronously), fermyon:spin/variables@2.0.0 and wasi:config/store.
func (*Factor) Interfaces() []component.Interface {
	return []component.Interface{
		{Name: SpinV3, Funcs: map[string]component.HostFunc{"get": get}},
		{Name: FermyonV2, Funcs: map[string]component.HostFunc{"get": get}},
		{Name: WASIConfig, Funcs: map[string]component.HostFunc{"get": configGet, "get-all": configGetAll}},
	}
}
