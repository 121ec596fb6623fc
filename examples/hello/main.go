// Hello is a Wisp app in standard Go: a WAGI component that speaks CGI
// through net/http/cgi, so it needs no SDK and no TinyGo.
package main

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s!\n", r.PathValue("name"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello from Wisp! You asked for %s %s\n", r.Method, r.URL.Path)
		fmt.Fprintf(os.Stderr, "served %s\n", r.URL.Path) // goes to the component log
	})
	if err := cgi.Serve(mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
