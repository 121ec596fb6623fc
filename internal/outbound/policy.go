// Package outbound is the outbound networking policy every capability that
// reaches the network applies: the component's allowed_outbound_hosts and
// the operator's blocked networks, the latter checked on the addresses a
// connection actually goes to (after DNS resolution), so a name that
// resolves into a blocked network is refused whatever it is called.
//
// STUB: the API below is fixed; the implementation is being completed
// (allowlist moved here from wasihttp, block_networks, the factor).
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/wisp-dev/wisp/internal/wasihttp"
)

// ErrNotAllowed is wrapped by errors for destinations outside the
// component's allowed_outbound_hosts.
var ErrNotAllowed = errors.New("destination not allowed by allowed_outbound_hosts")

// ErrBlocked is wrapped by errors for connections to an address in a
// blocked network.
var ErrBlocked = errors.New("destination address is in a blocked network")

// Policy is one component's outbound policy. A nil *Policy denies
// everything. Safe for concurrent use.
type Policy struct {
	allowed *wasihttp.AllowedHosts
}

// Allows reports whether scheme://host:port is in the allowlist. port 0
// means the scheme's default port.
func (p *Policy) Allows(scheme, host string, port int) bool {
	return p != nil && p.allowed.Allows(scheme, host, port)
}

// Check is Allows returning an error that wraps ErrNotAllowed and names
// the destination.
func (p *Policy) Check(scheme, host string, port int) error {
	if p.Allows(scheme, host, port) {
		return nil
	}
	return fmt.Errorf("%s://%s: %w", scheme, net.JoinHostPort(host, fmt.Sprint(port)), ErrNotAllowed)
}

// AllowsURL is Spin's check_url: rawURL parsed as a URL, or as
// defaultScheme://rawURL when that yields no host ("example.com:6379").
func (p *Policy) AllowsURL(rawURL, defaultScheme string) bool {
	return p != nil && p.allowed.AllowsURL(rawURL, defaultScheme)
}

// DialContext connects to addr ("host:port") like net.Dialer.DialContext,
// refusing (ErrBlocked) any resolved address inside a blocked network. It
// does not check the allowlist: callers check the destination they were
// asked for first (Check/AllowsURL). Use it as the dialer of every client
// library (go-redis Dialer, pgx DialFunc, mysql RegisterDialContext, paho
// custom dialer, http.Transport.DialContext).
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if p == nil {
		return nil, ErrNotAllowed
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

type ctxKey struct{}

// WithPolicy returns ctx carrying p for host functions of the instance.
func WithPolicy(ctx context.Context, p *Policy) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the policy in ctx, nil (deny everything) if none.
func FromContext(ctx context.Context) *Policy {
	p, _ := ctx.Value(ctxKey{}).(*Policy)
	return p
}

// NewPolicy parses allowed_outbound_hosts entries (templates already
// resolved) into a policy with no blocked networks.
func NewPolicy(allowed []string) (*Policy, error) {
	a, err := wasihttp.ParseAllowedHosts(allowed)
	if err != nil {
		return nil, err
	}
	return &Policy{allowed: a}, nil
}
