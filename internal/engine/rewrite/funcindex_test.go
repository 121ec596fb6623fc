package rewrite

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-dev/wisp/internal/testguest"
)

// TestInstrumentRenumbersFunctions runs a module that refers to functions
// in every way the format allows (calls, ref.func in code, globals and
// element segments of each kind, exports, the start function, the name
// section) before and after Instrument, which imports one more function:
// every path must reach the same function, and a trap must name the same
// function.
func TestInstrumentRenumbersFunctions(t *testing.T) {
	orig, err := os.ReadFile(testguest.WAT(t, "testdata/funcrefs.wat"))
	if err != nil {
		t.Fatal(err)
	}
	orig = withExportNames(t, orig)
	inst, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Start == "" {
		t.Fatal("the start function was not exported")
	}
	calls := []struct {
		name string
		args []uint64
		want uint64
	}{
		{"indirect", []uint64{0}, 10}, {"indirect", []uint64{1}, 20}, {"indirect", []uint64{2}, 30},
		{"direct", nil, 30}, {"via_global", nil, 40}, {"via_ref_func", nil, 10},
		{"passive", []uint64{0}, 20}, {"passive", []uint64{1}, 11}, {"passive_indices", nil, 30},
		{"imported", nil, 2}, {"started", nil, 7}, {"c", nil, 30}, {"add1", []uint64{5}, 6},
		{"count", []uint64{1000}, 1000},
	}
	for _, m := range []struct {
		name, start string
		wasm        []byte
	}{{"original", "", orig}, {"instrumented", inst.Start, inst.Wasm}} {
		mod, _ := instantiateFuncrefs(t, m.wasm)
		if m.start != "" {
			if _, err := mod.ExportedFunction(m.start).Call(context.Background()); err != nil {
				t.Fatalf("%s: start: %v", m.name, err)
			}
		}
		for _, c := range calls {
			res, err := mod.ExportedFunction(c.name).Call(context.Background(), c.args...)
			if err != nil || len(res) != 1 || res[0] != c.want {
				t.Errorf("%s: %s%v = %v, %v; want %d", m.name, c.name, c.args, res, err, c.want)
			}
		}
		_, err := mod.ExportedFunction("boom").Call(context.Background())
		if err == nil || !strings.Contains(err.Error(), ".boom()") {
			t.Errorf("%s: boom: %v, want a trap in .boom()", m.name, err)
		}
	}
}

// TestInstrumentYieldsWhenLong: an instance calls the yield import only
// once it has ticked LongRunTicks times, then every YieldEvery ticks.
func TestInstrumentYieldsWhenLong(t *testing.T) {
	orig, err := os.ReadFile(testguest.WAT(t, "testdata/funcrefs.wat"))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := Instrument(orig)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []uint64{1000, 31 * TickInterval, 5_000_000} {
		mod, yields := instantiateFuncrefs(t, inst.Wasm)
		if _, err := mod.ExportedFunction("count").Call(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		// One loop header per iteration, a tick every TickInterval.
		want := 0
		for tick := 1; tick <= int(n/TickInterval); tick++ {
			if tick >= LongRunTicks && tick%YieldEvery == 0 {
				want++
			}
		}
		if *yields != want {
			t.Errorf("count(%d): %d yields, want %d", n, *yields, want)
		}
	}
}

// instantiateFuncrefs instantiates testdata/funcrefs.wat's module in a
// fresh runtime with its import and Instrument's yield import (counting
// calls).
func instantiateFuncrefs(t *testing.T, wasm []byte) (api.Module, *int) {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	_, err := rt.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(x uint32) uint32 { return x + 1 }).Export("add1").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	yields := new(int)
	_, err = rt.NewHostModuleBuilder(YieldModule).NewFunctionBuilder().
		WithFunc(func() { *yields++ }).Export(YieldFunc).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateModule(ctx, must(rt.CompileModule(ctx, wasm)), wazero.NewModuleConfig().WithName("funcrefs"))
	if err != nil {
		t.Fatal(err)
	}
	return mod, yields
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// withExportNames appends a name section naming each exported function
// after its export (wat2wasm writes none by default), so that traps name
// functions by index through the section Instrument renumbers.
func withExportNames(t *testing.T, wasm []byte) []byte {
	t.Helper()
	secs, err := splitSections(wasm)
	if err != nil {
		t.Fatal(err)
	}
	r := reader{b: secs[find(secs, secExport)].body}
	n, _ := r.u32()
	names := map[uint32]string{}
	for range n {
		name, _ := r.bytes()
		kind, _ := r.byte()
		idx, _ := r.u32()
		if kind == 0 {
			names[idx] = string(name)
		}
	}
	idxs := make([]uint32, 0, len(names))
	for i := range names {
		idxs = append(idxs, i)
	}
	slices.Sort(idxs)
	sub := appendU32(nil, uint32(len(idxs)))
	for _, i := range idxs {
		sub = appendName(appendU32(sub, i), names[i])
	}
	body := appendName(nil, "name")
	body = append(body, 1)
	body = appendU32(body, uint32(len(sub)))
	body = append(body, sub...)
	return joinSections(append(secs, section{id: secCustom, body: body}))
}

// TestInstrumentRenumberingGarbage: a section Instrument must renumber but
// cannot parse is an error, never a panic or a silently wrong module; an
// unparseable name section is dropped (names only serve traces) and the
// module still instruments and compiles.
func TestInstrumentRenumberingGarbage(t *testing.T) {
	fn := []section{
		{secType, []byte{1, 0x60, 0, 0}},
		{secFunction, []byte{1, 0}},
		{secCode, vec([]byte{2, 0, opEnd})}, // one body: size, no locals, end
	}
	withSec := func(extra section) []byte {
		secs := append([]section{}, fn[:2]...)
		if extra.id != secCustom {
			secs = append(secs, extra, fn[2])
		} else {
			secs = append(secs, fn[2], extra)
		}
		return module(secs...)
	}
	if _, err := Instrument(withSec(section{secCustom, []byte{4, 'n', 'o', 'n', 'e'}})); err != nil {
		t.Fatalf("the well-formed base module: %v", err)
	}
	for name, c := range map[string]struct {
		sec  section
		want string
	}{
		"element flags 9":         {section{secElement, []byte{1, 9, 0}}, "section 9: element segment flags 9"},
		"truncated element":       {section{secElement, []byte{1, 0, opI32Const, 0, opEnd, 5, 0}}, "section 9: "},
		"export past its section": {section{secExport, []byte{2, 1, 'f', 0, 0}}, "export section"},
		"start index truncated":   {section{secStart, []byte{0x80}}, "section 8: "},
	} {
		_, err := Instrument(withSec(c.sec))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Instrument error %v, want %q", name, err, c.want)
		}
	}

	badNames := appendName(nil, "name")
	badNames = append(badNames, 1, 5, 9, 9) // a function-name map claiming 9 entries in 5 bytes
	inst, err := Instrument(withSec(section{secCustom, badNames}))
	if err != nil {
		t.Fatalf("garbage name section: %v", err)
	}
	secs, err := splitSections(inst.Wasm)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secs {
		if _, isName, _ := shiftNames(s.body, 0); s.id == secCustom && isName {
			t.Error("the unparseable name section was kept")
		}
	}
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	if _, err := rt.CompileModule(context.Background(), inst.Wasm); err != nil {
		t.Errorf("instrumented module does not compile: %v", err)
	}
}
