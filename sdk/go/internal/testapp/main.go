// Command testapp is the Wisp Go SDK's test guest: the edge cases the
// example does not show. internal/component/sdk_test.go builds and serves
// it.
package main

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"

	wisphttp "github.com/wisp-dev/wisp/sdk/go/http"
)

func init() {
	wisphttp.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/env":
			fmt.Fprint(w, os.Getenv("GREETING"))
		case "/log":
			log.Print("logged from the guest")
			fmt.Fprint(w, "ok")
		case "/stdio":
			// Plain preview1 output and environment, as any Go program uses them.
			fmt.Println("printed to stdout")
			fmt.Fprintln(os.Stderr, "printed to stderr")
			fmt.Fprint(w, len(os.Environ()) > 0)
		case "/panic":
			panic("before the response")
		case "/panic-after-write":
			fmt.Fprint(w, "partial")
			w.(http.Flusher).Flush()
			panic("after the response started")
		case "/status":
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			w.WriteHeader(code)
			fmt.Fprint(w, "status body")
		case "/big":
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096/16*3+1) // 12304 bytes: crosses chunk limits
			for n > 0 {
				c := chunk[:min(n, len(chunk))]
				if _, err := w.Write(c); err != nil {
					return
				}
				n -= len(c)
			}
		case "/request":
			fmt.Fprintf(w, "%s %s %s %s %d %s", r.Method, r.URL.String(), r.Host, r.RequestURI, r.ContentLength, r.RemoteAddr)
		default:
			http.NotFound(w, r)
		}
	})
}

func main() {}
