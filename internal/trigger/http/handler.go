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
// WAGI's X_* variables, computed exactly as Spin computes them. It is valid
// for the duration of ServeHTTP.
type RequestInfo struct {
	// TriggerID and ComponentID identify the matched trigger.
	TriggerID   string
	ComponentID string
	// FullURL is the absolute URL as the client asked for it, still
	// percent-encoded ("http://127.0.0.1:3000/users/42?x=1"). The host comes
	// from the Host header ("localhost" if there is none).
	FullURL string
	// PathInfo is the part of the path captured by a trailing wildcard ("" for
	// routes without one; "/a/b" for "/static/..." matching "/static/a/b";
	// "/" for "/static/"; "/a/" for "/static/a/").
	PathInfo string
	// MatchedRoute is the route made absolute, with one trailing slash
	// dropped ("/static/..."; "/foo" for "foo/"; "" for "/"): Spin's
	// spin-matched-route.
	MatchedRoute string
	// RawComponentRoute is the route exactly as written in the manifest
	// ("/static/..."); ComponentRoute drops a trailing "/..." ("/static").
	RawComponentRoute string
	ComponentRoute    string
	// BasePath is the application's base path ("/").
	BasePath string
	// ClientAddr is the client's "ip:port".
	ClientAddr string
	// Params holds the values of ":name" segments, in route order.
	Params []Param
	// Wildcard is the part matched by a trailing "/..." (the same value as
	// PathInfo: Spin has no other notion of it).
	Wildcard string

	// params backs Params for the common case of a few parameters, so that
	// routing a request costs no allocation beyond the RequestInfo itself.
	params [4]Param
}

// Param is one named route segment and the value it matched.
type Param struct {
	Name, Value string
}
