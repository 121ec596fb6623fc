// Command genwit copies Wisp's WIT definitions for the componentizer:
// go run ./internal/genwit <defs dir> <out dir> (see build/witdeps.go).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/wisp-dev/wisp/internal/build"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: genwit <defs dir> <out dir>")
		os.Exit(2)
	}
	files, err := build.ReadWITDefs(os.Args[1])
	if err == nil {
		err = os.RemoveAll(os.Args[2])
	}
	for name, data := range files {
		if err != nil {
			break
		}
		p := filepath.Join(os.Args[2], filepath.FromSlash(name))
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			err = os.WriteFile(p, data, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genwit:", err)
		os.Exit(1)
	}
}
