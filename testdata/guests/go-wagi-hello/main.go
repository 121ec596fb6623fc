// Command go-wagi-hello is a WAGI guest in standard Go: net/http/cgi turns
// the CGI environment and stdin into an *http.Request and the response into
// CGI output on stdout.
package main

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
)

func main() {
	err := cgi.Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Guest", "go")
		fmt.Fprintf(w, "hello from Go wagi: %s %s q=%s\n", r.Method, r.URL.Path, r.URL.Query().Get("q"))
	}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
