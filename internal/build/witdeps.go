package build

import (
	"embed"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

//go:generate go run ./internal/genwit ../component/wit/defs wit

// witFS holds the WIT packages a componentized Wisp Go SDK module may
// import or export, as `wasm-tools component embed` reads them: copies of
// Wisp's own definitions (internal/component/wit/defs, which go:embed
// cannot reach from here) made by `go generate` with TransformWIT;
// TestWITInSync fails when they differ.
//
//go:embed all:wit
var witFS embed.FS

// WITPackages are the definition directories copied into wit/.
var WITPackages = []string{
	"wasi-cli-0.2", "wasi-clocks-0.2", "wasi-filesystem-0.2", "wasi-http-0.2", "wasi-io-0.2",
	"wasi-random-0.2", "wasi-sockets-0.2", "fermyon-spin-2.0.0", "fermyon-spin-unversioned",
}

var (
	wasi02Version = regexp.MustCompile(`(wasi:[a-z-]+(?:/[a-z-]+)?)@0\.2\.\d+`)
	sinceGate     = regexp.MustCompile(`(?m)^[ \t]*@(since|deprecated)\([^)]*\)[ \t]*\n`)
)

// TransformWIT prepares one of Wisp's WIT files for the componentizer. The
// SDK imports the WASI 0.2 interfaces at 0.2.0, the version every WASI 0.2
// host serves; Wisp's definitions are of 0.2.12, a superset whose newer
// items are marked @since. The copy is renamed to 0.2.0, and the @since
// and @deprecated gates, which would then name versions newer than their
// package, are dropped. Only functions the module imports end up in the
// component's type, so the newer items do no harm.
func TransformWIT(text string) string {
	text = sinceGate.ReplaceAllString(text, "")
	return wasi02Version.ReplaceAllString(text, "${1}@0.2.0")
}

// ReadWITDefs reads and transforms the WITPackages of Wisp's definitions
// at dir; keys are slash-separated paths relative to dir.
func ReadWITDefs(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, pkg := range WITPackages {
		entries, err := os.ReadDir(filepath.Join(dir, pkg))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".wit") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, pkg, e.Name()))
			if err != nil {
				return nil, err
			}
			files[pkg+"/"+e.Name()] = []byte(TransformWIT(string(b)))
		}
	}
	return files, nil
}

// embeddedWIT returns the embedded copies, keyed like ReadWITDefs.
func embeddedWIT() (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(witFS, "wit", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".wit" {
			return err
		}
		b, err := witFS.ReadFile(p)
		files[strings.TrimPrefix(p, "wit/")] = b
		return err
	})
	return files, err
}
