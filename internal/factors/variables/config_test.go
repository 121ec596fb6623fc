package variables_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	fv "github.com/wisp-dev/wisp/internal/factors/variables"
	vars "github.com/wisp-dev/wisp/internal/variables"
)

const vaultToken = "hvs.factor-test-token"

// vaultKV answers Vault KV v2 reads under mount "secret" (the provider's
// own tests cover the API in detail).
func vaultKV(t *testing.T, secrets map[string]string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Vault-Token") != vaultToken {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":["permission denied"]}`)
			return
		}
		v, ok := secrets[strings.TrimPrefix(r.URL.Path, "/v1/secret/data/")]
		if r.Method != http.MethodGet || !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[]}`)
			return
		}
		fmt.Fprintf(w, `{"data":{"data":{"value":%q},"metadata":{"version":1}}}`, v)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, ctx context.Context, f *fv.Factor, name string) string {
	t.Helper()
	res := factortest.Call(t, ctx, f.Interfaces(), fv.SpinV3, "get", name)[0].(cabi.Result)
	if res.IsErr {
		t.Fatalf("get(%q) = %#v", name, res)
	}
	return res.Value.(string)
}

// TestPrecedence checks Spin's order: --variable flags, then the runtime
// config's providers in file order, then the environment and .env, then
// defaults.
func TestPrecedence(t *testing.T) {
	url := vaultKV(t, map[string]string{"wisp/who": "vault-who", "wisp/api_key": "vault-key"})
	rc := fmt.Sprintf(`
[[config_provider]]
type = "vault"
url = %q
token = %q
mount = "secret"
prefix = "wisp"

[[config_provider]]
type = "static"
values = { who = "static-who", flaky = "static-flaky" }
`, url, vaultToken)
	env := map[string]string{"SPIN_VARIABLE_WHO": "env-who", "SPIN_VARIABLE_FLAKY": "env-flaky", "SPIN_VARIABLE_API_KEY": "env-key"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	f := fv.New([]vars.Provider{vars.Static(map[string]string{"api_key": "flag-key"})}, vars.Env(vars.DefaultEnvPrefix, lookup))
	app := factortest.Configure(t, factortest.NewAppContext(t, testApp(), rc), f)
	ctx := factortest.Prepare(t, app, "a")
	for name, want := range map[string]string{
		"token":    "Bearer flag-key", // flag over vault and env
		"greeting": "hello vault-who", // first config provider over the second and env
		"broken":   "static-flaky",    // config provider over env
	} {
		if got := get(t, ctx, f, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	// Without the runtime config the environment answers; without that, the default.
	f = fv.New(nil, vars.Env(vars.DefaultEnvPrefix, lookup))
	ctx = factortest.Prepare(t, factortest.Configure(t, factortest.NewAppContext(t, testApp(), ""), f), "a")
	if got := get(t, ctx, f, "token"); got != "Bearer env-key" {
		t.Errorf("token = %q", got)
	}
	delete(env, "SPIN_VARIABLE_WHO")
	if got := get(t, ctx, f, "greeting"); got != "hello world" {
		t.Errorf("greeting = %q", got)
	}
}

// TestEnvProvider: type "env" with its own prefix and a dotenv_path
// relative to the runtime config; the real environment beats the file.
func TestEnvProvider(t *testing.T) {
	t.Setenv("MYAPP_WHO", "env-who")
	ac := factortest.NewAppContext(t, testApp(), `
[[variables_provider]]
type = "env"
prefix = "MYAPP"
dotenv_path = "prod.env"
`)
	dotenv := "MYAPP_WHO=file-who\nMYAPP_API_KEY='file-key'\n"
	if err := os.WriteFile(filepath.Join(ac.BaseDir, "prod.env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	f := fv.New(nil)
	ctx := factortest.Prepare(t, factortest.Configure(t, ac, f), "a")
	if got := get(t, ctx, f, "greeting"); got != "hello env-who" {
		t.Errorf("greeting = %q", got)
	}
	if got := get(t, ctx, f, "token"); got != "Bearer file-key" {
		t.Errorf("token = %q", got)
	}
}

func TestProviderConfigErrors(t *testing.T) {
	const tokenValue = "hvs.must-not-leak"
	for _, tt := range []struct{ name, rc, want string }{
		{"both sections", "[[config_provider]]\ntype = \"static\"\nvalues = {}\n[[variables_provider]]\ntype = \"static\"\nvalues = {}\n", "both [[variables_provider]] and [[config_provider]]"},
		{"not an array", "[config_provider]\ntype = \"static\"\n", "config_provider must be an array of tables"},
		{"no type", "[[config_provider]]\nvalues = {}\n", `#1: missing field "type"`},
		{"unknown type", "[[config_provider]]\ntype = \"etcd\"\n", `unknown type "etcd"`},
		{"azure", "[[config_provider]]\ntype = \"azure_key_vault\"\nvault_url = \"https://x.vault.azure.net\"\n", `"azure_key_vault" is not supported by wisp`},
		{"vault unknown field", fmt.Sprintf("[[config_provider]]\ntype = \"vault\"\nurl = \"http://v:8200\"\ntoken = %q\nmount = \"secret\"\nnamespace = \"ns\"\n", tokenValue), `unknown field "namespace" for type "vault"`},
		{"vault missing mount", fmt.Sprintf("[[config_provider]]\ntype = \"vault\"\nurl = \"http://v:8200\"\ntoken = %q\n", tokenValue), `missing field "mount"`},
		{"vault missing token", "[[config_provider]]\ntype = \"vault\"\nurl = \"http://v:8200\"\nmount = \"secret\"\n", `missing field "token"`},
		{"vault bad url", fmt.Sprintf("[[config_provider]]\ntype = \"vault\"\nurl = \"v:8200\"\ntoken = %q\nmount = \"secret\"\n", tokenValue), "url must be an absolute http:// or https:// URL"},
		{"vault token type", "[[config_provider]]\ntype = \"vault\"\nurl = \"http://v:8200\"\ntoken = 1\nmount = \"secret\"\n", "token must be a string"},
		{"static values type", fmt.Sprintf("[[config_provider]]\ntype = \"static\"\nvalues = { api_key = %q, n = 3 }\n", tokenValue), "values.n must be a string"},
		{"static missing values", "[[config_provider]]\ntype = \"static\"\n", `missing field "values"`},
		{"second entry", "[[config_provider]]\ntype = \"static\"\nvalues = {}\n[[config_provider]]\ntype = \"env\"\nprefx = \"X\"\n", `#2: unknown field "prefx"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := factor.NewSet(fv.New([]vars.Provider{vars.Static(map[string]string{"api_key": "k"})}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = set.ConfigureApp(context.Background(), factortest.NewAppContext(t, testApp(), tt.rc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), tokenValue) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}

	// A malformed dotenv file names the line, not its content.
	ac := factortest.NewAppContext(t, testApp(), "[[config_provider]]\ntype = \"env\"\ndotenv_path = \"bad.env\"\n")
	if err := os.WriteFile(filepath.Join(ac.BaseDir, "bad.env"), []byte("SPIN_VARIABLE_API_KEY "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, _ := factor.NewSet(fv.New(nil))
	_, err := set.ConfigureApp(context.Background(), ac)
	if err == nil || !strings.Contains(err.Error(), "bad.env:1") || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
}

// A Vault that refuses the token fails the app at startup (Validate asks
// for the required api_key), without showing the token.
func TestVaultFailureAtStartup(t *testing.T) {
	url := vaultKV(t, nil)
	rc := fmt.Sprintf("[[config_provider]]\ntype = \"vault\"\nurl = %q\ntoken = \"hvs.wrong\"\nmount = \"secret\"\n", url)
	set, _ := factor.NewSet(fv.New(nil))
	_, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, testApp(), rc))
	if err == nil || !strings.Contains(err.Error(), `variable "api_key": provider failed: vault: permission denied`) || strings.Contains(err.Error(), "hvs.wrong") {
		t.Fatalf("err = %v", err)
	}
}
