package http

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// Defaults for Config's zero values.
const (
	DefaultListen = "127.0.0.1:3000"
	// DefaultMaxHeaderBytes is Go's own default (http.DefaultMaxHeaderBytes):
	// far above what browsers send (~8–16 KiB), small enough that a client
	// cannot make the server hold much memory per connection.
	DefaultMaxHeaderBytes = 1 << 20
	// DefaultMaxBodyBytes bounds request bodies. Spin sets no limit; 100 MiB
	// keeps an upload-style app working while stopping a runaway client from
	// streaming forever into a guest.
	DefaultMaxBodyBytes = 100 << 20
	// DefaultShutdownTimeout is how long Serve waits for in-flight requests
	// after its context is cancelled.
	DefaultShutdownTimeout = 10 * time.Second
)

// Config configures a Server. The zero value of every field means its
// default.
type Config struct {
	// Listen is the address ListenAndServe binds (DefaultListen).
	Listen string
	// MaxHeaderBytes bounds the request line and headers; larger requests get
	// 431 from net/http (DefaultMaxHeaderBytes). Only enforced by Serve: a
	// caller of ServeHTTP owns its own http.Server.
	MaxHeaderBytes int
	// MaxBodyBytes bounds request bodies: a larger Content-Length gets 413
	// before any handler runs, and reading past it from a chunked body fails
	// with *http.MaxBytesError (DefaultMaxBodyBytes; negative: no limit).
	MaxBodyBytes int64
	// RequestTimeout, if positive, is the deadline put on the request's
	// context before the handler runs; executors turn it into a killed guest
	// and 504. Zero means no timeout.
	RequestTimeout time.Duration
	// ShutdownTimeout is how long Serve drains in-flight requests once its
	// context is cancelled before cutting them off (DefaultShutdownTimeout).
	ShutdownTimeout time.Duration
	// TLS, if set, makes Serve speak HTTPS (spin up --tls-cert/--tls-key).
	TLS *tls.Config
	// Logger receives the startup line, warnings and the access log (at
	// debug level) (slog.Default()).
	Logger *slog.Logger
	// Version is Wisp's version, reported by /.well-known/spin/info.
	Version string
	// OCIImageDigest is the digest of the registry artifact the app was
	// pulled from, if any; /.well-known/spin/info reports it as Spin does.
	OCIImageDigest string
}

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Server is the HTTP trigger of one app. It is an http.Handler, so that
// tests and the multi-tenant platform can mount it in their own server.
type Server struct {
	app      *lockedapp.LockedApp
	router   *Router
	handlers map[string]Handler
	cfg      Config
	log      *slog.Logger
	// info is the body of /.well-known/spin/info, computed once.
	info []byte
	// warned404 makes the "matched no pattern" hint appear once, as in Spin.
	warned404 atomic.Bool
}

var _ http.Handler = (*Server)(nil)

// appInfo is the JSON of /.well-known/spin/info: Spin's shape, plus the
// Wisp version (an addition Spin clients ignore).
type appInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version,omitempty"`
	OCIImageDigest string `json:"oci_image_digest,omitempty"`
	WispVersion    string `json:"wisp_version,omitempty"`
}

// New builds the HTTP trigger for app. handlers holds the Handler of every
// component that an http trigger names, by component id.
func New(app *lockedapp.LockedApp, handlers map[string]Handler, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	for i := range app.Triggers {
		if err := checkTrigger(&app.Triggers[i], handlers); err != nil {
			return nil, err
		}
	}
	router, err := NewRouter(app.Triggers)
	if err != nil {
		return nil, err
	}
	info, err := json.MarshalIndent(appInfo{
		Name:           app.Metadata.Name,
		Version:        app.Metadata.Version,
		OCIImageDigest: cfg.OCIImageDigest,
		WispVersion:    cfg.Version,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	s := &Server{app: app, router: router, handlers: handlers, cfg: cfg, log: cfg.Logger, info: info}
	for _, r := range router.Reserved() {
		s.log.Error("route is under "+WellKnownPrefix+", which Wisp handles itself: it will never be reached",
			"trigger", r.TriggerID, "route", r.Raw)
	}
	return s, nil
}

// checkTrigger rejects an http trigger that could only fail at request
// time.
func checkTrigger(t *lockedapp.Trigger, handlers map[string]Handler) error {
	if t.Type != "http" || t.HTTP == nil {
		return nil // NewRouter reports a missing http section
	}
	sr := t.HTTP.StaticResponse
	switch {
	case t.Component == "" && sr == nil:
		return fmt.Errorf("http trigger %q must specify either a component or a static_response, and has neither", t.ID)
	case t.Component != "" && sr != nil:
		return fmt.Errorf("http trigger %q must specify either a component or a static_response, and has both", t.ID)
	case sr != nil:
		if sr.StatusCode != 0 && (sr.StatusCode < 200 || sr.StatusCode > 999) {
			return fmt.Errorf("http trigger %q: static_response status %d is not a final HTTP status", t.ID, sr.StatusCode)
		}
		for k, v := range sr.Headers {
			if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("http trigger %q: static_response header %q is not a valid header", t.ID, k)
			}
		}
	case handlers[t.Component] == nil:
		return fmt.Errorf("http trigger %q: no handler for component %q", t.ID, t.Component)
	}
	return nil
}

// Routes returns the app's reachable routes in precedence order.
func (s *Server) Routes() []Route { return s.router.Routes() }

// RoutesText lists the routes the way `spin up` prints them:
//
//	Available Routes:
//	  hello: http://127.0.0.1:3000/hello (wildcard)
//	    A component's description, if it has one
func (s *Server) RoutesText(baseURL string) string {
	var b strings.Builder
	b.WriteString("Available Routes:\n")
	for _, r := range s.router.routes {
		id := r.ComponentID
		if id == "" {
			id = r.TriggerID
		}
		fmt.Fprintf(&b, "  %s: %s%s\n", id, baseURL, r)
		if c := s.app.Component(r.ComponentID); c != nil && c.Description != "" {
			fmt.Fprintf(&b, "    %s\n", c.Description)
		}
	}
	return b.String()
}

// ServeHTTP answers one request: the reserved routes, then the router,
// then a static response or the component's Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// One allocation for the per-request state.
	st := &struct {
		rw   responseWriter
		info RequestInfo
	}{rw: responseWriter{ResponseWriter: w}}
	rw := &st.rw
	var info *RequestInfo
	defer func() {
		if v := recover(); v != nil {
			s.recovered(rw, r, v)
		}
		s.accessLog(rw, r, info, start)
	}()

	path, pathAndQuery := requestTarget(r)
	if name, ok := strings.CutPrefix(path, WellKnownPrefix); ok {
		s.serveWellKnown(rw, name)
		return
	}

	info = &st.info
	m := Match{Params: info.params[:0]}
	if !s.router.Route(path, &m) {
		s.notFound(rw, path)
		return
	}
	route := m.Route
	info.TriggerID = route.TriggerID
	if route.Static != nil {
		serveStatic(rw, route.Static)
		return
	}

	if max := s.cfg.MaxBodyBytes; max > 0 {
		if r.ContentLength > max {
			rw.Header()["Content-Type"] = nil
			rw.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			// w, not rw: MaxBytesReader tells net/http's own writer
			// to close the connection once the limit is hit.
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
	}

	s.fillInfo(info, r, &m, pathAndQuery)
	// A client must not be able to pose as the trigger; and Connection
	// describes the client's hop, which a guest forwarding the request
	// must not copy (Spin strips it too).
	stripSpinHeaders(r.Header)
	r.Header.Del("Connection")

	if t := s.cfg.RequestTimeout; t > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), t)
		defer cancel()
		r = r.WithContext(ctx)
	}
	s.handlers[route.ComponentID].ServeHTTP(rw, r, info)
}

// requestTarget returns the request's path and path-and-query as the client
// sent them: Spin routes on the raw, percent-encoded path.
func requestTarget(r *http.Request) (path, pathAndQuery string) {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		path, _, _ = strings.Cut(u, "?")
		return path, u
	}
	// Absolute-form targets ("GET http://host/x"), "*", and requests built
	// by hand (no RequestURI).
	return r.URL.EscapedPath(), r.URL.RequestURI()
}

func (s *Server) fillInfo(info *RequestInfo, r *http.Request, m *Match, pathAndQuery string) {
	route := m.Route
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	info.TriggerID = route.TriggerID
	info.ComponentID = route.ComponentID
	info.FullURL = scheme + "://" + host + pathAndQuery
	info.PathInfo = m.Wildcard
	info.MatchedRoute = route.Based
	info.RawComponentRoute = route.Raw
	info.ComponentRoute = route.componentRoute()
	info.BasePath = "/"
	info.ClientAddr = r.RemoteAddr
	info.Params = m.Params
	info.Wildcard = m.Wildcard
}

// serveWellKnown answers /.well-known/spin/<name>, for any method, as Spin
// does.
func (s *Server) serveWellKnown(w http.ResponseWriter, name string) {
	switch name {
	case "health":
		w.Header()["Content-Type"] = nil
		w.Write([]byte("OK"))
	case "info":
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.info)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// serveStatic writes a static_response: status 200 unless set, and only
// the configured headers (no sniffed Content-Type).
func serveStatic(w http.ResponseWriter, sr *lockedapp.StaticResponse) {
	h := w.Header()
	h["Content-Type"] = nil
	for k, v := range sr.Headers {
		h.Set(k, v)
	}
	status := sr.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if sr.Body != "" {
		w.Write([]byte(sr.Body))
	}
}

// notFound answers an unmatched path the way Spin does: 404, empty body,
// and a one-time hint in the log.
func (s *Server) notFound(w http.ResponseWriter, path string) {
	if !s.warned404.Swap(true) {
		s.log.Warn("request matched no route and received a generic 404 response; to serve a more informative 404 page, add a catch-all (/...) route",
			"path", path)
	}
	w.WriteHeader(http.StatusNotFound)
}

// recovered turns a handler panic into a logged 500 instead of a dead
// server.
func (s *Server) recovered(w *responseWriter, r *http.Request, v any) {
	if v == http.ErrAbortHandler {
		panic(v) // the handler's own way to abort the connection
	}
	s.log.Error("handler panicked", "method", r.Method, "url", r.URL.String(),
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.status != 0 {
		// Part of a response has gone out: make the client see a broken
		// response rather than a short one that looks complete.
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(http.StatusInternalServerError)
}

func (s *Server) accessLog(w *responseWriter, r *http.Request, info *RequestInfo, start time.Time) {
	ctx := r.Context()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("uri", r.RequestURI),
		slog.Int("status", status),
		slog.Int64("bytes", w.bytes),
		slog.Duration("duration", time.Since(start)),
		slog.String("client", r.RemoteAddr),
	}
	if info != nil && info.TriggerID != "" {
		attrs = append(attrs, slog.String("trigger", info.TriggerID))
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "request", attrs...)
}
