package binary

import (
	"bytes"
	"os"
	"testing"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts
// has consistent index spaces and can be dumped.
func FuzzDecode(f *testing.F) {
	seeds := [][]byte{fixture(f, "c-wasip1-command/hello.component.wasm"), fixture(f, "rust-wasip1-command/hello.component.wasm")}
	if b, err := os.ReadFile("testdata/types.component.wasm"); err == nil {
		seeds = append(seeds, b)
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
		m := bytes.Clone(s)
		m[len(m)/3] ^= 0xff
		f.Add(m)
	}
	js := fixture(f, "spin-js-http/spin-js-http.wasm")
	f.Add(js[:0x22bd]) // everything before the first core module: the imports' types
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		c.Dump(&buf)
		for s := Sort(0); s < numSorts; s++ {
			for i := range c.Space(s) {
				if _, err := c.Resolve(s, uint32(i)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// FuzzRewriteImports checks that RewriteImports never panics and that a
// rewritten module reads back with the new names.
func FuzzRewriteImports(f *testing.F) {
	f.Add(fixture(f, "c-wasip1-command/hello.wasm"))
	if b, err := os.ReadFile("testdata/types.component.wasm"); err == nil {
		if c, err := Decode(b); err == nil {
			for _, m := range c.CoreModules {
				f.Add(m.Bytes)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := RewriteImports(b, func(i int, imp CoreImport) (string, string) { return "m", imp.Name + "!" })
		if err != nil {
			return
		}
		before, _ := CoreImports(b)
		after, err := CoreImports(out)
		if err != nil || len(after) != len(before) {
			t.Fatalf("rewritten module does not read back: %v", err)
		}
		for i := range after {
			if after[i].Module != "m" || after[i].Name != before[i].Name+"!" {
				t.Fatalf("import %d: %+v", i, after[i])
			}
		}
	})
}
