// A Wisp HTTP handler in standard Go, with the Wisp Go SDK.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o main.wasm .
//	wisp up --build -f .
package main

import (
	"fmt"
	"io"
	"net/http"

	wisphttp "github.com/wisp-dev/wisp/sdk/go/http"
)

// A reactor's main is never run: the handler is registered in init.
func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "Hello from the Wisp Go SDK\n")
	})
	// /echo answers with the method, path, query, X-Echo header and number
	// of request headers in response headers, and the request body as the
	// response body, streamed.
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Path", r.URL.Path)
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("X-Echo", r.Header.Get("X-Echo"))
		w.Header().Set("X-Header-Count", fmt.Sprint(len(r.Header)))
		if r.ContentLength >= 0 {
			w.Header().Set("Content-Length", fmt.Sprint(r.ContentLength))
		}
		if _, err := io.Copy(w, r.Body); err != nil {
			panic(err)
		}
	})
	wisphttp.Handle(mux)
}

func main() {}
