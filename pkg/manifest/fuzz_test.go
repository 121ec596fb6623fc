package manifest

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, and it
// must return either a manifest or a non-empty Errors with positions
// inside the document.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*/spin.toml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data, "spin.toml")
		if err == nil {
			if m == nil {
				t.Fatal("nil manifest without error")
			}
			return
		}
		errs, ok := err.(Errors)
		if !ok || len(errs) == 0 {
			t.Fatalf("error %T %v, want non-empty Errors", err, err)
		}
		lines := 1
		for _, c := range data {
			if c == '\n' {
				lines++
			}
		}
		for _, e := range errs {
			if e.Pos.Line < 0 || e.Pos.Line > lines || e.Pos.Column < 0 {
				t.Fatalf("error position %v outside the document (%d lines): %v", e.Pos, lines, e)
			}
		}
	})
}
