package bench

// The Go SDK kind of BenchmarkDensity's apps: a standard-Go wasi:http
// handler built once with the Wisp Go SDK; each app is that binary with its
// own id patched into a string in the data section.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// densityGoGuest is the Go SDK app. The id is a package-level string so
// its bytes sit in the module's data section exactly once; the handler
// copies them per request, so a patched binary answers its patched id.
const densityGoGuest = `// A density-benchmark app: the Wisp Go SDK answering with its id.
package main

import (
	"net/http"

	wisphttp "github.com/wisp-dev/wisp/sdk/go/http"
)

// The 16 underscores are replaced by each app's id in the binary.
var id = "WISP-DENSITY-ID:________________"

func init() {
	wisphttp.Handle(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte(id + "\n"))
	}))
}

func main() {}
`

// densityGoManifest: no executor, so the loader sees a wasi:http module
// (a c-shared Go SDK reactor), as in examples/http-go-sdk.
const densityGoManifest = `spin_manifest_version = 2
[application]
name = "density-go"
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "app.wasm"
`

// buildDensityGoGuest builds the Go SDK app once, the way
// examples/http-go-sdk is built, against this checkout's sdk/go. The Go
// build cache makes later runs quick; the first takes a minute or more.
func buildDensityGoGuest(b *testing.B, work string) []byte {
	dir := filepath.Join(work, "gosdk-guest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	sdk, err := filepath.Abs(filepath.Join(testguest.Dir(b), "..", "..", "sdk", "go"))
	if err != nil {
		b.Fatal(err)
	}
	goMod := "module example.com/density\n\ngo 1.26\n\n" +
		"require github.com/wisp-dev/wisp/sdk/go v0.0.0\n\n" +
		"replace github.com/wisp-dev/wisp/sdk/go => " + sdk + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(densityGoGuest), 0o644); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(work, "gosdk.wasm")
	testguest.GoReactor(b, dir, out)
	wasm, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	return wasm
}
