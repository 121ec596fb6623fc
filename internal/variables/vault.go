package variables

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// VaultConfig is a [[config_provider]] entry of type "vault", with Spin's
// fields: a HashiCorp Vault (or OpenBao) server, its KV version 2 secrets
// engine mounted at Mount, and an optional Prefix under which the
// variables live. Variable api_key is the secret at <Prefix>/api_key, and
// its value is the secret's "value" field:
//
//	vault kv put -mount=secret wisp/api_key value=...
type VaultConfig struct {
	URL    string
	Token  string
	Mount  string
	Prefix string
	// Timeout bounds one lookup; 0 means 30 seconds.
	Timeout time.Duration
}

// Vault returns a provider reading variables from Vault's KV v2 API
// (GET /v1/<mount>/data/<prefix>/<name>). A secret that does not exist is
// "no value" so the next provider is asked, as in Spin; any other failure
// is an error, so that a misconfigured Vault is never silently skipped.
// Neither the token nor a value appears in its errors.
func Vault(c VaultConfig) (Provider, error) {
	base, err := url.Parse(c.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("vault: url must be an absolute http:// or https:// URL")
	}
	if c.Mount == "" {
		return nil, errors.New("vault: mount must not be empty")
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return &vaultProvider{
		base:   base,
		token:  c.Token,
		mount:  strings.Trim(c.Mount, "/"),
		prefix: strings.Trim(c.Prefix, "/"),
		client: &http.Client{Timeout: c.Timeout},
	}, nil
}

type vaultProvider struct {
	base                 *url.URL
	token, mount, prefix string
	client               *http.Client
}

// path is the secret's path within the mount.
func (v *vaultProvider) path(name string) string {
	if v.prefix == "" {
		return name
	}
	return v.prefix + "/" + name
}

func (v *vaultProvider) Get(ctx context.Context, name string) (string, bool, error) {
	secret := v.path(name)
	u := v.base.JoinPath("v1", v.mount, "data", secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", false, fmt.Errorf("vault: %w", err)
	}
	req.Header.Set("X-Vault-Token", v.token)
	req.Header.Set("X-Vault-Request", "true")
	resp, err := v.client.Do(req)
	if err != nil {
		// net/http names the URL (without a password), never the header.
		return "", false, fmt.Errorf("vault: reading secret %q at mount %q: %w", secret, v.mount, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", false, fmt.Errorf("vault: reading secret %q at mount %q: %w", secret, v.mount, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		// No such secret (or only deleted versions): not this provider's.
		return "", false, nil
	case resp.StatusCode == http.StatusForbidden:
		return "", false, fmt.Errorf("vault: permission denied reading secret %q at mount %q: check the token and its policy", secret, v.mount)
	case resp.StatusCode != http.StatusOK:
		return "", false, fmt.Errorf("vault: reading secret %q at mount %q: %s%s", secret, v.mount, resp.Status, vaultErrors(body))
	}
	// The value is decoded as raw JSON first so that no decoding error can
	// quote it.
	var env struct {
		Data struct {
			Data map[string]json.RawMessage `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return "", false, fmt.Errorf("vault: secret %q at mount %q: malformed response (is the mount a KV version 2 engine?)", secret, v.mount)
	}
	raw, ok := env.Data.Data["value"]
	var value string
	if !ok || json.Unmarshal(raw, &value) != nil {
		return "", false, fmt.Errorf("vault: secret %q at mount %q has no string field \"value\"", secret, v.mount)
	}
	return value, true, nil
}

// vaultErrors renders Vault's {"errors": [...]} body, which explains
// failures ("Vault is sealed") and never holds secrets.
func vaultErrors(body []byte) string {
	var e struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return ": " + strings.Join(e.Errors, "; ")
}
