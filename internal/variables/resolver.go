// Package variables resolves application variables at run time.
//
// A LockedApp declares variables (with defaults, required, secret) but never
// carries their values: values come from an ordered list of Providers
// (in Spin's order: --variable flags, the runtime config's providers such
// as Vault, the environment, a .env file), the first provider with a value
// winning, then the declared default. Component variables are templates
// over application variables ("Bearer {{ token }}").
//
// Errors name variables, never values: a secret must not leak into logs.
package variables

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Sentinel errors, so that host functions can map failures onto the error
// cases of the spin:variables interface (invalid-name, undefined, provider).
var (
	// ErrInvalidName: the name is not a valid variable name.
	ErrInvalidName = errors.New("invalid variable name")
	// ErrUndefined: no such application or component variable.
	ErrUndefined = errors.New("undefined variable")
	// ErrNoValue: the variable is declared but no provider has a value and
	// there is no default.
	ErrNoValue = errors.New("variable has no value")
)

// Resolver answers variable lookups for one application. It holds no
// mutable state, so it is safe for concurrent use; providers must be too.
type Resolver struct {
	vars map[string]lockedapp.Variable
	// components maps component id → component variable name → template.
	components map[string]map[string]string
	providers  []Provider
}

// NewResolver returns a resolver for app's variables, consulting providers
// in order.
func NewResolver(app *lockedapp.LockedApp, providers ...Provider) *Resolver {
	r := &Resolver{
		vars:       maps.Clone(app.Variables),
		components: make(map[string]map[string]string, len(app.Components)),
		providers:  slices.Clone(providers),
	}
	for _, c := range app.Components {
		r.components[c.ID] = maps.Clone(c.Variables)
	}
	return r
}

// Validate checks, before the app serves anything, that every variable
// without a default has a value from some provider and that every
// component template is well-formed and names declared variables. All
// problems are reported, one per line.
func (r *Resolver) Validate(ctx context.Context) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.vars)) {
		if !r.needsValue(name) {
			continue
		}
		if _, ok, err := r.fromProviders(ctx, name); err != nil {
			errs = append(errs, err)
		} else if !ok {
			errs = append(errs, noValueError(name))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(r.components)) {
		vars := r.components[id]
		for _, name := range slices.Sorted(maps.Keys(vars)) {
			if _, err := r.parse(vars[name]); err != nil {
				errs = append(errs, fmt.Errorf("component %q: variable %q: %w", id, name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// needsValue reports whether name must come from a provider. Spin treats
// a variable without a default as required, whatever `required` says.
func (r *Resolver) needsValue(name string) bool {
	v := r.vars[name]
	return v.Required || v.Default == nil
}

// Get returns the value of the application variable name.
func (r *Resolver) Get(ctx context.Context, name string) (string, error) {
	v, declared := r.vars[name]
	if !declared {
		return "", fmt.Errorf("%w: no application variable %q is declared in [variables]", ErrUndefined, name)
	}
	if val, ok, err := r.fromProviders(ctx, name); err != nil || ok {
		return val, err
	}
	if v.Default != nil && !v.Required {
		return *v.Default, nil
	}
	return "", noValueError(name)
}

func (r *Resolver) fromProviders(ctx context.Context, name string) (string, bool, error) {
	for _, p := range r.providers {
		val, ok, err := p.Get(ctx, name)
		if err != nil {
			// The provider's error is wrapped as is: providers promise not
			// to put values in their errors.
			return "", false, fmt.Errorf("variable %q: provider failed: %w", name, err)
		}
		if ok {
			return val, true, nil
		}
	}
	return "", false, nil
}

func noValueError(name string) error {
	return fmt.Errorf("%w: variable %q is required but has no value: set it with --variable %s=... or %s",
		ErrNoValue, name, name, EnvName(DefaultEnvPrefix, name))
}

// ComponentVariable returns the value of the variable name of component
// componentID: its template rendered against the application variables.
// This is what a guest's variables.get(name) answers.
func (r *Resolver) ComponentVariable(ctx context.Context, componentID, name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	vars, ok := r.components[componentID]
	if !ok {
		return "", fmt.Errorf("%w: no component %q", ErrUndefined, componentID)
	}
	tmpl, ok := vars[name]
	if !ok {
		return "", fmt.Errorf("%w: component %q has no variable %q: add it to [component.%s.variables]", ErrUndefined, componentID, name, componentID)
	}
	v, err := r.render(ctx, tmpl)
	if err != nil {
		return "", fmt.Errorf("component %q: variable %q: %w", componentID, name, err)
	}
	return v, nil
}

// ResolveTemplate renders tmpl, a manifest value of componentID such as an
// allowed_outbound_hosts entry. As in Spin, its {{ expressions }} name
// application variables (component variables are the guest's view, not the
// manifest's); componentID scopes the check and the error messages.
func (r *Resolver) ResolveTemplate(ctx context.Context, componentID, tmpl string) (string, error) {
	if _, ok := r.components[componentID]; !ok {
		return "", fmt.Errorf("%w: no component %q", ErrUndefined, componentID)
	}
	v, err := r.render(ctx, tmpl)
	if err != nil {
		return "", fmt.Errorf("component %q: template %q: %w", componentID, tmpl, err)
	}
	return v, nil
}

// parse parses tmpl and checks that it names only declared variables.
func (r *Resolver) parse(tmpl string) (manifest.Template, error) {
	t, err := manifest.ParseTemplate(tmpl)
	if err != nil {
		return t, err
	}
	for _, name := range t.Vars() {
		if _, ok := r.vars[name]; !ok {
			return t, fmt.Errorf("%w: template refers to %q, which is not declared in [variables]", ErrUndefined, name)
		}
	}
	return t, nil
}

// render never puts the rendered text in an error: the text may contain a
// secret.
func (r *Resolver) render(ctx context.Context, tmpl string) (string, error) {
	t, err := r.parse(tmpl)
	if err != nil {
		return "", err
	}
	return t.Render(func(name string) (string, error) { return r.Get(ctx, name) })
}

// ValidName checks a variable name by Spin's rules, which keep names
// mappable to environment variables and file names: lower-case ASCII
// letters, digits and single underscores, starting with a letter and not
// ending with an underscore.
func ValidName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidName, name, why) }
	switch {
	case name == "":
		return bad("must not be empty")
	case strings.IndexFunc(name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')
	}) >= 0:
		return bad("only lower-case letters, digits and underscores are allowed")
	case name[0] < 'a' || name[0] > 'z':
		return bad("must start with a lower-case letter")
	case name[len(name)-1] == '_':
		return bad("must not end with an underscore")
	case strings.Contains(name, "__"):
		return bad("must not contain consecutive underscores")
	}
	return nil
}
