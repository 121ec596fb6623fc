package variables

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Provider supplies values for application variables.
type Provider interface {
	// Get returns the value of the application variable name (lower_snake
	// case, as declared in the manifest). ok is false when the provider has
	// no value for it; err is for a provider that failed to answer, and must
	// not contain the value.
	Get(ctx context.Context, name string) (value string, ok bool, err error)
}

// DefaultEnvPrefix is the prefix Spin uses for variables taken from the
// environment: api_key is read from SPIN_VARIABLE_API_KEY.
const DefaultEnvPrefix = "SPIN_VARIABLE_"

// Static serves values given up front, such as `--variable k=v` flags.
func Static(values map[string]string) Provider {
	m := make(map[string]string, len(values)) // a copy: callers may reuse their map
	for k, v := range values {
		m[k] = v
	}
	return staticProvider(m)
}

type staticProvider map[string]string

func (s staticProvider) Get(_ context.Context, name string) (string, bool, error) {
	v, ok := s[name]
	return v, ok, nil
}

// Env reads variables from environment variables named EnvName(prefix,
// name). lookup is usually os.LookupEnv; tests pass a map's lookup.
func Env(prefix string, lookup func(string) (string, bool)) Provider {
	return envProvider{prefix: prefix, lookup: lookup}
}

// EnvName maps a variable name to its environment variable as Spin does:
// the prefix, joined with "_" unless it already ends in one, then the name
// in upper case (api_key, "SPIN_VARIABLE" → SPIN_VARIABLE_API_KEY).
func EnvName(prefix, name string) string {
	if prefix != "" && !strings.HasSuffix(prefix, "_") {
		prefix += "_"
	}
	return prefix + strings.ToUpper(name)
}

type envProvider struct {
	prefix string
	lookup func(string) (string, bool)
}

func (e envProvider) Get(_ context.Context, name string) (string, bool, error) {
	v, ok := e.lookup(EnvName(e.prefix, name))
	return v, ok, nil
}

// DotEnv reads a .env file and serves it like Env serves the environment:
// keys in the file are environment variable names (SPIN_VARIABLE_API_KEY=...),
// which is how Spin merges .env into its environment provider. Put it after
// Env so that the real environment wins, as in Spin. A missing file is an
// empty provider, not an error, because .env is optional.
func DotEnv(prefix, path string) (Provider, error) {
	values, err := ReadDotEnv(path)
	if err != nil {
		return nil, err
	}
	return Env(prefix, func(k string) (string, bool) {
		v, ok := values[k]
		return v, ok
	}), nil
}

// ReadDotEnv parses a .env file: KEY=value lines, optionally prefixed by
// "export ", with # comments and blank lines ignored. A value may be
// 'single quoted' (literal) or "double quoted" (\n, \t, \", \\ escapes);
// an unquoted value ends at " #". Errors give the line number but never the
// line, which may hold a secret.
func ReadDotEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()

	values := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, raw, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("%s:%d: expected KEY=value", path, n)
		}
		val, err := dotEnvValue(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		values[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return values, nil
}

func dotEnvValue(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	switch q := raw[0]; q {
	case '\'', '"':
		end := closingQuote(raw, q)
		if end < 0 {
			return "", errors.New("unterminated quoted value")
		}
		if rest := strings.TrimSpace(raw[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", errors.New("unexpected text after quoted value")
		}
		body := raw[1:end]
		if q == '\'' {
			return body, nil
		}
		return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\"`, `"`, `\\`, `\`).Replace(body), nil
	default:
		if i := strings.Index(raw, " #"); i >= 0 {
			raw = raw[:i]
		}
		return strings.TrimSpace(raw), nil
	}
}

// closingQuote finds the quote ending a value that starts with q, skipping
// backslash-escaped quotes inside double quotes.
func closingQuote(raw string, q byte) int {
	for i := 1; i < len(raw); i++ {
		switch {
		case q == '"' && raw[i] == '\\':
			i++
		case raw[i] == q:
			return i
		}
	}
	return -1
}
