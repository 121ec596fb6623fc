package wagi

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
)

// TestEnvironmentPrecedence checks how clashing names are settled: the
// component's variables lose to request headers, which lose to the CGI
// meta-variables; every name appears once, and the entries are sorted.
func TestEnvironmentPrecedence(t *testing.T) {
	r := httptest.NewRequest("GET", "http://example.com/x?q=1", nil)
	r.Header.Set("X-Custom-Thing", "from-header")
	r.Header.Set("Authorization", "secret")
	info := &trigger.RequestInfo{ComponentRoute: "/x", Params: []trigger.Param{{Name: "user-id", Value: "42"}}}
	component := []string{"A_VAR=a", "HTTP_X_CUSTOM_THING=from-component", "QUERY_STRING=from-component", "ZZ=z"}
	env := environment(component, r, info, 0)

	if !slices.IsSorted(env) {
		t.Errorf("not sorted: %q", env)
	}
	seen := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := seen[k]; dup {
			t.Errorf("%s appears twice", k)
		}
		seen[k] = v
	}
	for k, want := range map[string]string{
		"A_VAR":                 "a",
		"ZZ":                    "z",
		"HTTP_X_CUSTOM_THING":   "from-header",
		"QUERY_STRING":          "q=1",
		"SCRIPT_NAME":           "/x",
		"X_PATH_MATCH_USER-ID":  "42", // parameter names keep their dashes, as in Spin
		"HTTP_HOST":             "example.com",
		"GATEWAY_INTERFACE":     "CGI/1.1",
		"REMOTE_USER":           "",
		"X_RAW_COMPONENT_ROUTE": "",
	} {
		if got, ok := seen[k]; !ok || got != want {
			t.Errorf("%s = %q (set: %v), want %q", k, got, ok, want)
		}
	}
	if _, ok := seen["HTTP_AUTHORIZATION"]; ok {
		t.Error("Authorization passed to the guest")
	}
}

func TestEnvVarNames(t *testing.T) {
	for _, tt := range []struct {
		prefix, name string
		dashes       bool
		want         string
	}{
		{"HTTP_", "Content-Type", true, "HTTP_CONTENT_TYPE=v"},
		{"HTTP_", "x-já-b", true, "HTTP_X_JÁ_B=v"},
		{"X_PATH_MATCH_", "user-id", false, "X_PATH_MATCH_USER-ID=v"},
	} {
		if got := envVar(tt.prefix, tt.name, "v", tt.dashes); got != tt.want {
			t.Errorf("envVar(%q, %q) = %q, want %q", tt.prefix, tt.name, got, tt.want)
		}
	}
}
