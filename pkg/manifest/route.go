package manifest

import (
	"fmt"
	"strings"
)

// Spin's HTTP routes (crates/routes): "/exact/path", ":name" segments that
// capture one segment, and a trailing "/..." that captures the rest (the
// router also accepts routefinder's "/*" for the same). Spin's parser is
// lenient (it drops empty segments and silently prefixes a missing "/");
// Wisp rejects such routes because a route that does not mean what it says
// is a bug waiting to be found in production.

// wellKnownPrefix is reserved for the runtime's own endpoints.
const wellKnownPrefix = "/.well-known/spin/"

// checkRoute reports the first problem with an HTTP route pattern.
func checkRoute(route string) error {
	if !strings.HasPrefix(route, "/") {
		return fmt.Errorf("route %q must start with \"/\"", route)
	}
	if i := strings.IndexAny(route, " \t\r\n?#"); i >= 0 {
		return fmt.Errorf("route %q must not contain %q", route, route[i])
	}
	if strings.HasPrefix(route, wellKnownPrefix) {
		return fmt.Errorf("route %q is under %s, which is reserved for the runtime", route, wellKnownPrefix)
	}
	if strings.Contains(route, "//") {
		return fmt.Errorf("route %q has an empty segment (\"//\")", route)
	}
	segments := strings.Split(route[1:], "/")
	// One trailing slash is allowed ("/foo/" matches like "/foo").
	if n := len(segments); n > 1 && segments[n-1] == "" {
		segments = segments[:n-1]
	}
	params := map[string]bool{}
	for i, seg := range segments {
		last := i == len(segments)-1
		switch {
		case seg == "..." || seg == "*":
			if !last {
				return fmt.Errorf("route %q has %q before its end: a wildcard must be the last segment", route, seg)
			}
		case strings.HasPrefix(seg, "*"):
			return fmt.Errorf("route %q has a named wildcard %q: use \"/...\"", route, seg)
		default:
			// routefinder splits segments at dots too: "/:name.:ext".
			for part := range strings.SplitSeq(seg, ".") {
				name, isParam := strings.CutPrefix(part, ":")
				if !isParam {
					continue
				}
				if name == "" {
					return fmt.Errorf("route %q has a parameter without a name", route)
				}
				for _, c := range []byte(name) {
					if !isASCIILetter(c) && !isASCIIDigit(c) && c != '_' && c != '-' {
						return fmt.Errorf("route %q has an invalid parameter name %q: use letters, digits, '_' and '-'", route, name)
					}
				}
				if params[name] {
					return fmt.Errorf("route %q uses the parameter %q twice", route, name)
				}
				params[name] = true
			}
		}
	}
	return nil
}

// routeKey is the form of a valid route under which two routes match the
// same requests: trailing slash dropped, "/*" spelled "/...", parameter
// names erased ("/users/:id" and "/users/:name" collide).
func routeKey(route string) string {
	r := strings.TrimSuffix(route, "/")
	if w, ok := strings.CutSuffix(r, "/*"); ok {
		r = w + "/..."
	}
	segs := strings.Split(r, "/")
	for i, seg := range segs {
		parts := strings.Split(seg, ".")
		for j, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[j] = ":"
			}
		}
		segs[i] = strings.Join(parts, ".")
	}
	r = strings.Join(segs, "/")
	if r == "" {
		return "/"
	}
	return r
}
