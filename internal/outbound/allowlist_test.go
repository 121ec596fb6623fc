package outbound

import (
	"strings"
	"testing"
)

// The cases mirror Spin's tests in
// crates/outbound-networking-config/src/allowed_hosts.rs.

func TestAllowedHostsParseErrors(t *testing.T) {
	for _, bad := range []string{
		// test_allowed_hosts_does_not_accept_plain_host_*, test_missing_scheme
		"spin.fermyon.dev", "spin.fermyon.dev:80", "example.com", "localhost", "localhost:3001",
		// test_allowed_hosts_accepts_ip_cidr: a CIDR needs a port... or a default
		"*://127.0.0.0/24",
		// test_allowed_hosts_rejects_path
		"http://spin.fermyon.dev/a", "http://spin.fermyon.dev:6666/a/b", "http://*.fermyon.dev/a",
		// rejects_malformed_ipv6_allowed_hosts
		"http://[::1]/foo", "http://ff00::/8/extra", "http://[::1", "http://[::1]junk",
		"http://[::1]::80", "http://[v1.]", "[::1]", "[::1]:8080",
		// rejects_invalid_allowed_host_entries
		"http://example.com:notaport", "http://example.com:8080..70000", "http://self:notaport",
		"http://self.alt:notaport", "http://*:notaport", "http://127.0.0.1:notaport",
		"http://[::1]:notaport", "http://*.example.com:notaport", "http://*.example.com:8080..",
		"http://*.example.com:8O8O", "http://example.com:8080/p", "http://*.example.com:8080/p",
		"http://*.example.com/p", "http://127.0.0.0/24/p", "http://[::1junk", "http://*.",
		"http://*.:8080", "example.com:8080", "http://example%.com", "http://example%2.com",
		"http://example%GG.com", "http://exa[mple.com", `http://exa\mple.com`,
		"http://example.com:80:90", "http://[vG.example]",
		// invalid_explicit_port_reports_port_error
		"http://example.com:99999", "http://[::1]:99999", "http://ff00::/8:99999", "http://*.example.com:99999",
		// rejects_double_slash_paths
		"http://example.com//", "http://*.example.com//", "http://self//", "http://[::1]//",
		// rejects_wildcard_non_domain_suffixes
		"http://*.127.0.0.1", "http://*.192.168.001.001", "http://*.[::1]", "http://*.[2001:db8::1]",
		// other Spin rules
		"http://*.*.example.com", "http://ex*ample.com", "ht1p://example.com", "{http,https}://x.com",
		"unknown://example.com", "*", "",
	} {
		if _, err := ParseAllowedHosts([]string{bad}); err == nil {
			t.Errorf("%q: parsed, want an error", bad)
		}
	}
	if _, err := ParseAllowedHosts([]string{"insecure:allow-all"}); err == nil || !strings.Contains(err.Error(), "*://*:*") {
		t.Errorf("insecure:allow-all: %v", err)
	}
}

func TestAllowedHostsMatching(t *testing.T) {
	type req struct {
		url   string
		allow bool
	}
	for _, tc := range []struct {
		hosts []string
		reqs  []req
	}{
		{[]string{"*://spin.fermyon.dev:443", "http://example.com:8383"}, []req{ // test_allowed_hosts_can_be_specific
			{"http://example.com:8383/foo/bar", true},
			{"https://spin.fermyon.dev", true},
			{"https://spin.fermyon.dev/", true},
			{"http://example.com/", false},
			{"http://google.com/", false},
			{"spin.fermyon.dev:443", true},
			{"example.com:8383", false}, // default scheme https here; Spin's test passes "http"
		}},
		{[]string{"https://my.api.com/"}, []req{ // test_allowed_hosts_with_trailing_slash
			{"https://my.api.com", true}, {"https://my.api.com/", true},
		}},
		{[]string{"http://*.example.com", "http://*.example2.com:8383"}, []req{ // subdomain wildcards
			{"http://a.example.com/foo/bar", true},
			{"http://a.b.example.com/foo/bar", true},
			{"http://a.b.example2.com:8383/foo/bar", true},
			{"http://a.b.example2.com/foo/bar", false},
			{"http://example.com/foo/bar", false},
			{"http://example.com:8383/foo/bar", false},
			{"http://myexample.com/foo/bar", false},
		}},
		{[]string{"*://127.0.0.1/24:63551"}, []req{ // test_cidr
			{"http://127.0.0.1:63551", true}, {"http://127.0.0.200:63551", true},
			{"http://127.0.1.1:63551", false}, {"http://127.0.0.1:63552", false},
		}},
		{[]string{"http://[::1]"}, []req{ // ipv6_literal_allows_and_denies_requests
			{"http://[::1]", true}, {"http://[::1]/some/path", true}, {"http://[::1]:80", true},
			{"http://[::2]", false}, {"http://[::1]:81", false},
		}},
		{[]string{"http://2001:db8::/32"}, []req{ // ipv6_cidr_allows_addresses_in_range
			{"http://[2001:db8::1]", true}, {"http://[2001:db8:abcd::1]/x", true}, {"http://[2001:db9::1]", false},
		}},
		{[]string{"http://*.Example.COM"}, []req{ // wildcard_subdomain_is_case_insensitive
			{"http://foo.example.com", true}, {"http://a.b.example.com/x", true}, {"http://example.com", false},
			{"http://FOO.EXAMPLE.COM", true},
		}},
		{[]string{"http://spin.fermyon.dev:4444..5555"}, []req{ // port ranges, end exclusive as in Spin
			{"http://spin.fermyon.dev:4444", true}, {"http://spin.fermyon.dev:5554", true},
			{"http://spin.fermyon.dev:5555", false}, {"http://spin.fermyon.dev:4443", false},
		}},
		{[]string{"*://*:*"}, []req{ // test_allowed_all_globs
			{"http://anything.example:1234", true}, {"https://10.0.0.1", true},
		}},
		{[]string{"http://localhost:3001", "https://192.168.1.1", "http://[::1]:8001"}, []req{
			{"http://localhost:3001/x", true}, {"http://LOCALHOST:3001", true}, {"http://localhost", false},
			{"https://192.168.1.1", true}, {"https://192.168.1.1:443", true}, {"http://192.168.1.1", false},
			{"http://[::1]:8001", true}, {"http://[0:0::1]:8001", true},
		}},
		{[]string{"http://*:*"}, []req{ // scheme must match
			{"https://example.com", false}, {"http://example.com:9", true},
		}},
		{[]string{"http://*.spin.internal"}, []req{
			{"http://backend.spin.internal/x", true}, {"https://backend.spin.internal/x", false},
		}},
		{nil, []req{{"http://example.com", false}}}, // deny by default
	} {
		a, err := ParseAllowedHosts(tc.hosts)
		if err != nil {
			t.Fatalf("%q: %v", tc.hosts, err)
		}
		for _, r := range tc.reqs {
			if got := a.AllowsURL(r.url, "https"); got != r.allow {
				t.Errorf("%q allows %q = %v, want %v", tc.hosts, r.url, got, r.allow)
			}
		}
	}
	var nilHosts *AllowedHosts
	if nilHosts.Allows("http", "example.com", 80) || nilHosts.AllowsRelative("http") {
		t.Error("nil AllowedHosts allows")
	}
}

func TestAllowedHostsSelf(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		want  bool
	}{
		{[]string{"http://self"}, true},
		{[]string{"https://self.alt"}, true},
		{[]string{"*://*:*"}, true},
		{[]string{"http://example.com"}, false},
		{[]string{"redis://self"}, false},
		{nil, false},
	} {
		a, err := ParseAllowedHosts(tc.hosts)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.AllowsRelative("http", "https"); got != tc.want {
			t.Errorf("%q: AllowsRelative = %v", tc.hosts, got)
		}
		// "self" never matches as a host name.
		if tc.hosts != nil && tc.hosts[0] == "http://self" && a.Allows("http", "self", 0) {
			t.Error("self matched a literal host")
		}
	}
}
