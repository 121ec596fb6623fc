package cabi

import (
	"errors"
	"math"
	"testing"
)

func roundTripCases() []struct {
	name string
	t    *Type
	v    any
} {
	host := &Resource{Name: "wasi:http/types#fields", Host: true}
	return []struct {
		name string
		t    *Type
		v    any
	}{
		{"bool", tBool, true},
		{"s8", tS8, int8(-128)},
		{"u8", tU8, uint8(255)},
		{"s16", tS16, int16(-2)},
		{"u16", tU16, uint16(65535)},
		{"s32", tS32, int32(math.MinInt32)},
		{"u32", tU32, uint32(math.MaxUint32)},
		{"s64", tS64, int64(math.MinInt64)},
		{"u64", tU64, uint64(math.MaxUint64)},
		{"f32", tF32, float32(-1.5)},
		{"f32 nan", tF32, float32(math.NaN())},
		{"f64", tF64, math.Inf(-1)},
		{"char", tChar, '😀'},
		{"string", tString, "héllo, 世界 😀"},
		{"empty string", tString, ""},
		{"list<u8>", listOf(tU8), []byte("body")},
		{"list<string>", listOf(tString), []any{"a", "", "ü"}},
		{"list<list<string>>", listOf(listOf(tString)), []any{[]any{"one", "two"}, []any{"three"}}},
		{"record", recordOf(tU8, tString, tF64), []any{uint8(1), "x", 2.5}},
		{"tuple", tupleOf(tU16, tU16), []any{uint16(3), uint16(4)}},
		{"variant", variantOf(tU8, tF32, nil, tString), Variant{3, "v"}},
		{"variant no payload", variantOf(tU8, nil), Variant{1, nil}},
		{"variant join", variantOf(tS64, tF32), Variant{1, float32(0.25)}},
		{"enum", enumOf(300), uint32(299)},
		{"option none", optionOf(tString), None},
		{"option some", optionOf(tString), Some("s")},
		{"nested option", optionOf(optionOf(tU32)), Some(None)},
		{"result ok", resultOf(tString, tU32), Ok("ok")},
		{"result err", resultOf(tString, tU32), Err(uint32(7))},
		{"result empty", resultOf(nil, nil), Err(nil)},
		{"flags", flagsOf(17), uint32(0x10001)},
		{"list<option<tuple<string,u16>>>", listOf(optionOf(tupleOf(tString, tU16))), []any{Some([]any{"answer", uint16(42)})}},
		{"own", &Type{Kind: KindOwn, Resource: host}, "rep"},
		{"borrow", &Type{Kind: KindBorrow, Resource: host}, "rep"},
		{"wide variant", variantOf(tupleOf(tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tU32, tString)),
			Variant{0, []any{uint32(1), uint32(2), uint32(3), uint32(4), uint32(5), uint32(6), uint32(7), uint32(8),
				uint32(9), uint32(10), uint32(11), uint32(12), uint32(13), uint32(14), uint32(15), uint32(16), "wat"}}},
	}
}

// Lower then lift is the identity, through flat values, through memory
// and through whole calls (with spilled params and return pointers).
func TestRoundTrip(t *testing.T) {
	for _, tc := range roundTripCases() {
		for enc := StringEncoding(0); enc < 3; enc++ {
			m := newTestMem(1 << 12)
			cx := m.cx(enc)
			cx.Call = cx.Handles.BeginCall()

			flat, err := LowerFlat(cx, tc.t, tc.v)
			if err != nil {
				t.Fatalf("%s/%d: LowerFlat: %v", tc.name, enc, err)
			}
			got, err := LiftFlat(cx, tc.t, NewFlatReader(flat))
			if err != nil || !equalValues(got, tc.v) {
				t.Errorf("%s/%d: flat round trip = %#v, %v", tc.name, enc, got, err)
			}

			p, _ := m.realloc(0, 0, Align(tc.t), Size(tc.t))
			if err := StoreValue(cx, tc.t, tc.v, p); err != nil {
				t.Fatalf("%s/%d: StoreValue: %v", tc.name, enc, err)
			}
			got, err = LoadValue(cx, tc.t, p)
			if err != nil || !equalValues(got, tc.v) {
				t.Errorf("%s/%d: memory round trip = %#v, %v", tc.name, enc, got, err)
			}

			for _, n := range []int{1, 2, 17} {
				ft := &FuncType{}
				args := make([]any, n)
				for i := range args {
					ft.Params = append(ft.Params, Param{Name: "p", Type: tc.t})
					args[i] = tc.v
				}
				ft.Results = []Param{{Name: "a", Type: tc.t}, {Name: "b", Type: tc.t}}
				if tc.t.Kind == KindBorrow {
					ft.Results = nil
				}
				core, err := LowerParams(cx, ft, args)
				if err != nil {
					t.Fatalf("%s/%d/%d: LowerParams: %v", tc.name, enc, n, err)
				}
				got, err := LiftParams(cx, ft, core)
				if err != nil || !equalValues(got, args) {
					t.Errorf("%s/%d/%d: params round trip = %#v, %v", tc.name, enc, n, got, err)
				}
				if ft.Results == nil {
					continue
				}
				// A guest calling a host function passes a return pointer.
				retp, _ := m.realloc(0, 0, 8, 2*Size(tc.t)+16)
				in := append(append([]uint64(nil), core...), uint64(retp))
				res := []any{tc.v, tc.v}
				out, err := LowerResults(cx, ft, res, in)
				if err != nil || len(out) != 0 {
					t.Fatalf("%s/%d/%d: LowerResults: %v, %v", tc.name, enc, n, out, err)
				}
				got, err = LiftResults(cx, ft, []uint64{uint64(retp)})
				if err != nil || !equalValues(got, res) {
					t.Errorf("%s/%d/%d: results round trip = %#v, %v", tc.name, enc, n, got, err)
				}
			}
			err = cx.Handles.EndCall(cx.Call)
			if tc.t.Kind != KindBorrow {
				if err != nil {
					t.Errorf("%s/%d: EndCall: %v", tc.name, enc, err)
				}
				continue
			}
			// The borrows given to the "guest" were never dropped: a trap.
			// EndCall released the lends, so they can be dropped now.
			if !isTrap(err) {
				t.Errorf("%s/%d: EndCall with live borrows = %v, want trap", tc.name, enc, err)
			}
			for i := uint32(1); i < 64; i++ {
				_, _, _ = cx.Handles.Drop(tc.t.Resource, i)
			}
			if n := cx.Handles.Len(); n != 0 {
				t.Errorf("%s/%d: %d handles left after dropping", tc.name, enc, n)
			}
		}
	}
}

func TestSingleResultFlat(t *testing.T) {
	ft := &FuncType{Params: []Param{{Type: tString}}, Results: []Param{{Type: tU32}}}
	m := newTestMem(256)
	cx := m.cx(UTF8)
	out, err := LowerResults(cx, ft, []any{uint32(7)}, []uint64{0, 0})
	if err != nil || len(out) != 1 || out[0] != 7 {
		t.Fatalf("LowerResults = %v, %v", out, err)
	}
	got, err := LiftResults(cx, ft, out)
	if err != nil || got[0] != uint32(7) {
		t.Fatalf("LiftResults = %v, %v", got, err)
	}
}

func isTrap(err error) bool {
	var trap *Trap
	return errors.As(err, &trap)
}

func TestTraps(t *testing.T) {
	mem := func(b ...byte) *Context {
		m := newTestMem(len(b))
		copy(m.buf, b)
		return m.cx(UTF8)
	}
	tests := []struct {
		name string
		cx   *Context
		t    *Type
		ptr  uint32
	}{
		{"bad variant discriminant", mem(3, 0), variantOf(tU8, tU8, nil), 0},
		{"bad option discriminant", mem(2, 0), optionOf(tU8), 0},
		{"bad result discriminant", mem(2, 0), resultOf(nil, nil), 0},
		{"bad enum", mem(1, 1), enumOf(257), 0},
		{"surrogate char", mem(0x00, 0xd8, 0, 0), tChar, 0},
		{"char too large", mem(0x00, 0x00, 0x11, 0), tChar, 0},
		{"out of bounds", mem(1, 2, 3), tU32, 0},
		{"pointer past end", mem(1, 2, 3, 4), tU8, 4},
		{"misaligned", mem(0, 0, 0, 0, 0, 0, 0, 0), tU32, 2},
		{"misaligned list", mem(1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), listOf(tU32), 0},
		{"list out of bounds", mem(0, 0, 0, 0, 9, 0, 0, 0), listOf(tU8), 0},
		{"list too long", mem(0, 0, 0, 0, 0, 0, 0, 0x20), listOf(tU8), 0},
		{"list length overflow", mem(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), listOf(tU64), 0},
		{"bad handle", mem(9, 0, 0, 0), &Type{Kind: KindOwn, Resource: fuzzHostRes}, 0},
		{"handle zero", mem(0, 0, 0, 0), &Type{Kind: KindOwn, Resource: fuzzHostRes}, 0},
		{"no memory", &Context{}, tU8, 0},
	}
	for _, tc := range tests {
		if v, err := LoadValue(tc.cx, tc.t, tc.ptr); !isTrap(err) {
			t.Errorf("%s: LoadValue = %#v, %v; want trap", tc.name, v, err)
		}
	}
	// Flat: a discriminant out of range, too few values.
	if _, err := LiftFlat(&Context{}, variantOf(tU8), NewFlatReader([]uint64{1, 0})); !isTrap(err) {
		t.Errorf("flat bad discriminant: %v", err)
	}
	if _, err := LiftFlat(&Context{}, tupleOf(tU8, tU8), NewFlatReader([]uint64{1})); !isTrap(err) {
		t.Errorf("too few flat values: %v", err)
	}
	// Stores: misaligned, out of bounds, misaligned return pointer,
	// realloc returning garbage.
	m := newTestMem(16)
	cx := m.cx(UTF8)
	if err := StoreValue(cx, tU32, uint32(1), 1); !isTrap(err) {
		t.Errorf("misaligned store: %v", err)
	}
	if err := StoreValue(cx, tU64, uint64(1), 12); !isTrap(err) {
		t.Errorf("out of bounds store: %v", err)
	}
	ft := &FuncType{Results: []Param{{Type: tString}}}
	if _, err := LowerResults(cx, ft, []any{"x"}, []uint64{3}); !isTrap(err) {
		t.Errorf("misaligned return pointer: %v", err)
	}
	if _, err := LowerResults(cx, ft, []any{"x"}, nil); !isTrap(err) {
		t.Errorf("missing return pointer: %v", err)
	}
	cx.Realloc = func(_, _, _, _ uint32) (uint32, error) { return 1, nil }
	if _, err := LowerFlat(cx, listOf(tU32), []any{uint32(1)}); !isTrap(err) {
		t.Errorf("misaligned realloc result: %v", err)
	}
	cx.Realloc = func(_, _, _, _ uint32) (uint32, error) { return 1 << 20, nil }
	if _, err := LowerFlat(cx, tString, "abc"); !isTrap(err) {
		t.Errorf("out of bounds realloc result: %v", err)
	}
	cx.Realloc = nil
	if _, err := LowerFlat(cx, tString, "abc"); !isTrap(err) {
		t.Errorf("no realloc: %v", err)
	}
	// Host values of the wrong shape are ValueErrors, not traps.
	var ve *ValueError
	for _, bad := range []struct {
		t *Type
		v any
	}{
		{tU32, 1}, {tChar, rune(0xD800)}, {recordOf(tU8), []any{}}, {variantOf(tU8), Variant{Case: 1}},
		{enumOf(2), uint32(2)}, {optionOf(tU8), uint8(1)}, {listOf(tU32), []byte{1}},
	} {
		if _, err := LowerFlat(newTestMem(64).cx(UTF8), bad.t, bad.v); !errors.As(err, &ve) {
			t.Errorf("LowerFlat(%v, %#v) = %v, want ValueError", bad.t.Kind, bad.v, err)
		}
	}
}

func TestSpilledParamsUseRealloc(t *testing.T) {
	ft := &FuncType{}
	var args []any
	for i := 0; i < 17; i++ {
		ft.Params = append(ft.Params, Param{Type: tU8})
		args = append(args, uint8(i))
	}
	m := newTestMem(64)
	cx := m.cx(UTF8)
	core, err := LowerParams(cx, ft, args)
	if err != nil || len(core) != 1 || m.reallocs != 1 {
		t.Fatalf("LowerParams = %v, %v (%d reallocs)", core, err, m.reallocs)
	}
	if got := m.buf[core[0] : core[0]+17]; got[16] != 16 {
		t.Errorf("spilled tuple = %v", got)
	}
	if _, err := LowerParams(cx, ft, args[:3]); err == nil {
		t.Error("wrong argument count accepted")
	}
}
