package trigger

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Resolver renders a {{ variable }} template in a trigger setting of
// componentID over the application variables. The composition root passes
// the variables factor's resolver (variables.Resolver.ResolveTemplate).
type Resolver func(ctx context.Context, componentID, tmpl string) (string, error)

// Resolve renders s with r. Without a resolver, a template is an error; a
// plain string is returned as is. what names the setting in errors, which
// never contain the rendered value (it may hold a secret).
func Resolve(ctx context.Context, r Resolver, componentID, what, s string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	if r == nil {
		return "", fmt.Errorf("%s uses {{ }} templates, but no variable resolver is configured", what)
	}
	v, err := r(ctx, componentID, s)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", what, err)
	}
	return v, nil
}

// String reads a string setting from a trigger's config. A missing key
// gives "".
func String(cfg map[string]any, key string) (string, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string, not %T", key, v)
	}
	return s, nil
}

// Int reads an integer setting: a number as TOML (int64) or JSON (float64)
// decodes it, or a decimal string as Spin's trigger plugins write numbers.
// A missing key gives def.
func Int(cfg map[string]any, key string, def int) (int, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	switch n := v.(type) {
	case int:
		return n, nil
	case int64:
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n), nil
		}
	case float64:
		if n == math.Trunc(n) && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n), nil
		}
	case string:
		if i, err := strconv.Atoi(strings.TrimSpace(n)); err == nil {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%s must be an integer, not %v", key, v)
}
