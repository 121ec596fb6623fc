// Package http is the HTTP trigger: it listens, routes requests by Spin's
// rules, answers the reserved /.well-known/spin/ routes and static responses,
// and hands every other request to the Handler of the matched component.
package http

import (
	"net/http"
)

// Handler serves requests routed to one component. The executor of the
// component (WAGI, wasi:http, ...) implements it; the trigger never knows
// which.
type Handler interface {
	// ServeHTTP answers r. info describes how the request was routed. The
	// request body is already limited to the configured maximum size.
	ServeHTTP(w http.ResponseWriter, r *http.Request, info *RequestInfo)
}

// RequestInfo is what routing learned about a request: the values behind
// Spin's request metadata headers (spin-full-url, spin-path-info, ...) and
// WAGI's X_* variables.
type RequestInfo struct {
	// TriggerID and ComponentID identify the matched trigger.
	TriggerID   string
	ComponentID string
	// FullURL is the absolute URL as the client asked for it
	// ("http://127.0.0.1:3000/users/42?x=1").
	FullURL string
	// PathInfo is the part of the path after the matched route's prefix
	// ("" for exact routes; "/a/b" for "/static/..." matching "/static/a/b").
	PathInfo string
	// MatchedRoute is the route pattern as written in the manifest ("/static/...").
	MatchedRoute string
	// RawComponentRoute is the route with any trailing "/..." kept ("/static/...");
	// ComponentRoute drops it ("/static").
	RawComponentRoute string
	ComponentRoute    string
	// BasePath is the application's base path ("/").
	BasePath string
	// ClientAddr is the client's "ip:port".
	ClientAddr string
	// Params holds the values of ":name" segments, in route order.
	Params []Param
	// Wildcard is the part matched by a trailing "/..." ("" otherwise).
	Wildcard string
}

// Param is one named route segment and the value it matched.
type Param struct {
	Name, Value string
}
