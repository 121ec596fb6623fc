// Command {{project-name}} is an HTTP handler for Wisp written in standard Go.
//
// It runs as a WAGI component: Wisp starts this WASI program once per
// request, passes the request as CGI environment variables and stdin, and
// reads a CGI response from stdout. net/http/cgi does both sides, so the
// handler is an ordinary http.Handler.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -o main.wasm .
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
)

func main() {
	// Route on the path below the component's route: WAGI passes the route's
	// prefix ("/api" for route "/api/...") as SCRIPT_NAME.
	if err := cgi.Serve(stripPrefix(os.Getenv("SCRIPT_NAME"), newMux())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"message": "Hello from Wisp!",
			"method":  r.Method,
			"path":    r.URL.Path,
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Hello, Fermyon! (from Wisp and standard Go)")
	})
	return mux
}

// stripPrefix removes the route prefix from the request path.
func stripPrefix(prefix string, h http.Handler) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, prefix)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		r.URL.Path, r.URL.RawPath = p, ""
		h.ServeHTTP(w, r)
	})
}
