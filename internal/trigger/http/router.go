package http

import (
	"fmt"
	"strings"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// WellKnownPrefix is the path prefix the trigger keeps for itself
// (/.well-known/spin/health, /.well-known/spin/info): requests under it never
// reach a component.
const WellKnownPrefix = "/.well-known/spin/"

// Route is one reachable route of an app, as the router ranks it.
type Route struct {
	// TriggerID and ComponentID identify the trigger ("" ComponentID for a
	// static response).
	TriggerID   string
	ComponentID string
	// Static is the trigger's static response, or nil.
	Static *lockedapp.StaticResponse
	// Raw is the route as written in the manifest ("/static/...", "foo/").
	Raw string
	// Based is Raw made absolute, with one trailing slash dropped and the base
	// path ("/") prefixed: "/static/...", "/foo", and "" for "/". It is what
	// Spin reports as spin-matched-route.
	Based string
	// Path is the route without its trailing wildcard, for display ("/" at
	// least); Wildcard says whether it ends with "/..." (or "/*").
	Path     string
	Wildcard bool

	pattern pattern
}

// String renders the route as `spin up` lists it: "/hello" or
// "/static (wildcard)".
func (r *Route) String() string {
	if r.Wildcard {
		return r.Path + " (wildcard)"
	}
	return r.Path
}

// componentRoute is Raw without a trailing "/...": spin-component-route.
func (r *Route) componentRoute() string {
	return strings.TrimSuffix(r.Raw, "/...")
}

// Router maps request paths to the app's routes. It is immutable once built
// and safe for concurrent use.
type Router struct {
	// routes is in precedence order: the first one that matches wins.
	routes []*Route
	// reserved reports routes under WellKnownPrefix, which are unreachable.
	reserved []*Route
}

// Match is the result of routing one path. Reuse one Match across calls to
// route without allocating.
type Match struct {
	// Route is the matched route; it belongs to the Router: do not modify.
	Route *Route
	// Params are the values of the route's ":name" segments, in route order.
	// Route appends to Params[:0], so a caller may supply the backing array.
	Params []Param
	// Wildcard is the text captured by a trailing wildcard, as Spin reports
	// it in spin-path-info: "" for "/foo/..." matching "/foo", "/" for
	// "/foo/", "/a/b" for "/foo/a/b" and "/a/b/" for "/foo/a/b/". It is "" for
	// routes without a wildcard.
	Wildcard string
}

// NewRouter builds the router for the http triggers among triggers (others
// are ignored). Private triggers are left out: nothing outside the app can
// reach them. Two triggers whose routes match exactly the same paths are an
// error, naming both, because one of them could never be reached.
func NewRouter(triggers []lockedapp.Trigger) (*Router, error) {
	rt := &Router{}
	for i := range triggers {
		t := &triggers[i]
		if t.Type != "http" {
			continue
		}
		if t.HTTP == nil {
			return nil, fmt.Errorf("http trigger %q has no http configuration", t.ID)
		}
		if t.HTTP.Private {
			continue
		}
		r, err := newRoute(t)
		if err != nil {
			return nil, err
		}
		if err := rt.add(r); err != nil {
			return nil, err
		}
	}
	return rt, nil
}

func newRoute(t *lockedapp.Trigger) (*Route, error) {
	raw := t.HTTP.Route
	based := sanitizeRoute(raw)
	r := &Route{
		TriggerID:   t.ID,
		ComponentID: t.Component,
		Static:      t.HTTP.StaticResponse,
		Raw:         raw,
		Based:       based,
	}
	// "/..." is Spin's wildcard; "/*" is routefinder's own, which Spin
	// lets through unchanged.
	spec := based
	switch {
	case strings.HasSuffix(based, "/..."):
		r.Path, r.Wildcard = strings.TrimSuffix(based, "/..."), true
		spec = r.Path + "/*"
	case strings.HasSuffix(based, "/*"):
		r.Path, r.Wildcard = strings.TrimSuffix(based, "/*"), true
	default:
		r.Path = based
	}
	if r.Path == "" {
		r.Path = "/"
	}
	p, err := parsePattern(spec)
	if err != nil {
		return nil, fmt.Errorf("route %q of trigger %q: %w", raw, t.ID, err)
	}
	r.pattern = p
	return r, nil
}

// sanitizeRoute makes a manifest route absolute and drops one trailing
// slash, exactly as Spin does (so "/" becomes "" and "foo/" becomes "/foo").
// The app's base path is always "/", which sanitizes to "".
func sanitizeRoute(raw string) string {
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	return strings.TrimSuffix(raw, "/")
}

// add inserts r after every route that takes precedence over it or ties
// with it, scanning from the front as routefinder's ordered map does.
func (rt *Router) add(r *Route) error {
	for _, other := range rt.routes {
		if r.pattern.sameAs(&other.pattern) {
			return fmt.Errorf("triggers %q and %q have duplicate routes %q and %q: only one could ever be reached",
				other.TriggerID, r.TriggerID, other.Raw, r.Raw)
		}
	}
	at := len(rt.routes)
	for i, other := range rt.routes {
		if r.pattern.before(&other.pattern) {
			at = i
			break
		}
	}
	rt.routes = append(rt.routes, nil)
	copy(rt.routes[at+1:], rt.routes[at:])
	rt.routes[at] = r
	if strings.HasPrefix(r.Based, WellKnownPrefix) {
		rt.reserved = append(rt.reserved, r)
	}
	return nil
}

// Routes returns copies of the reachable routes in precedence order (which
// is also the order `spin up` lists them in).
func (rt *Router) Routes() []Route { return copyRoutes(rt.routes) }

// Reserved returns the routes that lie under WellKnownPrefix and so can
// never be reached.
func (rt *Router) Reserved() []Route { return copyRoutes(rt.reserved) }

func copyRoutes(rs []*Route) []Route {
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = *r
	}
	return out
}

// Route finds the route for path, the request path as the client sent it
// (still percent-encoded, as Spin matches it), and fills m. It reports
// whether a route matched. It does not allocate unless m.Params must grow.
func (rt *Router) Route(path string, m *Match) bool {
	params := m.Params[:0]
	for _, r := range rt.routes {
		var wildAt, end int
		var ok bool
		params, wildAt, end, ok = r.pattern.match(path, params[:0])
		if !ok {
			continue
		}
		m.Route, m.Params, m.Wildcard = r, params, ""
		if wildAt >= 0 {
			m.Wildcard = pathInfo(path, wildAt, end)
		}
		return true
	}
	m.Route, m.Params, m.Wildcard = nil, params, ""
	return false
}

// pathInfo renders a wildcard capture path[at:end] the way Spin does: with a
// leading slash, and with a trailing slash if the request path had one. The
// result is a substring of path whenever the slashes are there to take.
func pathInfo(path string, at, end int) string {
	s := path[at:end]
	trailing := strings.HasSuffix(path, "/")
	switch {
	case s == "" && trailing:
		return "/"
	case s == "":
		return ""
	}
	if at > 0 && path[at-1] == '/' {
		if !trailing {
			return path[at-1 : end]
		}
		if end < len(path) && path[end] == '/' {
			return path[at-1 : end+1]
		}
	}
	if trailing {
		return "/" + s + "/"
	}
	return "/" + s
}
