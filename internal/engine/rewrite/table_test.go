package rewrite

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// tableModule is a module whose exported call(i) does call_indirect on
// entry i of a 400-entry table set by overlapping active segments, with
// null gaps, an entry of another signature, and a passive segment.
func tableModule(extra ...section) []byte {
	const targets = 300
	types := vec(
		[]byte{0x60, 0, 1, 0x7f},       // 0: () -> i32, the targets
		[]byte{0x60, 1, 0x7f, 1, 0x7f}, // 1: (i32) -> i32, call
		[]byte{0x60, 0, 1, 0x7e},       // 2: () -> i64, the odd one
	)
	funcs := appendU32(nil, targets+2)
	var bodies [][]byte
	for k := range targets {
		funcs = appendU32(funcs, 0)
		b := appendS32([]byte{0, opI32Const}, int32(1000+k))
		bodies = append(bodies, append(b, opEnd))
	}
	funcs = appendU32(funcs, 2)
	bodies = append(bodies, []byte{0, 0x42, 7, opEnd})
	funcs = appendU32(funcs, 1)
	bodies = append(bodies, []byte{0, opLocalGet, 0, opCallIndirect, 0, 0, opEnd})
	code := appendU32(nil, uint32(len(bodies)))
	for _, b := range bodies {
		code = appendU32(code, uint32(len(b)))
		code = append(code, b...)
	}
	active := func(off int32, fs ...uint32) []byte {
		s := appendS32([]byte{0, opI32Const}, off)
		s = appendU32(append(s, opEnd), uint32(len(fs)))
		for _, f := range fs {
			s = appendU32(s, f)
		}
		return s
	}
	span := func(from, n uint32) []uint32 {
		var out []uint32
		for i := range n {
			out = append(out, from+i)
		}
		return out
	}
	elems := vec(
		active(10, span(0, 200)...),
		active(150, span(200, 100)...),                     // 150..249, overwriting 150..209
		append([]byte{1, 0}, vec([]byte{5}, []byte{6})...), // passive
		active(350, targets),                               // the () -> i64 function
	)
	exports := vec(appendU32(append(appendName(nil, "call"), 0), targets+1))
	secs := []section{
		{secType, types},
		{secFunction, funcs},
		{secTable, []byte{1, 0x70, 0, 0x90, 0x03}}, // min 400
		{secExport, exports},
		{secElement, elems},
		{secCode, code},
	}
	for _, e := range extra {
		if i := find(secs, e.id); i >= 0 {
			secs[i] = e
		} else {
			secs = insert(secs, e)
		}
	}
	return module(secs...)
}

func TestLazyTableCallsTheSameFunctions(t *testing.T) {
	orig := tableModule()
	lazy, why, err := LazyTable(orig)
	if err != nil || why != "" {
		t.Fatalf("LazyTable: %v %q", err, why)
	}
	ctx := context.Background()
	call := func(wasm []byte) func(i uint64) (uint64, string) {
		rt := wazero.NewRuntime(ctx)
		t.Cleanup(func() { rt.Close(ctx) })
		mod, err := rt.Instantiate(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		f := mod.ExportedFunction("call")
		return func(i uint64) (uint64, string) {
			res, err := f.Call(ctx, i)
			if err != nil {
				return 0, err.Error()
			}
			return res[0], ""
		}
	}
	want, got := call(orig), call(lazy)
	// Every entry, out of bounds included, in a random order and twice:
	// filled entries must keep working.
	var idx []uint64
	for i := range uint64(405) {
		idx = append(idx, i, i)
	}
	idx = append(idx, 1<<31, 1<<32-1)
	rand.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
	results := 0
	for _, i := range idx {
		w, werr := want(i)
		g, gerr := got(i)
		if w != g || werr != gerr {
			t.Fatalf("call(%d): original %d %q, lazy %d %q", i, w, werr, g, gerr)
		}
		if werr == "" {
			results++
		}
	}
	if results != 2*240 { // entries 10..249 hold a () -> i32 function
		t.Fatalf("%d calls returned, want %d", results, 2*240)
	}
}

func TestLazyTableLeavesObservableTablesAlone(t *testing.T) {
	exportTable := section{secExport, vec(append(appendName(nil, "t"), 1, 0))}
	readTable := section{secCode, func() []byte {
		m := tableModule()
		secs, _ := splitSections(m)
		code := secs[find(secs, secCode)].body
		// Replace the last body (call) by one using table.get.
		bodies, _ := parseCode(code)
		out := appendU32(nil, uint32(len(bodies)))
		for _, b := range bodies[:len(bodies)-1] {
			out = appendU32(out, uint32(len(b.body)))
			out = append(out, b.body...)
		}
		last := []byte{0, opLocalGet, 0, opTableGet, 0, opRefIsNull, opEnd}
		out = appendU32(out, uint32(len(last)))
		return append(out, last...)
	}()}
	smallTable := section{secElement, vec(append(appendS32([]byte{0, opI32Const}, 0), opEnd, 1, 0))}
	for name, m := range map[string][]byte{
		"exported": tableModule(exportTable),
		"read":     tableModule(readTable),
		"small":    tableModule(smallTable),
	} {
		out, why, err := LazyTable(m)
		if err != nil || why == "" || !bytes.Equal(out, m) {
			t.Errorf("%s: err %v, reason %q, changed %v", name, err, why, !bytes.Equal(out, m))
		}
	}
}

// TestLazyTableGo runs the standard-Go fixtures rewritten: the same output.
func TestLazyTableGo(t *testing.T) {
	ran := 0
	for _, path := range fixtures(t) {
		if filepath.Base(filepath.Dir(path)) != "go-wasip1-command" {
			continue
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lazy, why, err := LazyTable(wasm)
		if err != nil || why != "" {
			t.Fatalf("LazyTable: %v %q", err, why)
		}
		run := func(wasm []byte) string {
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			var out bytes.Buffer
			_, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStdout(&out).WithArgs("hello", "a", "b"))
			if err != nil {
				t.Fatal(err)
			}
			return out.String()
		}
		want, got := run(wasm), run(lazy)
		if want == "" || got != want {
			t.Fatalf("output: original %q, lazy %q", want, got)
		}
		ran++
	}
	if ran == 0 {
		t.Skip("no Go command fixture")
	}
}

// FuzzLazyTable: LazyTable never panics, and what it makes of a valid
// module still compiles.
func FuzzLazyTable(f *testing.F) {
	f.Add(tableModule())
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := LazyTable(in)
		if err != nil {
			return
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, in); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("valid module no longer compiles: %v", err)
		}
	})
}
