package rewrite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// fixtures returns the shared prebuilt core modules that exist here.
func fixtures(t *testing.T) []string {
	dir := os.Getenv("WISP_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "fixtures")
	}
	var out []string
	for _, p := range []string{
		"go-wasip1-reactor/reactor.wasm", "go-wasip1-command/hello.wasm",
		"c-wasip1-command/hello.wasm", "c-wasip1-reactor/reactor.wasm",
		"cpp-wasip1-command/hello-cpp.wasm", "rust-wasip1-command/hello.wasm",
		"assemblyscript-wasip1/as-hello.wasm",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			out = append(out, filepath.Join(dir, p))
		}
	}
	if len(out) == 0 {
		t.Skip("no shared fixtures")
	}
	return out
}

// initialMemory instantiates wasm (without running a start function's
// effects beyond wazero's own) and returns a copy of its memory, or ok
// false if it does not instantiate.
func initialMemory(t testing.TB, wasm []byte) (mem []byte, ok bool) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, false
	}
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, false
	}
	m := mod.Memory()
	if m == nil {
		return []byte{}, true
	}
	b, _ := m.Read(0, m.Size())
	return bytes.Clone(b), true
}

func TestMergeDataFixtures(t *testing.T) {
	for _, path := range fixtures(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			wasm, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, st, err := MergeData(wasm)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("segments %d -> %d (%s), %d -> %d bytes", st.Before, st.After, st.Reason, len(wasm), len(out))
			want, ok1 := initialMemory(t, wasm)
			got, ok2 := initialMemory(t, out)
			if !ok1 || !ok2 {
				t.Fatalf("instantiation: original %v, merged %v", ok1, ok2)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("merged module's initial memory differs")
			}
		})
	}
}

func TestMergeDataGoIsMerged(t *testing.T) {
	for _, path := range fixtures(t) {
		if filepath.Base(filepath.Dir(path)) != "go-wasip1-reactor" {
			continue
		}
		wasm, _ := os.ReadFile(path)
		_, st, err := MergeData(wasm)
		if err != nil {
			t.Fatal(err)
		}
		if st.Before < 1000 || st.After > 100 {
			t.Fatalf("segments %d -> %d (%s): want thousands merged into a few", st.Before, st.After, st.Reason)
		}
		return
	}
	t.Skip("no Go reactor fixture")
}

// module builds a core module from sections (id, body).
func module(secs ...section) []byte { return joinSections(secs) }

func dataSeg(off int32, b string) []byte {
	s := []byte{0, opI32Const}
	s = appendS32(s, off)
	s = append(s, opEnd)
	s = appendU32(s, uint32(len(b)))
	return append(s, b...)
}

func vec(items ...[]byte) []byte {
	b := appendU32(nil, uint32(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func TestMergeDataCases(t *testing.T) {
	mem1 := section{secMemory, []byte{1, 0, 1}} // one memory, min 1 page
	importMem := section{secImport, vec(append(append(appendName(nil, "env"), appendName(nil, "memory")...), 2, 0, 1))}
	cases := []struct {
		name       string
		wasm       []byte
		wantAfter  int
		wantReason bool
	}{
		{"overlapping later wins", module(mem1, section{secData, vec(dataSeg(10, "aaaa"), dataSeg(12, "bb"), dataSeg(100, "c"))}), 1, false},
		{"far apart stay apart", module(mem1, section{secData, vec(dataSeg(0, "a"), dataSeg(60000, "b"))}), 2, false},
		{"imported memory joins only touching", module(importMem, section{secData, vec(dataSeg(0, "ab"), dataSeg(2, "cd"), dataSeg(10, "e"))}), 2, false},
		{"beyond minimum", module(mem1, section{secData, vec(dataSeg(0, "a"), dataSeg(65535, "bb"))}), 2, true},
		{"high offset negative const", module(section{secMemory, []byte{1, 0, 0}}, section{secData, vec(dataSeg(-1, "a"), dataSeg(0, "b"))}), 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, st, err := MergeData(c.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if st.After != c.wantAfter || (st.Reason != "") != c.wantReason {
				t.Fatalf("got %d segments, reason %q", st.After, st.Reason)
			}
			want, ok1 := initialMemory(t, c.wasm)
			got, ok2 := initialMemory(t, out)
			if ok1 != ok2 || !bytes.Equal(got, want) {
				t.Fatalf("initial memory differs (instantiated %v/%v)", ok1, ok2)
			}
		})
	}
}

// FuzzMergeData checks that MergeData never panics and, for a module that
// instantiates, yields the same initial memory. The seed corpus builds
// modules with one page and segments derived from the input.
func FuzzMergeData(f *testing.F) {
	f.Add([]byte{0, 4, 'a', 'b', 'c', 'd', 2, 3, 'x', 'y', 'z'}, false)
	f.Add([]byte{10, 1, 'q', 200, 2, 'r', 's', 11, 5, 'h', 'e', 'l', 'l', 'o'}, true)
	f.Fuzz(func(t *testing.T, in []byte, imported bool) {
		// Raw input as a module: must not panic.
		MergeData(in)
		// Input as segments: (offset byte ×256, length, bytes...).
		var segs [][]byte
		for len(in) >= 2 {
			off, n := int32(in[0])*256, int(in[1])
			in = in[2:]
			n = min(n, len(in))
			segs = append(segs, dataSeg(off, string(in[:n])))
			in = in[n:]
		}
		var wasm []byte
		if imported {
			imp := vec(append(append(appendName(nil, "env"), appendName(nil, "memory")...), 2, 0, 1))
			wasm = module(section{secImport, imp}, section{secData, vec(segs...)})
		} else {
			wasm = module(section{secMemory, []byte{1, 0, 1}}, section{secData, vec(segs...)})
		}
		out, _, err := MergeData(wasm)
		if err != nil {
			t.Fatal(err)
		}
		if imported {
			// Needs an exporter of env.memory; compile-check only.
			rt := wazero.NewRuntime(context.Background())
			defer rt.Close(context.Background())
			_, e1 := rt.CompileModule(context.Background(), wasm)
			_, e2 := rt.CompileModule(context.Background(), out)
			if (e1 == nil) != (e2 == nil) {
				t.Fatalf("compile: original %v, merged %v", e1, e2)
			}
			return
		}
		want, ok1 := initialMemory(t, wasm)
		got, ok2 := initialMemory(t, out)
		if ok1 != ok2 || !bytes.Equal(got, want) {
			t.Fatalf("initial memory differs (instantiated %v/%v)", ok1, ok2)
		}
	})
}
