// A Wisp Go SDK guest for the pre-initialisation snapshot tests: it reports
// what a request can see of earlier requests and of the snapshot.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o main.wasm .
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"

	wisphttp "github.com/wisp-dev/wisp/sdk/go/http"
)

// requests counts the requests this instance served: always 1 with a fresh
// instance per request.
var requests int

// initEnv is read during initialisation, which the snapshot runs with an
// empty environment.
var initEnv = os.Getenv("FOO")

func init() {
	wisphttp.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		b := make([]byte, 16)
		rand.Read(b)
		fmt.Fprintf(w, "requests=%d\nenv=%s\ninitenv=%s\ncrypto=%s\nmath=%d\n",
			requests, os.Getenv("FOO"), initEnv, hex.EncodeToString(b), mrand.Uint64())
	})
}

func main() {}
