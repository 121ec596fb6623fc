package cabi

import (
	"encoding/binary"
	"math"
	"testing"
)

var (
	fuzzHostRes  = &Resource{Name: "test#host", Host: true}
	fuzzGuestRes = &Resource{Name: "test#guest"}
)

// typeGen builds a random type tree from fuzz input.
type typeGen struct {
	b         []byte
	guestRes  bool // allow handles to guest resources
	nodes     int
	invalidOK bool // may produce invalid types (empty records, 33 flags, …)
}

func (g *typeGen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *typeGen) gen(depth int) *Type {
	g.nodes++
	k := Kind(g.byte()%uint8(KindBorrow)) + 1
	if depth > 4 || g.nodes > 40 {
		k = Kind(g.byte()%uint8(KindString)) + 1
	}
	n := int(g.byte() % 5)
	if !g.invalidOK {
		n++
	}
	t := &Type{Kind: k}
	switch k {
	case KindList, KindOption:
		t.Elem = g.gen(depth + 1)
	case KindRecord:
		for i := 0; i < n; i++ {
			t.Fields = append(t.Fields, Field{Name: "f", Type: g.gen(depth + 1)})
		}
	case KindTuple:
		for i := 0; i < n; i++ {
			t.Types = append(t.Types, g.gen(depth+1))
		}
	case KindVariant:
		for i := 0; i < n; i++ {
			c := Case{Name: "c"}
			if g.byte()%3 != 0 {
				c.Type = g.gen(depth + 1)
			}
			t.Cases = append(t.Cases, c)
		}
	case KindEnum:
		t.Labels = labels(n + int(g.byte())*int(g.byte()%2)*2)
	case KindFlags:
		fl := int(g.byte() % 33)
		if !g.invalidOK && fl == 0 {
			fl = 1
		}
		if g.invalidOK && fl == 32 && g.byte()%2 == 0 {
			fl = 33
		}
		t.Labels = labels(fl)
	case KindResult:
		if c := g.byte(); c&1 != 0 {
			t.Ok = g.gen(depth + 1)
		}
		if c := g.byte(); c&1 != 0 {
			t.Err = g.gen(depth + 1)
		}
	case KindOwn, KindBorrow:
		t.Resource = fuzzHostRes
		if g.guestRes && g.byte()%2 == 0 {
			t.Resource = fuzzGuestRes
		}
	}
	return t
}

func fuzzContext(mem []byte, enc uint8) (*Context, *testMem) {
	m := &testMem{buf: mem}
	cx := m.cx(StringEncoding(enc % 3))
	cx.Layouts = NewLayouts()
	for i := 0; i < 4; i++ {
		cx.Handles.New(fuzzHostRes, "host", true)
		cx.Handles.New(fuzzGuestRes, uint32(i), i != 3)
	}
	cx.Call = cx.Handles.BeginCall()
	return cx, m
}

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{byte(KindString), 0}, []byte{8, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c'}, uint32(0), uint8(0))
	f.Add([]byte{byte(KindList) - 1, 0, byte(KindTuple) - 1, 1, byte(KindString) - 1, 0, byte(KindList) - 1, 0, byte(KindU8) - 1, 0},
		[]byte{8, 0, 0, 0, 1, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 24, 0, 0, 0, 2, 0, 0, 0, 'h', 0, 'i', 0}, uint32(0), uint8(0))
	f.Add([]byte{byte(KindVariant) - 1, 2, 1, byte(KindF64) - 1, 0, 1, byte(KindChar) - 1, 0}, make([]byte, 32), uint32(8), uint8(1))
	f.Add([]byte{byte(KindOwn) - 1, 0}, []byte{1, 0, 0, 0}, uint32(0), uint8(2))
	f.Add([]byte{byte(KindFlags) - 1, 0, 32, 0}, []byte{0xff, 0xff, 0xff, 0xff}, uint32(0), uint8(2))
}

// FuzzLoadValue: random memory and a random (possibly invalid) type tree
// must never panic the host, through LoadValue, LiftFlat and LiftParams.
func FuzzLoadValue(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, typeBytes, mem []byte, ptr uint32, enc uint8) {
		g := &typeGen{b: typeBytes, guestRes: true, invalidOK: true}
		typ := g.gen(0)
		cx, _ := fuzzContext(mem, enc)
		_, _ = LoadValue(cx, typ, ptr)
		flat := make([]uint64, 0, len(mem)/8)
		for i := 0; i+8 <= len(mem); i += 8 {
			flat = append(flat, binary.LittleEndian.Uint64(mem[i:]))
		}
		_, _ = LiftFlat(cx, typ, NewFlatReader(flat))
		ft := &FuncType{Params: []Param{{Type: typ}, {Type: typ}}, Results: []Param{{Type: typ}}}
		_, _ = LiftParams(cx, ft, flat)
		_, _ = LiftResults(cx, ft, flat)
		_ = cx.Handles.EndCall(cx.Call)
	})
}

// FuzzRoundTrip: a value lifted from random memory, lowered again (into
// memory and into flat values, in every string encoding) and lifted back,
// is the same value.
func FuzzRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, typeBytes, mem []byte, ptr uint32, enc uint8) {
		g := &typeGen{b: typeBytes}
		typ := g.gen(0)
		ptr %= uint32(len(mem) + 1)
		if err := ValidateType(typ); err != nil {
			t.Fatalf("generated invalid type: %v", err)
		}
		cx, _ := fuzzContext(mem, enc)
		v, err := LoadValue(cx, typ, ptr)
		if err != nil {
			return
		}
		for dst := StringEncoding(0); dst < 3; dst++ {
			m := newTestMem(1 << 16)
			cx2 := m.cx(dst)
			cx2.Handles = cx.Handles
			cx2.Call = cx.Call
			p, err := m.realloc(0, 0, Align(typ), Size(typ))
			if err != nil {
				t.Skip("value too large for the test heap")
			}
			if err := StoreValue(cx2, typ, v, p); err != nil {
				if err == errHeapFull || isHeapFull(err) {
					return
				}
				t.Fatalf("store %#v: %v", v, err)
			}
			got, err := LoadValue(cx2, typ, p)
			if err != nil || !equalValues(got, v) {
				t.Fatalf("store/load %#v: got %#v, %v", v, got, err)
			}
			flat, err := LowerFlat(cx2, typ, v)
			if err != nil {
				if isHeapFull(err) {
					return
				}
				t.Fatalf("lower %#v: %v", v, err)
			}
			if len(flat) != len(Flatten(typ)) {
				t.Fatalf("lowered %d values, want %d", len(flat), len(Flatten(typ)))
			}
			got, err = LiftFlat(cx2, typ, NewFlatReader(flat))
			if err != nil || !equalValues(got, v) {
				t.Fatalf("lower/lift %#v: got %#v, %v", v, got, err)
			}
		}
	})
}

func isHeapFull(err error) bool {
	for e := err; e != nil; {
		if e == errHeapFull {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// equalValues is reflect.DeepEqual with NaN equal to NaN (bitwise floats).
func equalValues(a, b any) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
				return false
			}
		}
		return true
	case Variant:
		y, ok := b.(Variant)
		return ok && x.Case == y.Case && equalValues(x.Value, y.Value)
	case Option:
		y, ok := b.(Option)
		return ok && x.Some == y.Some && equalValues(x.Value, y.Value)
	case Result:
		y, ok := b.(Result)
		return ok && x.IsErr == y.IsErr && equalValues(x.Value, y.Value)
	}
	return a == b
}
