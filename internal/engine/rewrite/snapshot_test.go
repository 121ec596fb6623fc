package rewrite

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

// TestRestorableFixtures: for every fixture, the restorable form with its
// image written back gives byte-identical initial memory, exports every
// mutable numeric global, and still compiles after Instrument; the Go
// fixtures are snapshottable.
func TestRestorableFixtures(t *testing.T) {
	for _, p := range fixtures(t) {
		wasm, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		merged, _, err := MergeData(wasm)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := Restorable(merged)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		want, ok := initialMemory(t, wasm)
		if !ok {
			t.Fatalf("%s: does not instantiate", p)
		}
		got, ok := initialMemory(t, rs.Wasm)
		if !ok {
			t.Fatalf("%s: restorable form does not instantiate", p)
		}
		if rs.Stripped {
			for _, s := range rs.Image {
				copy(got[s.Offset:], s.Data)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: initial memory differs (stripped %v)", p, rs.Stripped)
		}
		ctx := context.Background()
		rt := wazero.NewRuntime(ctx)
		if _, err := rt.CompileModule(ctx, rs.Wasm); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		secs, err := splitSections(rs.Wasm)
		if err != nil {
			t.Fatal(err)
		}
		exported, err := exportNames(secs)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rs.Globals {
			if !exported[g.Export] {
				t.Errorf("%s: global %d not exported as %q", p, g.Index, g.Export)
			}
		}
		inst, err := Instrument(rs.Wasm)
		if err != nil {
			t.Fatalf("%s: Instrument: %v", p, err)
		}
		if _, err := rt.CompileModule(ctx, inst.Wasm); err != nil {
			t.Errorf("%s: instrumented: %v", p, err)
		}
		rt.Close(ctx)
		t.Logf("%s: stripped %v, %d image segments, %d globals, reason %q", p, rs.Stripped, len(rs.Image), len(rs.Globals), rs.Reason)
		if bytes.Contains([]byte(p), []byte("go-wasip1")) && rs.Reason != "" {
			t.Errorf("%s: Go module not snapshottable: %s", p, rs.Reason)
		}
	}
}

// FuzzRestorableInstrument: neither rewriter panics on arbitrary input, and
// what they accept from a valid module still compiles.
func FuzzRestorableInstrument(f *testing.F) {
	f.Add(module(section{secMemory, []byte{1, 0, 1}}, section{secData, vec(dataSeg(8, "hello"))}))
	f.Add(module(
		section{secType, []byte{1, 0x60, 1, 0x7f, 0}},
		section{secFunction, []byte{1, 0}},
		section{secGlobal, []byte{1, 0x7f, 1, opI32Const, 0, opEnd}},
		section{secCode, vec(append([]byte{1, 1, 0x7f}, opLoop, 0x40, opCall, 0, 0x0c, 0, opEnd, opEnd))},
	))
	f.Fuzz(func(t *testing.T, in []byte) {
		rs, err := Restorable(in)
		if err != nil {
			return
		}
		inst, err := Instrument(rs.Wasm)
		if err != nil {
			return
		}
		rt := wazero.NewRuntime(context.Background())
		defer rt.Close(context.Background())
		if _, err := rt.CompileModule(context.Background(), in); err != nil {
			return // invalid input: the rewrites need not compile either
		}
		if _, err := rt.CompileModule(context.Background(), inst.Wasm); err != nil {
			t.Fatalf("valid module no longer compiles: %v", err)
		}
	})
}
