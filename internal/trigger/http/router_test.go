package http

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// httpTrigger is an http trigger routing route to component id.
func httpTrigger(id, route string) lockedapp.Trigger {
	return lockedapp.Trigger{ID: "t-" + id, Type: "http", Component: id,
		HTTP: &lockedapp.HTTPTrigger{Route: route, Executor: lockedapp.Executor{Type: "spin"}}}
}

// componentRouter builds a router from (component, route) pairs, like the
// component_router helper of Spin's tests.
func componentRouter(t testing.TB, pairs ...[2]string) *Router {
	t.Helper()
	var ts []lockedapp.Trigger
	for _, p := range pairs {
		ts = append(ts, httpTrigger(p[0], p[1]))
	}
	r, err := NewRouter(ts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRoute(t *testing.T, r *Router, path string) *Match {
	t.Helper()
	var m Match
	if !r.Route(path, &m) {
		t.Fatalf("%s: no route matched", path)
	}
	return &m
}

func routeComponents(r *Router) []string {
	var ids []string
	for _, rt := range r.Routes() {
		ids = append(ids, rt.ComponentID)
	}
	return ids
}

// The cases below mirror crates/routes/src/lib.rs (route_tests) in Spin.

func TestRouterSpinCases(t *testing.T) {
	tests := []struct {
		name   string
		routes [][2]string
		want   map[string]string // path -> component ("" = no match)
	}{
		{"exact", [][2]string{{"foo", "/foo"}, {"foobar", "/foo/bar"}},
			map[string]string{"/foo": "foo", "/foo/bar": "foobar", "/foo/baz": "", "/": "", "/foobar": ""}},
		{"wildcard", [][2]string{{"all", "/..."}},
			map[string]string{"/foo/bar": "all", "/abc/": "all", "/": "all", "/this/should/be/captured?abc=def": "all"}},
		{"longest match", [][2]string{{"one_wildcard", "/one/..."}, {"onetwo_wildcard", "/one/two/..."}, {"onetwothree_wildcard", "/one/two/three/..."}},
			map[string]string{"/one/two/three/four": "onetwothree_wildcard", "/one/two/x": "onetwo_wildcard", "/one": "one_wildcard", "/onex": ""}},
		{"longest match regardless of order", [][2]string{{"onetwothree_wildcard", "/one/two/three/..."}, {"onetwo_wildcard", "/one/two/..."}, {"one_wildcard", "/one/..."}},
			map[string]string{"/one/two/three/four": "onetwothree_wildcard", "/one/two/x": "onetwo_wildcard"}},
		{"exact beats wildcard", [][2]string{{"wildcard", "/..."}, {"one_exact", "/one"}},
			map[string]string{"/one": "one_exact", "/two": "wildcard", "/one/two": "wildcard"}},
		{"param", [][2]string{{"user", "/users/:id"}, {"me", "/users/me"}, {"rest", "/users/..."}},
			map[string]string{"/users/42": "user", "/users/me": "me", "/users/42/x": "rest", "/users": "rest"}},
		{"trailing slashes are ignored", [][2]string{{"a", "/a"}, {"b", "/b/"}},
			map[string]string{"/a/": "a", "/a": "a", "/a//": "a", "/b": "b", "/b/": "b"}},
		{"root is exact", [][2]string{{"root", "/"}},
			map[string]string{"/": "root", "//": "root", "/x": ""}},
		{"relative route is absolutized", [][2]string{{"foo", "foo"}},
			map[string]string{"/foo": "foo"}},
		{"routefinder wildcard syntax", [][2]string{{"star", "/s/*"}},
			map[string]string{"/s": "star", "/s/a/b": "star"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := componentRouter(t, tt.routes...)
			for path, want := range tt.want {
				var m Match
				ok := r.Route(path, &m)
				got := ""
				if ok {
					got = m.Route.ComponentID
				}
				if got != want {
					t.Errorf("Route(%q) = %q, want %q", path, got, want)
				}
			}
		})
	}
}

func TestRouterReturnsTriggerOrComponent(t *testing.T) {
	static := lockedapp.Trigger{ID: "triggy", Type: "http",
		HTTP: &lockedapp.HTTPTrigger{Route: "/foo/bar", StaticResponse: &lockedapp.StaticResponse{Body: "hi"}}}
	r, err := NewRouter([]lockedapp.Trigger{httpTrigger("compy", "/foo"), static})
	if err != nil {
		t.Fatal(err)
	}
	if m := mustRoute(t, r, "/foo"); m.Route.ComponentID != "compy" || m.Route.Static != nil {
		t.Errorf("/foo routed to %+v", m.Route)
	}
	if m := mustRoute(t, r, "/foo/bar"); m.Route.TriggerID != "triggy" || m.Route.Static == nil {
		t.Errorf("/foo/bar routed to %+v", m.Route)
	}
}

func TestRouteDisplay(t *testing.T) {
	r := componentRouter(t, [2]string{"comp", "/whee/..."}, [2]string{"all", "/..."}, [2]string{"root", "/"}, [2]string{"x", "/x/"})
	var got []string
	for _, rt := range r.Routes() {
		got = append(got, rt.ComponentID+" "+rt.String())
	}
	want := []string{"root /", "x /x", "comp /whee (wildcard)", "all / (wildcard)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
}

func TestRouterOrderOfReachableRoutesIsPreserved(t *testing.T) {
	r := componentRouter(t, [2]string{"comp-/", "/"}, [2]string{"comp-/foo", "/foo"}, [2]string{"comp-/bar", "/bar"}, [2]string{"comp-/whee/...", "/whee/..."})
	want := []string{"comp-/", "comp-/foo", "comp-/bar", "comp-/whee/..."}
	if got := routeComponents(r); !reflect.DeepEqual(got, want) {
		t.Errorf("routes = %q, want %q", got, want)
	}
}

// Spin keeps the last of two identical routes and logs the other; Wisp
// refuses the app, naming both triggers, since one route is dead.
func TestRouterDuplicateRoutesAreErrors(t *testing.T) {
	tests := []struct{ a, b string }{
		{"/", "/"},
		{"/foo", "/foo"},
		{"/...", "/..."},
		{"/whee/...", "/whee/..."},
		{"/foo", "/foo/"},         // same after Spin's trailing-slash sanitizing
		{"/foo", "foo"},           // same once absolutized
		{"/:a", "/:b"},            // param names do not matter
		{"/a/...", "/a/*"},        // both spellings of the wildcard
		{"//a", "/a"},             // empty segments vanish
		{"/:id/x/...", "/:n/x/*"}, // all of the above
	}
	for _, tt := range tests {
		_, err := NewRouter([]lockedapp.Trigger{httpTrigger("first", tt.a), httpTrigger("second", tt.b)})
		if err == nil {
			t.Errorf("%q + %q: no error", tt.a, tt.b)
			continue
		}
		if !strings.Contains(err.Error(), `"t-first"`) || !strings.Contains(err.Error(), `"t-second"`) {
			t.Errorf("%q + %q: error %q does not name both triggers", tt.a, tt.b, err)
		}
	}
	// Different routes are fine, even when they overlap.
	componentRouter(t, [2]string{"a", "/"}, [2]string{"b", "/..."}, [2]string{"c", "/a/:x"}, [2]string{"d", "/a/b"}, [2]string{"e", "/a.b"}, [2]string{"f", "/a/b.c"})
}

func TestRouterPrivateRoutesAreSkipped(t *testing.T) {
	priv := httpTrigger("comp-private", "")
	priv.HTTP.Private = true
	r, err := NewRouter([]lockedapp.Trigger{httpTrigger("comp-/", "/"), httpTrigger("comp-/foo", "/foo"), priv, httpTrigger("comp-/whee/...", "/whee/...")})
	if err != nil {
		t.Fatal(err)
	}
	if got := routeComponents(r); len(got) != 3 || strings.Contains(strings.Join(got, ","), "private") {
		t.Errorf("routes = %q", got)
	}
}

func TestRouterIgnoresOtherTriggers(t *testing.T) {
	r, err := NewRouter([]lockedapp.Trigger{{ID: "r", Type: "redis", Component: "x"}, httpTrigger("a", "/a")})
	if err != nil {
		t.Fatal(err)
	}
	if got := routeComponents(r); !reflect.DeepEqual(got, []string{"a"}) {
		t.Errorf("routes = %q", got)
	}
}

func TestRouterWildcardCapture(t *testing.T) {
	tests := []struct{ route, path, want string }{
		// trailing_wildcard_is_captured
		{"/...", "/1/2/3", "/1/2/3"},
		{"/1/...", "/1/2/3", "/2/3"},
		// trailing_wildcard_respects_trailing_slash
		{"/test/...", "/test", ""},
		{"/test/...", "/test/", "/"},
		{"/test/...", "/test/hello", "/hello"},
		{"/test/...", "/test/hello/", "/hello/"},
		// beyond Spin's tests: what the same rules give
		{"/...", "/", "/"},
		{"/...", "//a//", "/a/"},
		{"/test/...", "/test//a", "//a"},
		{"/test/*", "/test/a", "/a"},
		{"/exact", "/exact/", ""},
		{"/:x.*", "/a.b", "/b"}, // not a Spin wildcard route, but routefinder captures
	}
	for _, tt := range tests {
		r := componentRouter(t, [2]string{"comp", tt.route})
		m := mustRoute(t, r, tt.path)
		if m.Wildcard != tt.want {
			t.Errorf("route %q, path %q: wildcard %q, want %q", tt.route, tt.path, m.Wildcard, tt.want)
		}
	}
}

func TestRouterParams(t *testing.T) {
	tests := []struct {
		route, path string
		want        []Param
	}{
		// named_wildcard_is_captured
		{"/1/:two/3", "/1/2/3", []Param{{"two", "2"}}},
		{"/1/:two/...", "/1/2/3", []Param{{"two", "2"}}},
		{"/:a/:b/:c", "/aaa/bbb/ccc", []Param{{"a", "aaa"}, {"b", "bbb"}, {"c", "ccc"}}},
		{"/a/:x/b", "/a//b", []Param{{"x", ""}}},
		{"/:file.json", "/x.json", []Param{{"file", "x"}}},
	}
	for _, tt := range tests {
		r := componentRouter(t, [2]string{"comp", tt.route})
		m := mustRoute(t, r, tt.path)
		if !reflect.DeepEqual(m.Params, tt.want) {
			t.Errorf("route %q, path %q: params %v, want %v", tt.route, tt.path, m.Params, tt.want)
		}
	}
}

func TestRouterReservedRoutes(t *testing.T) {
	for route, reserved := range map[string]bool{
		"/.well-known/spin/...":    true,
		"/.well-known/spin/fie":    true,
		"/.well-known/spindle/...": false,
		"/.well-known/spi/...":     false,
		"/.well-known/spin":        false,
	} {
		r := componentRouter(t, [2]string{"comp", route})
		if got := len(r.Reserved()) > 0; got != reserved {
			t.Errorf("%q: reserved = %v, want %v", route, got, reserved)
		}
	}
}

func TestRouterBadRoutes(t *testing.T) {
	for _, route := range []string{"/*named", "/:", "/a/:/b", "/*/a", "/*.json"} {
		_, err := NewRouter([]lockedapp.Trigger{httpTrigger("comp", route)})
		if err == nil || !strings.Contains(err.Error(), `"t-comp"`) {
			t.Errorf("%q: error %v, want one naming the trigger", route, err)
		}
	}
	if _, err := NewRouter([]lockedapp.Trigger{{ID: "x", Type: "http", Component: "c"}}); err == nil {
		t.Error("http trigger without http section: no error")
	}
}

// rfRouter builds a router straight from routefinder specs, bypassing
// Spin's sanitizing, to check the cases of routefinder's own tests
// (tests/tests.rs at v0.5.4). Route i is named "i" (from 1).
func rfRouter(t *testing.T, specs ...string) *Router {
	t.Helper()
	rt := &Router{}
	for i, spec := range specs {
		p, err := parsePattern(spec)
		if err != nil {
			t.Fatalf("%q: %v", spec, err)
		}
		if err := rt.add(&Route{TriggerID: fmt.Sprint(i + 1), Raw: spec, pattern: p}); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

// allMatches is routefinder's Router::matches: every matching route, best
// first.
func allMatches(rt *Router, path string) []string {
	var ids []string
	for _, r := range rt.routes {
		if _, _, _, ok := r.pattern.match(path, nil); ok {
			ids = append(ids, r.TriggerID)
		}
	}
	return ids
}

func best(rt *Router, path string) (string, *Match) {
	var m Match
	if !rt.Route(path, &m) {
		return "", &m
	}
	return m.Route.TriggerID, &m
}

func TestRoutefinderItWorks(t *testing.T) {
	rt := rfRouter(t, "/*", "/hello", "/:greeting", "/hey/:world", "/hey/earth", "/:greeting/:world/*")
	var order []string
	for _, r := range rt.routes {
		order = append(order, r.Raw)
	}
	want := []string{"/hello", "/hey/earth", "/hey/:world", "/:greeting", "/:greeting/:world/*", "/*"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("order = %q, want %q", order, want)
	}
	if n := len(allMatches(rt, "/hello")); n != 3 {
		t.Errorf("matches(/hello) = %d", n)
	}
	if n := len(allMatches(rt, "/")); n != 1 {
		t.Errorf("matches(/) = %d", n)
	}
	if id, _ := best(rt, "/hey/earth"); id != "5" {
		t.Errorf("best(/hey/earth) = %s", id)
	}
	if _, m := best(rt, "/hey/mars"); !reflect.DeepEqual(m.Params, []Param{{"world", "mars"}}) {
		t.Errorf("best(/hey/mars) params = %v", m.Params)
	}
	id, m := best(rt, "/hey/earth/wildcard/stuff")
	if id != "6" || m.Wildcard != "/wildcard/stuff" ||
		!reflect.DeepEqual(m.Params, []Param{{"greeting", "hey"}, {"world", "earth"}}) {
		t.Errorf("best(/hey/earth/wildcard/stuff) = %s %+v", id, m)
	}
}

func TestRoutefinderCases(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		paths map[string][]string // path -> all matches, best first
	}{
		{"several params", []string{"/:a", "/:a/:b", "/:a/:b/:c", "/:param1/specific/:param2"}, map[string][]string{
			"/hi": {"1"}, "/hi/there": {"2"}, "/hi/there/hey": {"3"}, "/hi/specific/anything": {"4", "3"},
			"/": nil, "/a/b/c/d": nil,
		}},
		{"wildcard matches root", []string{"*"}, map[string][]string{"/": {"1"}}},
		{"wildcard after param, trailing slash", []string{"/something/:anything/*"}, map[string][]string{
			"/something/1/": {"1"}, "/something/1": {"1"},
		}},
		{"trailing slashes ignored", []string{"/a"}, map[string][]string{"/a/": {"1"}, "/a": {"1"}}},
		{"trailing slashes ignored in spec", []string{"/a/"}, map[string][]string{"/a/": {"1"}, "/a": {"1"}}},
		{"dots", []string{"/:a.:b", "/:a/:b.:c", "/:a/:b", "/:a/:b.txt"}, map[string][]string{
			"/hello.world": {"1"}, "/hi/there.world": {"2", "3"}, "/hi/yep": {"3"},
			"/hi/planet.txt": {"4", "2", "3"}, "/": nil, "/a/b/c/d": nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := rfRouter(t, tt.specs...)
			for path, want := range tt.paths {
				if got := allMatches(rt, path); !reflect.DeepEqual(got, want) {
					t.Errorf("matches(%q) = %q, want %q", path, got, want)
				}
			}
		})
	}
}

func TestRoutefinderSpecificMatches(t *testing.T) {
	tests := []struct {
		spec, path string
		want       []string // nil: no match
	}{
		{"a.:b", "a.hello", []string{"hello"}},
		{":a.:b", "a.hello", []string{"a", "hello"}},
		{":param", "/a.b.c.d", []string{"a.b.c.d"}},
		{":a.:b", "/a.b.c.d", []string{"a", "b.c.d"}},
		{":a.:b.:c", "/a.b.c.d", []string{"a", "b", "c.d"}},
		{":a.:b.:c.:d", "/a.b.c.d", []string{"a", "b", "c", "d"}},
		{":a.:b", "/a", nil},
		{"/a.b", "/a.b", []string{}},
		{"/a.b", "/a/b", nil},
		// A '.' glues onto the literal before it and the empty piece after
		// "foo/" vanishes, so this route wants "/foo.../bar".
		{"/foo/.../bar", "/foo.../bar", []string{}},
		{"/foo/.../bar", "/foo/.../bar", nil},
	}
	for _, tt := range tests {
		p, err := parsePattern(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		params, _, _, ok := p.match(tt.path, nil)
		if !ok {
			if tt.want != nil {
				t.Errorf("%q on %q: no match", tt.spec, tt.path)
			}
			continue
		}
		got := []string{}
		for _, pr := range params {
			got = append(got, pr.Value)
		}
		if tt.want == nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q on %q: %q, want %q", tt.spec, tt.path, got, tt.want)
		}
	}
}

func TestRoutefinderPriority(t *testing.T) {
	for _, tt := range [][2]string{{"exact", ":param"}, {"a", "a/b"}, {":a.:b", ":a"}} {
		hi, _ := parsePattern(tt[0])
		lo, _ := parsePattern(tt[1])
		if !hi.before(&lo) || lo.before(&hi) {
			t.Errorf("%q should rank before %q", tt[0], tt[1])
		}
	}
}

func TestRoutefinderParseErrors(t *testing.T) {
	if _, err := parsePattern("*named_star"); err == nil || !strings.Contains(err.Error(), "replace `*named_star` with `*`") {
		t.Errorf("*named_star: %v", err)
	}
	if _, err := parsePattern(":"); err == nil || err.Error() != "params must be named" {
		t.Errorf(":: %v", err)
	}
}

func TestRouteDoesNotAllocate(t *testing.T) {
	r := benchRouter(t)
	m := Match{Params: make([]Param, 0, 4)}
	for _, path := range benchPaths {
		allocs := testing.AllocsPerRun(100, func() { r.Route(path, &m) })
		if allocs != 0 {
			t.Errorf("Route(%q): %v allocs", path, allocs)
		}
	}
}

var benchPaths = []string{"/", "/api/users/42", "/api/users/42/posts/7", "/static/css/site.css", "/static/", "/nowhere/at/all", "/health"}

func benchRouter(t testing.TB) *Router {
	return componentRouter(t,
		[2]string{"home", "/"},
		[2]string{"health", "/health"},
		[2]string{"users", "/api/users"},
		[2]string{"user", "/api/users/:id"},
		[2]string{"posts", "/api/users/:id/posts/:post"},
		[2]string{"api", "/api/..."},
		[2]string{"static", "/static/..."},
		[2]string{"login", "/login"},
		[2]string{"logout", "/logout"},
		[2]string{"about", "/about"},
	)
}

func BenchmarkRoute(b *testing.B) {
	r := benchRouter(b)
	for _, path := range benchPaths {
		b.Run(path, func(b *testing.B) {
			m := Match{Params: make([]Param, 0, 4)}
			b.ReportAllocs()
			for b.Loop() {
				r.Route(path, &m)
			}
		})
	}
}
