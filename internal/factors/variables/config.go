package variables

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/wisp-dev/wisp/internal/factor"
	vars "github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// parseProviders reads the runtime config's variable providers, strictly:
//
//	[[config_provider]]          # or [[variables_provider]], Spin's newer name
//	type = "vault"               # HashiCorp Vault / OpenBao, KV v2
//	url = "http://127.0.0.1:8200"
//	token = "..."
//	mount = "secret"
//	prefix = "wisp"              # optional: secrets at <mount>/<prefix>/<name>
//
//	[[config_provider]]
//	type = "static"
//	values = { api_key = "..." }
//
//	[[config_provider]]
//	type = "env"
//	prefix = "MYAPP"             # optional, default SPIN_VARIABLE
//	dotenv_path = ".env.prod"    # optional; relative to the runtime config
//
// Spin's azure_key_vault is recognised but not supported. Errors name
// entries and fields, never their values (tokens, static secrets).
func parseProviders(ac *factor.AppContext) ([]vars.Provider, error) {
	cfgRaw, cfgOK := ac.RuntimeConfig.Take("config_provider")
	varRaw, varOK := ac.RuntimeConfig.Take("variables_provider")
	section, raw := "config_provider", cfgRaw
	switch {
	case cfgOK && varOK:
		// Spin silently ignores config_provider then; say so instead.
		return nil, errors.New("runtime config: both [[variables_provider]] and [[config_provider]] are present: use one (they are the same section)")
	case varOK:
		section, raw = "variables_provider", varRaw
	case !cfgOK:
		return nil, nil
	}
	var entries []any
	switch v := raw.(type) {
	case []any:
		entries = v
	case []map[string]any:
		for _, t := range v {
			entries = append(entries, t)
		}
	default:
		return nil, fmt.Errorf("runtime config: %s must be an array of tables ([[%s]])", section, section)
	}
	var (
		providers []vars.Provider
		errs      []error
	)
	for i, e := range entries {
		where := fmt.Sprintf("runtime config: [[%s]] #%d", section, i+1)
		fields, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: must be a table", where))
			continue
		}
		ps, err := provider(ac, runtimeconfig.NewTable(where, fields))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		providers = append(providers, ps...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return providers, nil
}

// provider builds the provider(s) of one entry.
func provider(ac *factor.AppContext, t *runtimeconfig.Table) ([]vars.Provider, error) {
	// required reads a string field that must be present.
	required := func(field string) string {
		s, _ := t.String(field)
		if !t.Has(field) {
			t.Errorf("missing field %q", field)
		}
		return s
	}
	typ, _ := t.String("type")
	if err := t.Err(); err != nil {
		return nil, err
	}
	switch typ {
	case "vault":
		t.Strict(typ, "type", "url", "token", "mount", "prefix")
	case "static":
		t.Strict(typ, "type", "values")
	case "env":
		t.Strict(typ, "type", "prefix", "dotenv_path")
	case "azure_key_vault":
		return nil, fmt.Errorf("%s: type \"azure_key_vault\" is not supported by wisp (supported: \"vault\", \"static\", \"env\")", t.Where)
	case "":
		return nil, fmt.Errorf("%s: missing field \"type\" (\"vault\", \"static\" or \"env\")", t.Where)
	default:
		return nil, fmt.Errorf("%s: unknown type %q (wisp supports \"vault\", \"static\" and \"env\")", t.Where, typ)
	}
	if err := t.Err(); err != nil {
		return nil, err
	}

	switch typ {
	case "vault":
		var c vars.VaultConfig
		c.URL, c.Token, c.Mount = required("url"), required("token"), required("mount")
		c.Prefix, _ = t.String("prefix")
		if err := t.Err(); err != nil {
			return nil, err
		}
		p, err := vars.Vault(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Where, err)
		}
		return []vars.Provider{p}, nil

	case "static":
		raw, ok := t.Value("values")
		if !ok {
			return nil, fmt.Errorf("%s: missing field \"values\"", t.Where)
		}
		table, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: values must be a table of strings", t.Where)
		}
		values := make(map[string]string, len(table))
		for _, name := range slices.Sorted(maps.Keys(table)) {
			s, ok := table[name].(string)
			if !ok {
				t.Errorf("values.%s must be a string", name)
				continue
			}
			values[name] = s
		}
		if err := t.Err(); err != nil {
			return nil, err
		}
		return []vars.Provider{vars.Static(values)}, nil

	default: // env
		prefix, ok := t.String("prefix")
		if err := t.Err(); err != nil {
			return nil, err
		}
		if !ok {
			prefix = vars.DefaultEnvPrefix
		}
		path, _ := t.String("dotenv_path")
		if err := t.Err(); err != nil {
			return nil, err
		}
		// The environment first, then the file: Spin merges .env beneath
		// the real environment.
		ps := []vars.Provider{vars.Env(prefix, os.LookupEnv)}
		if path != "" {
			if !filepath.IsAbs(path) {
				path = filepath.Join(ac.BaseDir, path)
			}
			dotenv, err := vars.DotEnv(prefix, path)
			if err != nil {
				return nil, fmt.Errorf("%s: dotenv_path: %w", t.Where, err)
			}
			ps = append(ps, dotenv)
		}
		return ps, nil
	}
}
