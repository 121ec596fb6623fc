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
//	max_total_connections = 100
//	max_socket_connections = 10
//
// block_networks entries are CIDR networks or "private" (every address
// that is not globally routable; see outbound.BlockedNetworks). They
// apply to every component of the app, on the addresses connections
// actually go to, after DNS resolution.
//
// max_total_connections bounds the outbound connections the app has open
// at once, across all its components and instances and every capability
// that dials (one outbound.ConnLimit per app, as Spin's app-wide
// semaphore): further dials wait for one to close, within their connect
// timeout, then fail (see outbound.ConnLimit). 0 allows none; unset, the
// factor's default applies (NewWithLimits; New: unlimited, as Spin).
// max_socket_connections is Spin's limit on wasi:sockets connections:
// Wisp denies wasi:sockets, so it is checked and has nothing to limit.
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
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// Limits are what the factor applies when the runtime config says
// nothing.
type Limits struct {
	// MaxTotalConnections is each app's limit on open outbound
	// connections when max_total_connections is not set; 0 or less:
	// unlimited.
	MaxTotalConnections int
}

// New returns the factor without default limits (Spin's defaults).
func New() *Factor { return &Factor{} }

// NewWithLimits returns the factor with default limits l.
func NewWithLimits(l Limits) *Factor { return &Factor{limits: l} }

func (*Factor) Name() string { return Name }

// Deps: allowed_outbound_hosts templates are rendered with the variables
// factor's resolver.
func (*Factor) Deps() []string { return []string{variables.Name} }

// Interfaces is empty: the policy is applied by the factors that connect.
func (*Factor) Interfaces() []component.Interface { return nil }

// AppState holds every component's policy.
type AppState struct {
	blocked  *outbound.BlockedNetworks
	conns    *outbound.ConnLimit
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

// ConnLimit returns the app's limit on open outbound connections, shared
// by all its components' policies; nil when unlimited.
func (s *AppState) ConnLimit() *outbound.ConnLimit { return s.conns }

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
	cfg, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	blocked := cfg.blocked
	maxConns := f.limits.MaxTotalConnections
	if cfg.maxTotal != nil {
		maxConns = *cfg.maxTotal
	} else if maxConns <= 0 {
		maxConns = -1
	}
	var conns *outbound.ConnLimit
	if maxConns >= 0 {
		conns = outbound.NewConnLimit(maxConns)
	}
	st, ok := ac.Lookup(variables.Name)
	if !ok {
		return nil, fmt.Errorf("the %q factor must come before %q", variables.Name, Name)
	}
	vs, ok := st.(*variables.AppState)
	if !ok {
		return nil, fmt.Errorf("the %q factor's state is %T, not *variables.AppState", variables.Name, st)
	}
	s := &AppState{blocked: blocked, conns: conns, policies: make(map[string]*outbound.Policy, len(ac.App.Components))}
	var errs []error
	for i := range ac.App.Components {
		c := &ac.App.Components[i]
		p, err := f.policy(ctx, ac.App, vs, c, blocked)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.policies[c.ID] = p.WithConnLimit(conns)
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

// config is the [outbound_networking] section.
type config struct {
	blocked  *outbound.BlockedNetworks
	maxTotal *int // nil: not set
}

// parseConfig takes [outbound_networking] strictly.
func parseConfig(ac *factor.AppContext) (config, error) {
	raw, ok := ac.RuntimeConfig.Take(Section)
	if !ok {
		b, err := outbound.ParseBlockedNetworks(nil)
		return config{blocked: b}, err
	}
	where := "runtime config: [" + Section + "]"
	t, ok := raw.(map[string]any)
	if !ok {
		return config{}, fmt.Errorf("%s must be a table", where)
	}
	var cfg config
	var entries []string
	for _, key := range slices.Sorted(maps.Keys(t)) {
		switch key {
		case "block_networks":
			list, ok := t[key].([]any)
			if !ok {
				return config{}, fmt.Errorf("%s: block_networks must be a list of strings", where)
			}
			for _, v := range list {
				s, ok := v.(string)
				if !ok {
					return config{}, fmt.Errorf("%s: block_networks must be a list of strings", where)
				}
				entries = append(entries, s)
			}
		case "max_total_connections", "max_socket_connections":
			n, err := connCount(t[key])
			if err != nil {
				return config{}, fmt.Errorf("%s: %s %w", where, key, err)
			}
			if key == "max_total_connections" {
				cfg.maxTotal = &n
			}
		default:
			return config{}, fmt.Errorf("%s: unknown field %q (expected block_networks, max_total_connections or max_socket_connections)", where, key)
		}
	}
	b, err := outbound.ParseBlockedNetworks(entries)
	if err != nil {
		return config{}, fmt.Errorf("%s: %w", where, err)
	}
	cfg.blocked = b
	return cfg, nil
}

// maxConnCount bounds connection limits: more would only mean unlimited,
// and a slot table that large is memory for nothing.
const maxConnCount = 1 << 20

// connCount checks a connection-count setting (a TOML integer).
func connCount(v any) (int, error) {
	n, ok := v.(int64)
	if !ok || n < 0 || n > maxConnCount {
		return 0, fmt.Errorf("must be a whole number from 0 to %d", maxConnCount)
	}
	return int(n), nil
}
