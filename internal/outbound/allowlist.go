package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// This file is Spin's allowed_outbound_hosts grammar and matching
// (crates/outbound-networking-config/src/allowed_hosts.rs). Templates are
// resolved before entries get here (the outbound-networking factor renders
// them with the app's variables).

// ServiceChainingSuffix is the domain of Spin's local service chaining:
// http://<component-id>.spin.internal reaches a component in-process. It
// is an ordinary host to the allowlist ("http://*.spin.internal" grants
// every component, "http://backend.spin.internal" one).
const ServiceChainingSuffix = ".spin.internal"

// AllowedHosts is a parsed allowed_outbound_hosts list. The zero value
// (and nil) allows nothing.
type AllowedHosts struct {
	entries []allowedHost
}

type allowedHost struct {
	original  string
	anyScheme bool
	scheme    string
	host      hostPattern
	anyPort   bool
	ports     []portRange // [lo, hi) as Spin's Rust ranges
}

type hostKind uint8

const (
	hostAny       hostKind = iota + 1 // *
	hostSubdomain                     // *.example.com
	hostSelf                          // self, self.alt
	hostLiteral                       // example.com, 10.0.0.1, [::1]
	hostCIDR                          // 10.0.0.0/8
)

type hostPattern struct {
	kind   hostKind
	domain string // lower-case; with a leading "." for hostSubdomain
	addr   netip.Addr
	prefix netip.Prefix
}

type portRange struct{ lo, hi int }

// ParseAllowedHosts parses allowed_outbound_hosts entries.
func ParseAllowedHosts(entries []string) (*AllowedHosts, error) {
	a := &AllowedHosts{}
	for _, e := range entries {
		if e == "insecure:allow-all" {
			return nil, errors.New("'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic")
		}
		h, err := parseAllowedHost(e)
		if err != nil {
			return nil, fmt.Errorf("allowed_outbound_hosts entry %q: %w", e, err)
		}
		a.entries = append(a.entries, h)
	}
	return a, nil
}

func parseAllowedHost(original string) (allowedHost, error) {
	entry := strings.TrimSpace(original)
	scheme, rest, ok := strings.Cut(entry, "://")
	if !ok {
		switch entry {
		case "*", ":", "", "?":
			return allowedHost{}, errors.New("not an allowed outbound host format: hosts must be in the form <scheme>://<host>[:<port>], with '*' wildcards allowed for each; '*://*:*' allows all outbound networking")
		}
		return allowedHost{}, errors.New("no scheme (e.g., 'http://' or '*://')")
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		h, tail := rest[:i], rest[i+1:]
		switch {
		case tail == "":
			host = h
		case isHostPattern(rest):
			// An IPv6 literal or network without a port.
		default:
			p, path, hasPath := strings.Cut(tail, "/")
			if hasPath && path != "" {
				return allowedHost{}, errors.New("has a path but is not allowed to")
			}
			host, port = h, p
		}
	}
	ah := allowedHost{original: original}
	var err error
	if ah.anyPort, ah.ports, err = parsePorts(port, scheme); err != nil {
		return allowedHost{}, fmt.Errorf("invalid allowed host port %q: %w", port, err)
	}
	switch {
	case scheme == "*":
		ah.anyScheme = true
	case strings.HasPrefix(scheme, "{"):
		return allowedHost{}, errors.New("scheme lists are not supported")
	case scheme == "" || strings.IndexFunc(scheme, func(r rune) bool { return !('a' <= r|0x20 && r|0x20 <= 'z') }) >= 0:
		return allowedHost{}, fmt.Errorf("invalid allowed host scheme %q: only alphabetic characters are allowed", scheme)
	default:
		ah.scheme = scheme
	}
	if ah.host, err = parseHostPattern(host); err != nil {
		return allowedHost{}, fmt.Errorf("invalid allowed host %q: %w", host, err)
	}
	return ah, nil
}

func isHostPattern(s string) bool {
	_, err := parseHostPattern(s)
	return err == nil
}

func parsePorts(port, scheme string) (anyPort bool, ports []portRange, err error) {
	switch {
	case port == "":
		p, ok := wellKnownPort(scheme)
		if !ok {
			return false, nil, fmt.Errorf("no port was provided and the scheme %q does not have a known default port number", scheme)
		}
		return false, []portRange{{p, p + 1}}, nil
	case port == "*":
		return true, nil, nil
	case strings.HasPrefix(port, "{"):
		return false, nil, errors.New("port lists are not yet supported")
	}
	if lo, hi, ok := strings.Cut(port, ".."); ok {
		l, err1 := parsePort(lo)
		h, err2 := parsePort(hi)
		if err1 != nil || err2 != nil {
			return false, nil, fmt.Errorf("port range %q contains non-number", port)
		}
		return false, []portRange{{l, h}}, nil
	}
	p, err := parsePort(port)
	if err != nil {
		return false, nil, fmt.Errorf("port %q is not a number", port)
	}
	return false, []portRange{{p, p + 1}}, nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	return int(n), err
}

func wellKnownPort(scheme string) (int, bool) {
	switch scheme {
	case "postgres":
		return 5432, true
	case "mysql":
		return 3306, true
	case "redis":
		return 6379, true
	case "mqtt":
		return 1883, true
	case "http":
		return 80, true
	case "https":
		return 443, true
	}
	return 0, false
}

func parseHostPattern(host string) (hostPattern, error) {
	host = strings.TrimSpace(host)
	switch {
	case host == "*":
		return hostPattern{kind: hostAny}, nil
	case host == "self" || host == "self.alt":
		return hostPattern{kind: hostSelf}, nil
	case strings.HasPrefix(host, "{"):
		return hostPattern{}, errors.New("host lists are not yet supported")
	}
	if strings.Contains(host, "/") {
		// ip_network's from_str_truncate: an address, "/", a prefix
		// length; host bits are dropped.
		if pfx, err := netip.ParsePrefix(host); err == nil {
			return hostPattern{kind: hostCIDR, prefix: pfx.Masked()}, nil
		}
	}
	host = strings.TrimSuffix(host, "/")
	if strings.Contains(host, "/") {
		return hostPattern{}, errors.New("must not include a path")
	}
	if domain, ok := strings.CutPrefix(host, "*."); ok {
		if strings.Contains(domain, "*") {
			return hostPattern{}, errors.New("wildcards are allowed only as prefixes")
		}
		h, err := parseHost(domain)
		if err != nil {
			return hostPattern{}, fmt.Errorf("invalid wildcard host \"*.%s\": %w", domain, err)
		}
		if h.kind != hostLiteral || h.domain == "" {
			return hostPattern{}, errors.New("wildcard suffix must be a domain")
		}
		return hostPattern{kind: hostSubdomain, domain: "." + h.domain}, nil
	}
	if strings.Contains(host, "*") {
		return hostPattern{}, errors.New("wildcards are allowed only as subdomains")
	}
	return parseHost(host)
}

// parseHost parses a literal host as the url crate's Host::parse does, for
// the forms that matter here: "[v6]", IPv4, or a domain (lower-cased; the
// WHATWG forbidden code points rejected).
func parseHost(s string) (hostPattern, error) {
	if s == "" {
		return hostPattern{}, errors.New("empty host")
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return hostPattern{}, errors.New("invalid IPv6 address")
		}
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return hostPattern{}, errors.New("invalid IPv6 address")
		}
		return hostPattern{kind: hostLiteral, addr: a}, nil
	}
	if looksNumeric(s) {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return hostPattern{}, errors.New("invalid IPv4 address")
		}
		return hostPattern{kind: hostLiteral, addr: a}, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("#%/:<>?@[\\]^|", c) >= 0 {
			return hostPattern{}, fmt.Errorf("invalid character %q in host", c)
		}
	}
	if strings.HasSuffix(s, ".") && strings.Trim(s, ".") == "" {
		return hostPattern{}, errors.New("empty host")
	}
	return hostPattern{kind: hostLiteral, domain: strings.ToLower(s)}, nil
}

// looksNumeric reports whether the last label is numeric, which makes the
// url crate parse the host as IPv4.
func looksNumeric(s string) bool {
	s = strings.TrimSuffix(s, ".")
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	for i := 0; i < len(last); i++ {
		if last[i] < '0' || last[i] > '9' {
			return strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X")
		}
	}
	return true
}

// Allows reports whether a request to scheme://host:port is allowed. host
// is a domain or an IP address (IPv6 with or without brackets); port 0
// means the scheme's default.
func (a *AllowedHosts) Allows(scheme, host string, port int) bool {
	if a == nil {
		return false
	}
	scheme = strings.ToLower(scheme)
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	addr, err := netip.ParseAddr(h)
	isIP := err == nil && addr.Zone() == ""
	domain := strings.ToLower(host)
	if port == 0 {
		if p, ok := wellKnownPort(scheme); ok {
			port = p
		} else {
			port = -1
		}
	}
	for _, e := range a.entries {
		if (e.anyScheme || e.scheme == scheme) && e.allowsPort(port) && e.host.allows(isIP, addr, domain) {
			return true
		}
	}
	return false
}

// AllowsURL is Spin's check_url: rawURL is parsed as a URL, or, when that
// yields no host, as defaultScheme + "://" + rawURL (so "example.com:8383"
// works).
func (a *AllowedHosts) AllowsURL(rawURL, defaultScheme string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		if u, err = url.Parse(defaultScheme + "://" + rawURL); err != nil || u.Host == "" {
			return false
		}
	}
	port := 0
	if p := u.Port(); p != "" {
		n, err := parsePort(p)
		if err != nil {
			return false
		}
		port = n
	}
	return a.Allows(u.Scheme, u.Hostname(), port)
}

// AllowsRelative reports whether requests to the app itself ("self", a
// URL without authority) are allowed for one of schemes.
func (a *AllowedHosts) AllowsRelative(schemes ...string) bool {
	if a == nil {
		return false
	}
	for _, e := range a.entries {
		if e.host.kind != hostAny && e.host.kind != hostSelf {
			continue
		}
		for _, s := range schemes {
			if e.anyScheme || e.scheme == s {
				return true
			}
		}
	}
	return false
}

func (e *allowedHost) allowsPort(port int) bool {
	if e.anyPort {
		return true
	}
	for _, r := range e.ports {
		if r.lo <= port && port < r.hi {
			return true
		}
	}
	return false
}

func (p hostPattern) allows(isIP bool, addr netip.Addr, domain string) bool {
	switch p.kind {
	case hostAny:
		return true
	case hostSubdomain:
		return !isIP && strings.HasSuffix(domain, p.domain)
	case hostLiteral:
		if p.addr.IsValid() {
			return isIP && p.addr == addr
		}
		return !isIP && p.domain == domain
	case hostCIDR:
		return isIP && p.prefix.Contains(addr)
	}
	return false // hostSelf: only relative requests
}
