// Package wisphttp serves HTTP requests from a standard-Go WebAssembly
// module with a net/http Handler.
//
// Build the module as a WASI reactor with the standard Go toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o main.wasm .
//
// The module exports wasi:http/incoming-handler@0.2.0#handle and imports
// wasi:http and wasi:io by their canonical names, as Wisp's core-module
// form of a component: no adapter and no component wrapping.
//
// A reactor's main function is never run: register the handler from an
// init function.
//
//	func init() {
//		wisphttp.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
//			fmt.Fprintln(w, "Hello")
//		})
//	}
//
// Without a registered handler, requests go to http.DefaultServeMux.
//
// Each request runs in a fresh instance. Before the handler runs, the
// component's environment is copied into os.Environ (GOGC there is applied)
// and the standard logger writes to the component's stderr log. A panic
// before the response started answers 500; after, the response is aborted.
// The response head is sent on the first Write, WriteHeader or Flush; every
// Write is streamed to the client at once. Informational (1xx) responses
// and trailers are not supported yet.
//
// Outbound requests go through package httpclient, which a handler that
// makes them imports: it is not imported here because it costs every
// module about 2.8 MB of code (see httpclient's doc), a third of a
// handler's size and of its cold start, whether it sends or not.
package wisphttp

import "net/http"

var handler http.Handler

// Handle registers h as the module's HTTP handler. Call it from init; a
// later call replaces the handler.
func Handle(h http.Handler) { handler = h }

// HandleFunc registers f as the module's HTTP handler.
func HandleFunc(f func(http.ResponseWriter, *http.Request)) { Handle(http.HandlerFunc(f)) }

func currentHandler() http.Handler {
	if handler == nil {
		return http.DefaultServeMux
	}
	return handler
}
