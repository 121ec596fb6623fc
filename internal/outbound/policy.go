// Package outbound is the outbound networking policy every capability that
// reaches the network applies: the component's allowed_outbound_hosts and
// the operator's blocked networks, the latter checked on the addresses a
// connection actually goes to (after DNS resolution), so a name that
// resolves into a blocked network is refused whatever it is called.
//
// A policy may also carry the app's ConnLimit, which bounds how many
// outbound connections the app has open at once, so that one app cannot
// take the node's sockets from the others.
//
// The outbound-networking factor (internal/factors/outboundnet) builds one
// Policy per component and puts it in the context of each guest call;
// host functions take it with FromContext.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
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
	allowed *AllowedHosts
	blocked *BlockedNetworks
	conns   *ConnLimit // nil: unlimited
}

// NewPolicy parses allowed_outbound_hosts entries (templates already
// resolved) into a policy with no blocked networks.
func NewPolicy(allowed []string) (*Policy, error) {
	return NewPolicyBlocking(allowed, nil)
}

// NewPolicyBlocking is NewPolicy with the app's blocked networks (nil:
// none). Components of one app share one *BlockedNetworks.
func NewPolicyBlocking(allowed []string, blocked *BlockedNetworks) (*Policy, error) {
	a, err := ParseAllowedHosts(allowed)
	if err != nil {
		return nil, err
	}
	if blocked == nil {
		blocked = &BlockedNetworks{}
	}
	return &Policy{allowed: a, blocked: blocked}, nil
}

// WithConnLimit returns a copy of p whose dials take a slot of l (nil:
// unlimited). Components of one app share one *ConnLimit.
func (p *Policy) WithConnLimit(l *ConnLimit) *Policy {
	if p == nil {
		return nil
	}
	q := *p
	q.conns = l
	return &q
}

// ConnLimit returns the limit the policy dials under; nil when unlimited.
func (p *Policy) ConnLimit() *ConnLimit {
	if p == nil {
		return nil
	}
	return p.conns
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
	return fmt.Errorf("%s://%s: %w", scheme, net.JoinHostPort(host, strconv.Itoa(port)), ErrNotAllowed)
}

// AllowsURL is Spin's check_url: rawURL parsed as a URL, or as
// defaultScheme://rawURL when that yields no host ("example.com:6379").
func (p *Policy) AllowsURL(rawURL, defaultScheme string) bool {
	return p != nil && p.allowed.AllowsURL(rawURL, defaultScheme)
}

// AllowsRelative reports whether requests to the app itself ("self": a URL
// without authority, or the host self.alt) are allowed for one of schemes.
func (p *Policy) AllowsRelative(schemes ...string) bool {
	return p != nil && p.allowed.AllowsRelative(schemes...)
}

// Blocked returns the blocked networks the policy dials under (never nil
// for a non-nil policy). Clients that pool connections across components
// key their pools by Blocked().String(), so a connection dialed under one
// block list is never reused under another.
func (p *Policy) Blocked() *BlockedNetworks {
	if p == nil {
		return nil
	}
	return p.blocked
}

// DialContext connects to addr ("host:port") like net.Dialer.DialContext,
// refusing (ErrBlocked) any resolved address inside a blocked network. It
// does not check the allowlist: callers check the destination they were
// asked for first (Check/AllowsURL). Use it as the dialer of every client
// library (go-redis Dialer, pgx DialFunc, mysql RegisterDialContext, paho
// custom dialer, http.Transport.DialContext).
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return p.DialWith(ctx, &net.Dialer{}, network, addr)
}

// DialWith is DialContext with the settings of d (timeout, keep-alive);
// d itself is not modified. A Control or ControlContext function in d
// still runs, after the blocked-network check.
//
// Under a ConnLimit, the dial first takes a slot, waiting for one while
// ctx, the wait bound in ctx (WithWaitBound) and d's Timeout/Deadline
// allow (the timeout counts from the call, so it covers the wait and the
// connect together), and the connection returned holds the slot until it
// is closed. A dial refused for want of a slot fails with a *LimitError.
func (p *Policy) DialWith(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if p == nil {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrNotAllowed)
	}
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		// Unix sockets and raw IP would bypass the address check.
		return nil, fmt.Errorf("dial %s %s: network type not allowed: %w", network, addr, ErrNotAllowed)
	}
	dd := *d
	inner, innerCtx := d.Control, d.ControlContext
	// ControlContext runs for each address the dialer tries, after name
	// resolution and just before connect: the address checked is the one
	// connected to, so a name that resolves (or re-resolves) into a
	// blocked network is refused. When a name has several addresses, the
	// dialer moves on to the next one, as Spin drops blocked addresses and
	// connects to the rest.
	dd.Control = nil
	dd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := p.checkAddr(address); err != nil {
			return err
		}
		switch {
		case innerCtx != nil:
			return innerCtx(ctx, network, address, c)
		case inner != nil:
			return inner(network, address, c)
		}
		return nil
	}
	if p.conns == nil {
		return dd.DialContext(ctx, network, addr)
	}
	deadline := dialDeadline(d, time.Now())
	release, err := p.conns.acquire(ctx, deadline, addr)
	if err != nil {
		return nil, err
	}
	dd.Deadline = deadline
	c, err := dd.DialContext(ctx, network, addr)
	if err != nil {
		release()
		return nil, err
	}
	return holdSlot(c, release), nil
}

// checkAddr refuses address ("ip:port") if its IP is in a blocked network.
func (p *Policy) checkAddr(address string) error {
	if p.blocked.IsEmpty() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// The dialer always hands over a resolved ip:port; anything else
		// cannot be checked, so it is refused.
		return fmt.Errorf("connect to %s: unrecognised address: %w", address, ErrBlocked)
	}
	if p.blocked.Blocks(ap.Addr()) {
		return &BlockedError{Addr: ap}
	}
	return nil
}

// BlockedError is the error of a connection refused because its address is
// in a blocked network. It wraps ErrBlocked.
type BlockedError struct {
	Addr netip.AddrPort
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("connect to %s refused: the address is in a network blocked by the runtime config ([outbound_networking] block_networks)", e.Addr)
}

func (e *BlockedError) Unwrap() error { return ErrBlocked }

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
