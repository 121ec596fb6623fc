package http

import (
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// FuzzRoute checks that no route and no request path can make the router
// panic, and that what it captures comes from the path.
func FuzzRoute(f *testing.F) {
	for _, seed := range [][2]string{
		{"/", "/"},
		{"/...", "/a/b/"},
		{"/foo/:id/...", "/foo/42/bar"},
		{"/:a.:b", "/x.y.z"},
		{"/a/*", "/a"},
		{"/*.json", "/x.json"},
		{"/:file.json", "/x/.json"},
		{"//.../:", "//"},
		{"foo/.../bar", "/foo.../bar?x=1"},
		{"/.well-known/spin/...", "/.well-known/spin/health"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, route, path string) {
		r, err := NewRouter([]lockedapp.Trigger{
			httpTrigger("fuzz", route),
			httpTrigger("root", "/"),
		})
		if err != nil {
			return
		}
		var m Match
		if !r.Route(path, &m) {
			return
		}
		for _, p := range m.Params {
			if !strings.Contains(path, p.Value) {
				t.Fatalf("route %q, path %q: param %q not in path", route, path, p.Value)
			}
		}
		if m.Wildcard != "" && !m.Route.pattern.hasWildcard() {
			t.Fatalf("route %q, path %q: wildcard %q without a wildcard segment", route, path, m.Wildcard)
		}
	})
}

func (p *pattern) hasWildcard() bool {
	return len(p.segs) > 0 && p.segs[len(p.segs)-1].kind == segWildcard
}
