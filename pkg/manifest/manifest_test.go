package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestErrorRendering(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "spin.toml", Pos: Position{12, 3}, Msg: "bad"}, "spin.toml:12:3: bad"},
		{&Error{File: "spin.toml", Msg: "bad"}, "spin.toml: bad"},
		{&Error{Pos: Position{1, 2}, Msg: "bad"}, "1:2: bad"},
		{&Error{Msg: "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	es := Errors{tests[0].err, tests[1].err}
	if got, want := es.Error(), "spin.toml:12:3: bad\nspin.toml: bad"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
}

func TestCheckIDs(t *testing.T) {
	tests := []struct {
		id                  string
		kebab, snake, label bool
		variable            bool
	}{
		{"hello", true, true, true, true},
		{"hello-world", true, false, true, false},
		{"hello_world", false, true, true, true},
		{"HELLO-WORLD", true, false, true, false},
		{"HELLO_world", false, true, true, false},
		{"hello2-w0rld", true, false, true, false},
		{"Hello", false, false, false, false},
		{"2hello", false, false, false, false},
		{"hello--world", false, false, false, false},
		{"hello-", false, false, false, false},
		{"", false, false, false, false},
		{"b@d", false, false, false, false},
		{"mixed_and-case", false, false, false, false},
	}
	for _, tt := range tests {
		if got := checkKebabID(tt.id) == nil; got != tt.kebab {
			t.Errorf("checkKebabID(%q) ok = %v, want %v", tt.id, got, tt.kebab)
		}
		if got := checkSnakeID(tt.id) == nil; got != tt.snake {
			t.Errorf("checkSnakeID(%q) ok = %v, want %v", tt.id, got, tt.snake)
		}
		if got := checkLabel(tt.id) == nil; got != tt.label {
			t.Errorf("checkLabel(%q) ok = %v, want %v", tt.id, got, tt.label)
		}
		if got := checkVariableName(tt.id) == nil; got != tt.variable {
			t.Errorf("checkVariableName(%q) ok = %v, want %v", tt.id, got, tt.variable)
		}
	}
}

func TestCheckRoute(t *testing.T) {
	tests := []struct {
		route   string
		wantErr string // "" means valid
		key     string
	}{
		{"/", "", "/"},
		{"/...", "", "/..."},
		{"/foo", "", "/foo"},
		{"/foo/", "", "/foo"},
		{"/foo/...", "", "/foo/..."},
		{"/foo/*", "", "/foo/..."},
		{"/foo/.../", "", "/foo/..."},
		{"/users/:id", "", "/users/:"},
		{"/users/:id/posts/:post_id", "", "/users/:/posts/:"},
		{"/files/:name.:ext", "", "/files/:.:"},
		{"/v1.0/ping", "", "/v1.0/ping"},
		{"foo", "must start with", ""},
		{"", "must start with", ""},
		{"/a//b", "empty segment", ""},
		{"//", "empty segment", ""},
		{"/a/.../b", "last segment", ""},
		{"/a/*/b", "last segment", ""},
		{"/a/*rest", "named wildcard", ""},
		{"/users/:", "without a name", ""},
		{"/users/:a/:a", "twice", ""},
		{"/users/:a$", "invalid parameter name", ""},
		{"/a b", "must not contain", ""},
		{"/a?b=1", "must not contain", ""},
		{"/.well-known/spin/info", "reserved", ""},
	}
	for _, tt := range tests {
		err := checkRoute(tt.route)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkRoute(%q) = %v, want ok", tt.route, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkRoute(%q) = %v, want error containing %q", tt.route, err, tt.wantErr)
		}
		if tt.key != "" {
			if got := routeKey(tt.route); got != tt.key {
				t.Errorf("routeKey(%q) = %q, want %q", tt.route, got, tt.key)
			}
		}
	}
}

func TestParseAllowedHTTPHost(t *testing.T) {
	tests := []struct {
		in, host, port string
		ok             bool
	}{
		{"spin.fermyon.dev", "spin.fermyon.dev", "", true},
		{"spin.fermyon.dev:7777", "spin.fermyon.dev", "7777", true},
		{"http://spin.fermyon.dev", "spin.fermyon.dev", "", true},
		{"http://spin.fermyon.dev/", "spin.fermyon.dev", "", true},
		{"https://spin.fermyon.dev:5555", "spin.fermyon.dev", "5555", true},
		{"http://spin.fermyon.dev:80", "spin.fermyon.dev", "", true},
		{"self", "self", "", true},
		{"localhost:3001", "localhost", "3001", true},
		{"192.168.1.1:3002", "192.168.1.1", "3002", true},
		{"[::1]", "[::1]", "", true},
		{"http://[::1]:8001", "[::1]", "8001", true},
		{"http://spin.fermyon.dev/a", "", "", false},
		{"ftp://spin.fermyon.dev", "", "", false},
		{"http://", "", "", false},
	}
	for _, tt := range tests {
		host, port, err := parseAllowedHTTPHost(tt.in)
		if (err == nil) != tt.ok || host != tt.host || port != tt.port {
			t.Errorf("parseAllowedHTTPHost(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.in, host, port, err, tt.host, tt.port, tt.ok)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	data := []byte("spin_manifest_version = 2\n[application]\nname = \"x\"\n")
	if err := os.WriteFile(filepath.Join(dir, "spin.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, "spin.toml")} {
		m, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%q): %v", p, err)
		}
		if want := filepath.Join(dir, "spin.toml"); m.Path != want {
			t.Errorf("Path = %q, want %q", m.Path, want)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	// Errors name the file as given.
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("spin_manifest_version = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if err == nil || !strings.HasPrefix(err.Error(), bad+":1:1: missing [application]") {
		t.Errorf("Load(bad) = %v", err)
	}
}

// Errors are reported all at once and sorted by position, whichever stage
// found them.
func TestErrorsSortedAndComplete(t *testing.T) {
	_, err := Parse([]byte(`spin_manifest_version = 2
[application]
name = "x"

[[trigger.http]]
route = "/a//b"
component = "missing"

[component.Bad_Id]
source = 3
`), "spin.toml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`spin.toml:6:9: route "/a//b" has an empty segment ("//")`,
		`spin.toml:7:13: trigger "missing-http-trigger" refers to unknown component "missing"`,
		`spin.toml:9:12: invalid component id "Bad_Id": words must be separated with '-', not '_'`,
		`spin.toml:10:10: source must be a string path or a table { url, digest } or { registry, package, version }`,
	}
	if got := strings.Split(errs.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSchemaIsJSON(t *testing.T) {
	s := Schema()
	if !strings.Contains(string(s), `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Errorf("schema lacks $schema: %.200s", s)
	}
}
