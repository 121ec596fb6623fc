// Command fileserver is the static file server that Wisp's
// static-fileserver template builds: a WAGI guest (a WASI preview1 command
// run once per request) that serves the files mounted into the component,
// e.g. files = [{ source = "assets", destination = "/" }].
//
// Build: GOOS=wasip1 GOARCH=wasm go build -o main.wasm .
package main

import (
	"fmt"
	"net/http/cgi"
	"os"
)

func main() {
	// Under WASI "/" is the component's files mount; the host, not this
	// program, is the sandbox that keeps reads inside it.
	h := Handler(os.DirFS("/"))
	// The path the handler sees is relative to the component's route: WAGI
	// passes the route's prefix ("/static" for "/static/...") as SCRIPT_NAME.
	if err := cgi.Serve(StripPrefix(os.Getenv("SCRIPT_NAME"), h)); err != nil {
		fmt.Fprintln(os.Stderr, "fileserver:", err)
		os.Exit(1)
	}
}
