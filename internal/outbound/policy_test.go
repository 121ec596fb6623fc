package outbound

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func mustBlocked(t *testing.T, entries ...string) *BlockedNetworks {
	t.Helper()
	b, err := ParseBlockedNetworks(entries)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The cases mirror Spin's tests in
// crates/outbound-networking-config/src/blocked_networks.rs and
// crates/factor-outbound-networking/src/runtime_config/spin.rs.

func TestBlockedNetworksParse(t *testing.T) {
	b := mustBlocked(t, "1.1.1.1/32", "8.8.8.8/16", "private", "8.8.0.0/16")
	if got := b.String(); got != "private, 1.1.1.1/32, 8.8.0.0/16" {
		t.Errorf("String() = %q", got)
	}
	if !mustBlocked(t).IsEmpty() || (*BlockedNetworks)(nil).Blocks(netip.MustParseAddr("127.0.0.1")) {
		t.Error("empty list blocks")
	}
	for _, bad := range []string{"1.2.3.4", "1.2.3.0/33", "::/129", "1.2.3.0/", "/8", "example.com/8", "fe80::1%eth0/64", "Private", "1.2.3.0/x", ""} {
		_, err := ParseBlockedNetworks([]string{bad})
		if err == nil || !strings.Contains(err.Error(), "CIDR notation or the keyword 'private'") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestBlockedNetworksBlocks(t *testing.T) {
	nets := mustBlocked(t, "123.123.0.0/16", "2001::/96")
	for addr, want := range map[string]bool{
		"123.123.123.123":        true,
		"2001::1000":             true,
		"::ffff:123.123.123.123": true, // IPv4-mapped
		"::123.123.123.123":      true, // IPv4-compatible
		"123.100.100.100":        false,
		"2002::1000":             false,
		"127.0.0.1":              false,
	} {
		if got := nets.Blocks(netip.MustParseAddr(addr)); got != want {
			t.Errorf("networks: Blocks(%s) = %v", addr, got)
		}
	}

	private := mustBlocked(t, "10.0.0.0/8", "private")
	for addr, want := range map[string]bool{
		"0.0.0.0": true, "10.10.10.10": true, "100.64.1.1": true, "127.0.0.1": true,
		"169.254.0.1": true, "192.0.0.1": true, "::1": true, "::ffff:10.10.10.10": true,
		"fc00::f00d": true, "172.16.0.1": true, "172.31.255.255": true, "192.168.1.1": true,
		"192.0.2.1": true, "198.51.100.1": true, "203.0.113.1": true, "198.18.0.1": true,
		"198.19.0.1": true, "240.0.0.1": true, "255.255.255.255": true, "::": true,
		"fe80::1": true, "fec0::1": true, "2001:db8::1": true, "ff02::1": true,
		"::ffff:127.0.0.1": true, "fe80::1%eth0": true,

		"123.123.123.123": false, "2600::beef": false, "8.8.8.8": false, "172.32.0.1": false,
		"100.128.0.1": false, "192.0.0.9": false, "192.0.0.10": false, "224.0.0.1": false,
		"ff0e::1": false, "::ffff:8.8.8.8": false,
	} {
		if got := private.Blocks(netip.MustParseAddr(addr)); got != want {
			t.Errorf("private: Blocks(%s) = %v, want %v", addr, got, want)
		}
	}
}

// listen returns the address of a loopback TCP listener that accepts and
// closes connections.
func listen(t *testing.T) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

func TestDialContextBlocked(t *testing.T) {
	addr := listen(t)
	p := func(blocked ...string) *Policy {
		pol, err := NewPolicyBlocking([]string{"*://*:*"}, mustBlocked(t, blocked...))
		if err != nil {
			t.Fatal(err)
		}
		return pol
	}
	ctx := context.Background()
	portStr := func(host string) string { return net.JoinHostPort(host, strconv.Itoa(addr.Port)) }

	// Nothing blocked: the connection goes through.
	for _, host := range []string{"127.0.0.1", "localhost"} {
		c, err := p().DialContext(ctx, "tcp", portStr(host))
		if err != nil {
			t.Fatalf("unblocked %s: %v", host, err)
		}
		c.Close()
	}
	// A block list that does not cover loopback leaves it reachable.
	c, err := p("10.0.0.0/8", "203.0.113.0/24").DialContext(ctx, "tcp", portStr("127.0.0.1"))
	if err != nil {
		t.Fatalf("other networks blocked: %v", err)
	}
	c.Close()

	for _, blocked := range [][]string{{"127.0.0.0/8"}, {"private"}} {
		pol := p(blocked...)
		// A name resolving into the blocked network is refused after
		// resolution, as is the address itself and its IPv4-mapped form.
		for _, host := range []string{"localhost", "127.0.0.1", "::ffff:127.0.0.1"} {
			// tcp4: "localhost" may also resolve to ::1, where nothing
			// listens, and the dialer reports the first failure.
			_, err := pol.DialContext(ctx, "tcp4", portStr(host))
			if !errors.Is(err, ErrBlocked) {
				t.Errorf("%v: dial %s: err = %v, want ErrBlocked", blocked, host, err)
				continue
			}
			var be *BlockedError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), "block_networks") {
				t.Errorf("%v: dial %s: unclear error %v", blocked, host, err)
			}
		}
	}
}

func TestDialContextRefusesWithoutPolicyOrIPNetwork(t *testing.T) {
	var nilPolicy *Policy
	if _, err := nilPolicy.DialContext(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("nil policy: %v", err)
	}
	p, err := NewPolicy([]string{"*://*:*"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DialContext(context.Background(), "unix", "/tmp/x.sock"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("unix: %v", err)
	}
}

func TestPolicyChecks(t *testing.T) {
	p, err := NewPolicy([]string{"redis://127.0.0.1:6379", "http://self", "https://*.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allows("redis", "127.0.0.1", 0) || p.Allows("redis", "127.0.0.1", 6380) {
		t.Error("redis grant")
	}
	if err := p.Check("redis", "127.0.0.1", 6379); err != nil {
		t.Error(err)
	}
	err = p.Check("redis", "10.0.0.1", 6379)
	if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "redis://10.0.0.1:6379") {
		t.Errorf("Check = %v", err)
	}
	if !p.AllowsURL("127.0.0.1:6379", "redis") || !p.AllowsURL("https://api.example.com/x", "https") || p.AllowsURL("https://example.com", "https") {
		t.Error("AllowsURL")
	}
	if !p.AllowsRelative("http") || p.AllowsRelative("https") {
		t.Error("AllowsRelative")
	}
	if p.Blocked() == nil || !p.Blocked().IsEmpty() {
		t.Error("NewPolicy blocks something")
	}
	var nilPolicy *Policy
	if nilPolicy.Allows("http", "example.com", 0) || nilPolicy.AllowsURL("http://x", "http") || nilPolicy.AllowsRelative("http") || nilPolicy.Check("http", "x", 80) == nil {
		t.Error("nil policy allows")
	}
	ctx := WithPolicy(context.Background(), p)
	if FromContext(ctx) != p || FromContext(context.Background()) != nil {
		t.Error("context round trip")
	}
	if _, err := NewPolicy([]string{"example.com"}); err == nil {
		t.Error("bad entry parsed")
	}
}

func TestDialWithKeepsCallerControl(t *testing.T) {
	addr := listen(t)
	var calls int
	d := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		calls++
		return nil
	}}
	open, _ := NewPolicyBlocking([]string{"*://*:*"}, mustBlocked(t, "10.0.0.0/8"))
	c, err := open.DialWith(context.Background(), d, "tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	closed, _ := NewPolicyBlocking([]string{"*://*:*"}, mustBlocked(t, "127.0.0.1/32"))
	if _, err := closed.DialWith(context.Background(), d, "tcp", addr.String()); !errors.Is(err, ErrBlocked) {
		t.Errorf("blocked dial: %v", err)
	}
	if calls != 1 {
		t.Errorf("caller's Control ran %d times, want 1 (only for the allowed dial)", calls)
	}
	if d.ControlContext != nil {
		t.Error("DialWith modified the caller's dialer")
	}
}
