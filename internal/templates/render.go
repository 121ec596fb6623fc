package templates

import (
	"fmt"
	"strings"
	"unicode"
)

// Render replaces every {{ name }} or {{ name | filter | ... }} in text with
// the value of the variable, passed through the filters from left to right.
//
// This is the small subset of Liquid that Spin's templates use for
// substitution; tags ({% %}) are not supported. Unknown variables and filters
// are errors rather than empty strings, so a typo in a template fails its test
// instead of producing a broken app.
func Render(text string, vars map[string]string) (string, error) {
	var out strings.Builder
	rest := text
	for {
		start := strings.Index(rest, "{{")
		if start < 0 {
			out.WriteString(rest)
			return out.String(), nil
		}
		out.WriteString(rest[:start])
		line := 1 + strings.Count(text[:len(text)-len(rest)+start], "\n")
		expr, after, ok := strings.Cut(rest[start+2:], "}}")
		if !ok {
			return "", fmt.Errorf("line %d: unclosed '{{'", line)
		}
		value, err := evaluate(expr, vars)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", line, err)
		}
		out.WriteString(value)
		rest = after
	}
}

// evaluate computes one "name | filter | filter" expression.
func evaluate(expr string, vars map[string]string) (string, error) {
	parts := strings.Split(expr, "|")
	name := strings.TrimSpace(parts[0])
	value, ok := vars[name]
	if !ok {
		return "", fmt.Errorf("unknown variable %q", name)
	}
	for _, f := range parts[1:] {
		f = strings.TrimSpace(f)
		filter, ok := filters[f]
		if !ok {
			return "", fmt.Errorf("unknown filter %q", f)
		}
		value = filter(value)
	}
	return value, nil
}

// filters are the Spin template filters Wisp's templates use.
var filters = map[string]func(string) string{
	"kebab_case":    KebabCase,
	"snake_case":    SnakeCase,
	"pascal_case":   PascalCase,
	"http_wildcard": httpWildcard,
}

// KebabCase turns "My HTTPServer_app" into "my-http-server-app".
func KebabCase(s string) string { return strings.ToLower(strings.Join(words(s), "-")) }

// SnakeCase turns "My HTTPServer-app" into "my_http_server_app".
func SnakeCase(s string) string { return strings.ToLower(strings.Join(words(s), "_")) }

// PascalCase turns "my-http server" into "MyHttpServer".
func PascalCase(s string) string {
	var b strings.Builder
	for _, w := range words(s) {
		r := []rune(strings.ToLower(w))
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

// httpWildcard makes a route match everything below it, as Spin's
// http_wildcard filter does: "/static" and "/static/" become "/static/...".
func httpWildcard(route string) string {
	switch {
	case strings.HasSuffix(route, "/..."):
		return route
	case strings.HasSuffix(route, "/"):
		return route + "..."
	default:
		return route + "/..."
	}
}

// words splits s into words the way the heck crate (behind Spin's filters)
// does: at every non-alphanumeric character, between a lower-case letter or
// digit and an upper-case letter ("myApp"), and before the last capital of an
// acronym that starts a new word ("HTTPServer" → "HTTP", "Server").
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if len(cur) > 0 && unicode.IsUpper(r) {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return out
}
