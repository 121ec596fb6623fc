// Command gensdk zips the Wisp Go SDK's source for the templates:
// go run ./internal/gensdk <sdk dir> <zip file> (see templates/sdk.go).
package main

import (
	"fmt"
	"os"

	"github.com/wisp-dev/wisp/internal/templates"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gensdk <sdk dir> <zip file>")
		os.Exit(2)
	}
	files, err := templates.ReadSDKDir(os.Args[1])
	if err == nil {
		var data []byte
		if data, err = templates.ZipSDK(files); err == nil {
			err = os.WriteFile(os.Args[2], data, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensdk:", err)
		os.Exit(1)
	}
}
