// Package httpclient sends outbound HTTP requests from a Wisp (or Spin)
// component through wasi:http/outgoing-handler@0.2.0, as an
// http.RoundTripper, so the standard http.Client works.
//
// Importing the package sets http.DefaultTransport to a Transport:
// GOOS=wasip1 has no sockets, so the standard transport can only fail, and
// with the replacement http.Get and libraries that use http.DefaultClient
// work unchanged. A component that sends requests imports it, if only for
// that:
//
//	import _ "github.com/wisp-dev/wisp/sdk/go/httpclient"
//
// Without it, http.Get fails (the standard transport has nothing to dial).
// The HTTP handler package does not import it for everyone because the
// assignment keeps the standard transport linked in too (HTTP/2, TLS): a
// hello-world handler is 8.2 MB with it and 5.5 MB without, and a
// module's size is what its cold start, its deploy and its memory while
// loaded scale with.
//
// The host decides what the component may reach: allowed_outbound_hosts in
// spin.toml. A denied request fails with an error naming the wasi:http
// error code (HTTP-request-denied).
//
// Request and response bodies are streamed: the request body is copied to
// the host while the request is in flight, and the response body is read
// from the host as the caller reads it. Go on wasm runs one thread and a
// blocking host call blocks it, so the request body is sent with
// non-blocking writes: until the response head arrives, and after that
// from the response body's Read, which alternates between sending and
// reading. A server that answers while still reading the request (full
// duplex) works. The request's context deadline becomes the connect and
// first-byte timeouts; cancelling the context does not interrupt a call
// already blocked in the host.
package httpclient

import "net/http"

// NewClient returns an http.Client that sends through a Transport.
func NewClient() *http.Client { return &http.Client{Transport: &Transport{}} }

// Transport is an http.RoundTripper over wasi:http/outgoing-handler.
// The zero value is ready to use.
type Transport struct{}

var _ http.RoundTripper = (*Transport)(nil)
