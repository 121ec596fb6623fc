package variables

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// No Vault server can be installed here (no Debian package; OpenBao and
// Vault are not installable from the Go module proxy), so kvServer
// implements the part of Vault's HTTP API the provider uses, as Vault
// answers it: KV v2 reads at /v1/<mount>/data/<path> with X-Vault-Token,
// 403 {"errors":["permission denied"]} for a bad token, 404 {"errors":[]}
// for a missing secret, 404 with metadata for a deleted one, and the
// data.data envelope for a found one.
const (
	vaultToken = "hvs.test-root-token"
	vaultMount = "secret"
)

type kvServer struct {
	secrets map[string]map[string]any // path in the mount → its data
	deleted map[string]bool
	sealed  atomic.Bool
}

func (s *kvServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if s.sealed.Load() {
		reply(http.StatusServiceUnavailable, map[string]any{"errors": []string{"Vault is sealed"}})
		return
	}
	if r.Header.Get("X-Vault-Token") != vaultToken {
		reply(http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	if r.Method != http.MethodGet {
		reply(http.StatusMethodNotAllowed, map[string]any{"errors": []string{"unsupported operation"}})
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/"+vaultMount+"/data/")
	if !ok {
		reply(http.StatusNotFound, map[string]any{"errors": []string{"no handler for route \"" + strings.TrimPrefix(r.URL.Path, "/v1/") + "\". route entry not found."}})
		return
	}
	meta := map[string]any{"created_time": "2026-11-22T10:00:00Z", "custom_metadata": nil, "deletion_time": "", "destroyed": false, "version": 1}
	if s.deleted[path] {
		meta["deletion_time"] = "2026-11-22T11:00:00Z"
		reply(http.StatusNotFound, map[string]any{"data": map[string]any{"data": nil, "metadata": meta}})
		return
	}
	data, ok := s.secrets[path]
	if !ok {
		reply(http.StatusNotFound, map[string]any{"errors": []string{}})
		return
	}
	reply(http.StatusOK, map[string]any{
		"request_id": "6c4c2c8f-0f0e-4d6b-9d3b-1a1a1a1a1a1a", "lease_id": "", "renewable": false, "lease_duration": 0,
		"data":      map[string]any{"data": data, "metadata": meta},
		"wrap_info": nil, "warnings": nil, "auth": nil,
	})
}

func newVault(t *testing.T, s *kvServer) string {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

func mustVault(t *testing.T, c VaultConfig) Provider {
	t.Helper()
	p, err := Vault(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVault(t *testing.T) {
	ctx := context.Background()
	s := &kvServer{
		secrets: map[string]map[string]any{
			"wisp/app/api_key": {"value": secretValue},
			"db_password":      {"value": "pw-" + secretValue},
			"wisp/app/no_val":  {"other": secretValue},
			"wisp/app/numeric": {"value": 42},
		},
		deleted: map[string]bool{"wisp/app/gone": true},
	}
	url := newVault(t, s)
	p := mustVault(t, VaultConfig{URL: url + "/", Token: vaultToken, Mount: "/secret/", Prefix: "wisp/app"})

	if v, ok, err := p.Get(ctx, "api_key"); err != nil || !ok || v != secretValue {
		t.Fatalf("api_key = %q %v %v", v, ok, err)
	}
	for _, name := range []string{"missing", "gone"} {
		if v, ok, err := p.Get(ctx, name); err != nil || ok || v != "" {
			t.Fatalf("%s = %q %v %v, want no value", name, v, ok, err)
		}
	}
	for _, name := range []string{"no_val", "numeric"} {
		_, _, err := p.Get(ctx, name)
		if err == nil || !strings.Contains(err.Error(), `has no string field "value"`) || strings.Contains(err.Error(), secretValue) {
			t.Fatalf("%s: error = %v", name, err)
		}
	}

	// Without a prefix the secret sits at the mount's root.
	bare := mustVault(t, VaultConfig{URL: url, Token: vaultToken, Mount: "secret"})
	if v, ok, err := bare.Get(ctx, "db_password"); err != nil || !ok || v != "pw-"+secretValue {
		t.Fatalf("db_password = %q %v %v", v, ok, err)
	}

	// A wrong token is an error, not "no value", and never shows the token.
	bad := mustVault(t, VaultConfig{URL: url, Token: "hvs.wrong-token", Mount: "secret", Prefix: "wisp/app"})
	_, _, err := bad.Get(ctx, "api_key")
	if err == nil || !strings.Contains(err.Error(), `vault: permission denied reading secret "wisp/app/api_key" at mount "secret"`) ||
		strings.Contains(err.Error(), "hvs.wrong-token") {
		t.Fatalf("bad token: error = %v", err)
	}

	// Vault's own explanation is passed on.
	s.sealed.Store(true)
	if _, _, err := p.Get(ctx, "api_key"); err == nil || !strings.Contains(err.Error(), "503 Service Unavailable: Vault is sealed") {
		t.Fatalf("sealed: error = %v", err)
	}
	s.sealed.Store(false)

	// Unreachable, and slow: errors with the path and without the token.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) }))
	defer srv.Close()
	slow := mustVault(t, VaultConfig{URL: srv.URL, Token: vaultToken, Mount: "secret", Timeout: 50 * time.Millisecond})
	if _, _, err := slow.Get(ctx, "api_key"); err == nil || !strings.Contains(err.Error(), "Client.Timeout") || strings.Contains(err.Error(), vaultToken) {
		t.Fatalf("slow: error = %v", err)
	}
}

func TestVaultConfig(t *testing.T) {
	for _, c := range []VaultConfig{
		{URL: "vault:8200", Token: "t", Mount: "secret"},
		{URL: "", Token: "t", Mount: "secret"},
		{URL: "http://vault:8200", Token: "t", Mount: ""},
	} {
		if _, err := Vault(c); err == nil {
			t.Errorf("Vault(%+v) succeeded", c)
		}
	}
}

// A Vault provider in a resolver: its value wins over later providers, and
// a secret it lacks falls through to them.
func TestVaultInResolver(t *testing.T) {
	ctx := context.Background()
	url := newVault(t, &kvServer{secrets: map[string]map[string]any{"api_key": {"value": secretValue}}})
	r := NewResolver(testApp(),
		mustVault(t, VaultConfig{URL: url, Token: vaultToken, Mount: "secret"}),
		Env(DefaultEnvPrefix, mapLookup(map[string]string{"SPIN_VARIABLE_API_KEY": "from-env", "SPIN_VARIABLE_REGION": "us"})))
	if err := r.Validate(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := r.ComponentVariable(ctx, "web", "token"); err != nil || v != "Bearer "+secretValue {
		t.Fatalf("token = %q %v", v, err)
	}
	if v, err := r.ComponentVariable(ctx, "web", "endpoint"); err != nil || v != "https://api.example.com/us" {
		t.Fatalf("endpoint = %q %v", v, err)
	}
}
