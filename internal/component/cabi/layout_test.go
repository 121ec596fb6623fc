package cabi

import (
	"reflect"
	"testing"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		t           *Type
		size, align uint32
		flat        []CoreType
	}{
		{tBool, 1, 1, []CoreType{I32}},
		{tU16, 2, 2, []CoreType{I32}},
		{tS64, 8, 8, []CoreType{I64}},
		{tF32, 4, 4, []CoreType{F32}},
		{tF64, 8, 8, []CoreType{F64}},
		{tChar, 4, 4, []CoreType{I32}},
		{tString, 8, 4, []CoreType{I32, I32}},
		{listOf(tU64), 8, 4, []CoreType{I32, I32}},
		{recordOf(tU8, tU16, tU32), 8, 4, []CoreType{I32, I32, I32}},
		{tupleOf(tU8, tU16, tU8, tU32), 12, 4, []CoreType{I32, I32, I32, I32}},
		{tupleOf(tupleOf(tU16, tU8), tU8), 6, 2, []CoreType{I32, I32, I32}},
		{optionOf(tF32), 8, 4, []CoreType{I32, F32}},
		{optionOf(tU8), 2, 1, []CoreType{I32, I32}},
		{resultOf(nil, nil), 1, 1, []CoreType{I32}},
		{resultOf(tU8, tU32), 8, 4, []CoreType{I32, I32}},
		{resultOf(tString, tU64), 16, 8, []CoreType{I32, I64, I32}},
		// join: i32 ∨ f32 = i32; anything else with i64 or f64 = i64.
		{variantOf(tU32, tF32), 8, 4, []CoreType{I32, I32}},
		{variantOf(tF32, tF32), 8, 4, []CoreType{I32, F32}},
		{variantOf(tS64, tF32), 16, 8, []CoreType{I32, I64}},
		{variantOf(tF64, tU32), 16, 8, []CoreType{I32, I64}},
		{variantOf(tF32, tF64), 16, 8, []CoreType{I32, I64}},
		{variantOf(tU8, tF32, nil), 8, 4, []CoreType{I32, I32}},
		{variantOf(tupleOf(tF32, tU32), tupleOf(tU32, tF64, tU8)), 32, 8, []CoreType{I32, I32, I64, I32}},
		{enumOf(2), 1, 1, []CoreType{I32}},
		{enumOf(256), 1, 1, []CoreType{I32}},
		{enumOf(257), 2, 2, []CoreType{I32}},
		{enumOf(65537), 4, 4, []CoreType{I32}},
		{flagsOf(8), 1, 1, []CoreType{I32}},
		{flagsOf(9), 2, 2, []CoreType{I32}},
		{flagsOf(17), 4, 4, []CoreType{I32}},
		{flagsOf(32), 4, 4, []CoreType{I32}},
		{&Type{Kind: KindOwn, Resource: &Resource{Name: "r"}}, 4, 4, []CoreType{I32}},
	}
	for _, tc := range tests {
		if err := ValidateType(tc.t); err != nil {
			t.Errorf("%v: %v", tc.t.Kind, err)
			continue
		}
		if got := Size(tc.t); got != tc.size {
			t.Errorf("Size(%v %v) = %d, want %d", tc.t.Kind, tc.flat, got, tc.size)
		}
		if got := Align(tc.t); got != tc.align {
			t.Errorf("Align(%v %v) = %d, want %d", tc.t.Kind, tc.flat, got, tc.align)
		}
		if got := Flatten(tc.t); !reflect.DeepEqual(got, tc.flat) {
			t.Errorf("Flatten(%v) = %v, want %v", tc.t.Kind, got, tc.flat)
		}
	}
}

func TestInvalidTypes(t *testing.T) {
	cyc := &Type{Kind: KindList}
	cyc.Elem = optionOf(cyc)
	for _, typ := range []*Type{
		nil,
		{Kind: 0},
		{Kind: KindList},
		{Kind: KindRecord},
		{Kind: KindTuple},
		{Kind: KindVariant},
		{Kind: KindEnum},
		{Kind: KindOption},
		flagsOf(0),
		flagsOf(33),
		{Kind: KindOwn},
		tupleOf(tU8, nil),
		cyc,
	} {
		if err := ValidateType(typ); err == nil {
			t.Errorf("ValidateType(%+v) = nil, want error", typ)
		}
		if Size(typ) != 0 || Flatten(typ) != nil {
			t.Errorf("Size/Flatten of invalid %+v not zero", typ)
		}
		cx := newTestMem(64).cx(UTF8)
		if _, err := LoadValue(cx, typ, 0); err == nil {
			t.Errorf("LoadValue of invalid %+v succeeded", typ)
		}
	}
}

// test_flatten from run_tests.py.
func TestFlattenFunc(t *testing.T) {
	u8s := func(n int) []Param {
		ps := make([]Param, n)
		for i := range ps {
			ps[i] = Param{Type: tU8}
		}
		return ps
	}
	i32s := func(n int) []CoreType {
		cs := make([]CoreType, n)
		for i := range cs {
			cs[i] = I32
		}
		return cs
	}
	p3 := []Param{{Type: tU8}, {Type: tF32}, {Type: tF64}}
	f3 := []CoreType{I32, F32, F64}
	tests := []struct {
		ft              *FuncType
		params, results []CoreType
	}{
		{&FuncType{Params: p3}, f3, nil},
		{&FuncType{Params: p3, Results: []Param{{Type: tF32}}}, f3, []CoreType{F32}},
		{&FuncType{Params: p3, Results: []Param{{Type: tU8}}}, f3, []CoreType{I32}},
		{&FuncType{Params: p3, Results: []Param{{Type: tupleOf(tF32)}}}, f3, []CoreType{F32}},
		{&FuncType{Params: p3, Results: []Param{{Type: tupleOf(tF32, tF32)}}}, f3, []CoreType{F32, F32}},
		{&FuncType{Params: p3, Results: []Param{{Name: "a", Type: tF32}, {Name: "b", Type: tF32}}}, f3, []CoreType{F32, F32}},
		{&FuncType{Params: u8s(17)}, i32s(17), nil},
		{&FuncType{Params: u8s(17), Results: []Param{{Type: tupleOf(tU8, tU8)}}}, i32s(17), []CoreType{I32, I32}},
	}
	for i, tc := range tests {
		wantP, wantR := tc.params, tc.results
		if len(wantP) > MaxFlatParams {
			wantP = []CoreType{I32}
		}
		if len(wantR) > MaxFlatResults {
			wantR = []CoreType{I32}
		}
		p, r, err := FlattenFunc(tc.ft, CanonLift)
		if err != nil || !reflect.DeepEqual(p, wantP) || !reflect.DeepEqual(r, wantR) {
			t.Errorf("%d lift: got %v → %v (%v), want %v → %v", i, p, r, err, wantP, wantR)
		}
		if len(tc.results) > MaxFlatResults {
			wantP = append(append([]CoreType(nil), wantP...), I32)
			wantR = nil
		}
		p, r, err = FlattenFunc(tc.ft, CanonLower)
		if err != nil || !reflect.DeepEqual(p, wantP) || !reflect.DeepEqual(r, wantR) {
			t.Errorf("%d lower: got %v → %v (%v), want %v → %v", i, p, r, err, wantP, wantR)
		}
	}
	bad := &FuncType{Results: []Param{{Type: &Type{Kind: KindBorrow, Resource: &Resource{}}}}}
	if _, _, err := FlattenFunc(bad, CanonLift); err == nil {
		t.Error("borrow in results accepted")
	}
}
