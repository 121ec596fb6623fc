package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// BlockedNetworks is the operator's block_networks list (runtime config
// [outbound_networking]), as Spin's BlockedNetworks
// (crates/outbound-networking-config/src/blocked_networks.rs): CIDR
// networks and the keyword "private". The zero value and nil block
// nothing. Immutable once parsed; safe for concurrent use.
//
// "private" is Spin's "not globally routable" (the ip_network crate's
// is_global, which Spin uses), that is:
//
//	IPv4: 0.0.0.0/8 (this network), 10.0.0.0/8, 172.16.0.0/12,
//	      192.168.0.0/16 (RFC 1918), 100.64.0.0/10 (shared address space),
//	      127.0.0.0/8 (loopback), 169.254.0.0/16 (link-local),
//	      192.0.0.0/24 (IETF protocol assignments) except 192.0.0.9 and
//	      192.0.0.10, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24
//	      (documentation), 198.18.0.0/15 (benchmarking), 240.0.0.0/4
//	      (reserved) and 255.255.255.255 (broadcast).
//	IPv6: :: (unspecified), ::1 (loopback), fe80::/10 (link-local),
//	      fec0::/10 (site-local), fc00::/7 (unique local), 2001:db8::/32
//	      (documentation), and multicast other than global scope (ffxe::).
//
// IPv4 multicast (224.0.0.0/4) counts as global there, so "private" does
// not block it; list it as a CIDR to block it.
//
// An IPv6 address that embeds an IPv4 one (IPv4-mapped ::ffff:a.b.c.d or
// IPv4-compatible ::a.b.c.d, as Rust's Ipv6Addr::to_ipv4) is also checked
// as that IPv4 address, so ::ffff:127.0.0.1 cannot bypass a block of
// 127.0.0.0/8.
type BlockedNetworks struct {
	networks []netip.Prefix // masked, sorted, deduplicated
	private  bool
}

// ParseBlockedNetworks parses block_networks entries: "private" or a
// network in CIDR notation ("1.2.3.0/24", "2001:db8::/32"); host bits are
// dropped ("8.8.8.8/16" is 8.8.0.0/16) as Spin's from_str_truncate does. A
// bare address needs its prefix length ("1.2.3.4/32").
func ParseBlockedNetworks(entries []string) (*BlockedNetworks, error) {
	b := &BlockedNetworks{}
	for _, e := range entries {
		if e == "private" {
			b.private = true
			continue
		}
		pfx, err := parseCIDR(e)
		if err != nil {
			return nil, fmt.Errorf("block_networks entry %q: %w", e, err)
		}
		b.networks = append(b.networks, pfx)
	}
	slices.SortFunc(b.networks, func(x, y netip.Prefix) int {
		if c := x.Addr().Compare(y.Addr()); c != 0 {
			return c
		}
		return x.Bits() - y.Bits()
	})
	b.networks = slices.Compact(b.networks)
	return b, nil
}

var errBadNetwork = errors.New("expected an IP network in CIDR notation or the keyword 'private'")

// parseCIDR is ip_network's from_str_truncate: an address without zone,
// "/", a prefix length within the address's size.
func parseCIDR(s string) (netip.Prefix, error) {
	addr, bits, ok := strings.Cut(s, "/")
	if !ok || addr == "" || bits == "" {
		return netip.Prefix{}, errBadNetwork
	}
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errBadNetwork
	}
	n, err := strconv.ParseUint(bits, 10, 8)
	if err != nil || int(n) > a.BitLen() {
		return netip.Prefix{}, errBadNetwork
	}
	return netip.PrefixFrom(a, int(n)).Masked(), nil
}

// IsEmpty reports whether nothing is blocked.
func (b *BlockedNetworks) IsEmpty() bool {
	return b == nil || (!b.private && len(b.networks) == 0)
}

// Blocks reports whether ip is in a blocked network.
func (b *BlockedNetworks) Blocks(ip netip.Addr) bool {
	if b.IsEmpty() || !ip.IsValid() {
		return false
	}
	ip = ip.WithZone("")
	if b.private && !isGlobal(ip) {
		return true
	}
	for _, n := range b.networks {
		if n.Contains(ip) {
			return true
		}
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return b.Blocks(v4)
	}
	return false
}

// String renders the list canonically ("private, 10.0.0.0/8"); two lists
// that block the same way render the same.
func (b *BlockedNetworks) String() string {
	if b.IsEmpty() {
		return ""
	}
	var parts []string
	if b.private {
		parts = append(parts, "private")
	}
	for _, n := range b.networks {
		parts = append(parts, n.String())
	}
	return strings.Join(parts, ", ")
}

// embeddedIPv4 is Rust's Ipv6Addr::to_ipv4: the IPv4 address of an
// IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) address.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	if ip.Is4In6() {
		return ip.Unmap(), true
	}
	a := ip.As16()
	for _, c := range a[:12] {
		if c != 0 {
			return netip.Addr{}, false
		}
	}
	return netip.AddrFrom4([4]byte(a[12:])), true
}

// isGlobal is the ip_network crate's is_global for a single address (a /32
// or /128 network), the definition Spin's "private" uses.
func isGlobal(ip netip.Addr) bool {
	if ip.Is4() {
		return isGlobal4(ip.As4())
	}
	return isGlobal6(ip.As16())
}

func isGlobal4(o [4]byte) bool {
	switch {
	case o == [4]byte{192, 0, 0, 9}, o == [4]byte{192, 0, 0, 10}:
		return true // the two global IETF protocol assignments
	case o[0] == 0: // this network
		return false
	case o[0] == 10, o[0] == 172 && o[1]&0xf0 == 16, o[0] == 192 && o[1] == 168: // RFC 1918
		return false
	case o[0] == 192 && o[1] == 0 && o[2] == 0: // IETF protocol assignments
		return false
	case o[0] == 100 && o[1]&0xc0 == 64: // shared address space
		return false
	case o[0] == 127: // loopback
		return false
	case o[0] == 169 && o[1] == 254: // link-local
		return false
	case o == [4]byte{255, 255, 255, 255}: // broadcast
		return false
	case o[0] == 192 && o[1] == 0 && o[2] == 2, o[0] == 198 && o[1] == 51 && o[2] == 100, o[0] == 203 && o[1] == 0 && o[2] == 113: // documentation
		return false
	case o[0] == 198 && o[1]&0xfe == 18: // benchmarking
		return false
	case o[0]&0xf0 == 240: // reserved (broadcast handled above)
		return false
	}
	return true
}

func isGlobal6(a [16]byte) bool {
	seg0 := uint16(a[0])<<8 | uint16(a[1])
	if a[0] == 0xff { // multicast: global only with global scope
		return seg0&0x000f == 0xe
	}
	var zero [16]byte
	loopback := zero
	loopback[15] = 1
	switch {
	case a == zero, a == loopback:
		return false
	case seg0&0xffc0 == 0xfe80, seg0&0xffc0 == 0xfec0: // link-local, site-local
		return false
	case seg0&0xfe00 == 0xfc00: // unique local
		return false
	case seg0 == 0x2001 && a[2] == 0x0d && a[3] == 0xb8: // documentation
		return false
	}
	return true
}
