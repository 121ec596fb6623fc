// Package outboundnet is the outbound-networking factor: it turns each
// component's allowed_outbound_hosts (templates rendered with the app's
// variables) and the operator's blocked networks into one
// *outbound.Policy per component, and puts it in the context of every
// guest call (outbound.FromContext). It has no host functions of its own;
// the capabilities that reach the network (wasi:http, redis, postgres,
// mysql, mqtt, …) apply the policy.
//
// Runtime config, as Spin's:
//
//	[outbound_networking]
//	block_networks = ["1.2.3.0/24", "private"]
//
// block_networks entries are CIDR networks or "private" (every address
// that is not globally routable; see outbound.BlockedNetworks). They
// apply to every component of the app, on the addresses connections
// actually go to, after DNS resolution.
package outboundnet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Name is the factor's name in a factor.Set.
const Name = "outbound-networking"

// Section is the runtime-config section the factor takes.
const Section = "outbound_networking"

// Factor is the outbound-networking factor.
type Factor struct{}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor.
func New() *Factor { return &Factor{} }

func (*Factor) Name() string { return Name }

// Deps: allowed_outbound_hosts templates are rendered with the variables
// factor's resolver.
func (*Factor) Deps() []string { return []string{variables.Name} }

// Interfaces is empty: the policy is applied by the factors that connect.
func (*Factor) Interfaces() []component.Interface { return nil }

// AppState holds every component's policy.
type AppState struct {
	blocked  *outbound.BlockedNetworks
	policies map[string]*outbound.Policy
}

var _ factor.AppState = (*AppState)(nil)

// Policy returns component componentID's policy; nil (deny everything) for
// an unknown component.
func (s *AppState) Policy(componentID string) *outbound.Policy {
	return s.policies[componentID]
}

// Blocked returns the app's blocked networks.
func (s *AppState) Blocked() *outbound.BlockedNetworks { return s.blocked }

// Prepare puts the component's policy in ctx.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	p, ok := s.policies[componentID]
	if !ok {
		return nil, errors.New("no such component in the app")
	}
	return outbound.WithPolicy(ctx, p), nil
}

// Close does nothing: policies hold no resources.
func (*AppState) Close() error { return nil }

// ConfigureApp reads [outbound_networking] and builds each component's
// policy. Errors name the component and the allowed_outbound_hosts entry.
func (f *Factor) ConfigureApp(ctx context.Context, ac *factor.AppContext) (factor.AppState, error) {
	blocked, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	st, ok := ac.Lookup(variables.Name)
	if !ok {
		return nil, fmt.Errorf("the %q factor must come before %q", variables.Name, Name)
	}
	vs, ok := st.(*variables.AppState)
	if !ok {
		return nil, fmt.Errorf("the %q factor's state is %T, not *variables.AppState", variables.Name, st)
	}
	s := &AppState{blocked: blocked, policies: make(map[string]*outbound.Policy, len(ac.App.Components))}
	var errs []error
	for i := range ac.App.Components {
		c := &ac.App.Components[i]
		p, err := f.policy(ctx, ac.App, vs, c, blocked)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.policies[c.ID] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// policy renders and parses component c's allowed_outbound_hosts.
func (f *Factor) policy(ctx context.Context, app *lockedapp.LockedApp, vs *variables.AppState, c *lockedapp.Component, blocked *outbound.BlockedNetworks) (*outbound.Policy, error) {
	var resolved []string
	for _, entry := range c.AllowedOutboundHosts {
		tmpl, err := manifest.ParseTemplate(entry)
		if err != nil {
			return nil, fmt.Errorf("component %q: allowed_outbound_hosts entry %q: %w", c.ID, entry, err)
		}
		if tmpl.IsLiteral() {
			if _, err := outbound.ParseAllowedHosts([]string{entry}); err != nil {
				return nil, fmt.Errorf("component %q: %w", c.ID, err)
			}
			resolved = append(resolved, entry)
			continue
		}
		h, err := vs.Resolver().ResolveTemplate(ctx, c.ID, entry)
		if err != nil {
			// The resolver's errors name variables, never values.
			return nil, fmt.Errorf("allowed_outbound_hosts entry %q: %w", entry, err)
		}
		// As Spin (PartialAllowedHostConfig::parse_or_skip): a template
		// that renders empty is an optional endpoint left unset.
		if h == "" || h == "http://" || h == "https://" {
			continue
		}
		if _, err := outbound.ParseAllowedHosts([]string{h}); err != nil {
			if secret(app, tmpl) {
				// The rendered entry holds a secret: name the template only.
				return nil, fmt.Errorf("component %q: allowed_outbound_hosts entry %q renders to an invalid entry (not shown: it uses a secret variable)", c.ID, entry)
			}
			return nil, fmt.Errorf("component %q: allowed_outbound_hosts entry %q renders to an invalid entry: %w", c.ID, entry, err)
		}
		resolved = append(resolved, h)
	}
	p, err := outbound.NewPolicyBlocking(resolved, blocked)
	if err != nil {
		return nil, fmt.Errorf("component %q: %w", c.ID, err)
	}
	return p, nil
}

// secret reports whether tmpl uses a secret application variable.
func secret(app *lockedapp.LockedApp, tmpl manifest.Template) bool {
	for _, name := range tmpl.Vars() {
		if app.Variables[name].Secret {
			return true
		}
	}
	return false
}

// parseConfig takes [outbound_networking] strictly.
func parseConfig(ac *factor.AppContext) (*outbound.BlockedNetworks, error) {
	raw, ok := ac.RuntimeConfig.Take(Section)
	if !ok {
		return outbound.ParseBlockedNetworks(nil)
	}
	where := "runtime config: [" + Section + "]"
	t, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s must be a table", where)
	}
	var entries []string
	for _, key := range slices.Sorted(maps.Keys(t)) {
		switch key {
		case "block_networks":
			list, ok := t[key].([]any)
			if !ok {
				return nil, fmt.Errorf("%s: block_networks must be a list of strings", where)
			}
			for _, v := range list {
				s, ok := v.(string)
				if !ok {
					return nil, fmt.Errorf("%s: block_networks must be a list of strings", where)
				}
				entries = append(entries, s)
			}
		case "max_socket_connections", "max_total_connections":
			// Spin's connection limits: refusing them is better than
			// letting an operator believe they apply.
			return nil, fmt.Errorf("%s: %s is not supported by Wisp yet: remove it", where, key)
		default:
			return nil, fmt.Errorf("%s: unknown field %q (expected block_networks)", where, key)
		}
	}
	b, err := outbound.ParseBlockedNetworks(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return b, nil
}
