package cabi

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"
	"unicode/utf16"
)

// specTest is run_tests.py's test(): lift_flat the core values (nil want =
// trap), then lower the value with a fresh heap and lift it back.
func specTest(t *testing.T, cx *Context, typ *Type, flat []uint64, want any) {
	t.Helper()
	r := NewFlatReader(flat)
	got, err := LiftFlat(cx, typ, r)
	if want == nil {
		var trap *Trap
		if !errors.As(err, &trap) {
			t.Errorf("%v %v: got %#v, %v; want trap", typ.Kind, flat, got, err)
		}
		return
	}
	if err != nil || !r.Done() || !reflect.DeepEqual(got, want) {
		t.Errorf("%v %v: got %#v, %v (done %v); want %#v", typ.Kind, flat, got, err, r.Done(), want)
		return
	}
	m := newTestMem(1 << 12)
	cx2 := m.cx(cx.Encoding)
	lowered, err := LowerFlat(cx2, typ, got)
	if err != nil {
		t.Errorf("%v: lower %#v: %v", typ.Kind, got, err)
		return
	}
	if len(lowered) != len(Flatten(typ)) {
		t.Errorf("%v: lowered %d values, want %d", typ.Kind, len(lowered), len(Flatten(typ)))
	}
	again, err := LiftFlat(cx2, typ, NewFlatReader(lowered))
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("%v: re-lift got %#v, %v; want %#v", typ.Kind, again, err, want)
	}
}

func f32bits(f float32) uint64 { return uint64(math.Float32bits(f)) }
func f64bits(f float64) uint64 { return math.Float64bits(f) }

func TestSpecFlatVectors(t *testing.T) {
	cx := &Context{}
	specTest(t, cx, recordOf(tU8, tU16, tU32), []uint64{1, 2, 3}, []any{uint8(1), uint16(2), uint32(3)})
	specTest(t, cx, tupleOf(tupleOf(tU8, tU8), tU8), []uint64{1, 2, 3}, []any{[]any{uint8(1), uint8(2)}, uint8(3)})

	fl := flagsOf(2)
	specTest(t, cx, fl, []uint64{0}, uint32(0))
	specTest(t, cx, fl, []uint64{2}, uint32(2))
	specTest(t, cx, fl, []uint64{3}, uint32(3))
	specTest(t, cx, fl, []uint64{4}, uint32(0)) // unused bits ignored
	specTest(t, cx, flagsOf(32), []uint64{0xffffffff}, uint32(0xffffffff))

	v := variantOf(tU8, tF32, nil)
	specTest(t, cx, v, []uint64{0, 42}, Variant{0, uint8(42)})
	specTest(t, cx, v, []uint64{0, 256}, Variant{0, uint8(0)})
	specTest(t, cx, v, []uint64{1, 0x4048f5c3}, Variant{1, float32(3.140000104904175)})
	specTest(t, cx, v, []uint64{2, 0xffffffff}, Variant{2, nil})
	specTest(t, cx, v, []uint64{3, 0}, nil)
	specTest(t, cx, optionOf(tF32), []uint64{0, f32bits(3.14)}, None)
	specTest(t, cx, optionOf(tF32), []uint64{1, f32bits(3.14)}, Some(float32(3.14)))
	specTest(t, cx, resultOf(tU8, tU32), []uint64{0, 42}, Ok(uint8(42)))
	specTest(t, cx, resultOf(tU8, tU32), []uint64{1, 1000}, Err(uint32(1000)))
	specTest(t, cx, resultOf(tU8, tU32), []uint64{2, 1000}, nil)
	specTest(t, cx, variantOf(tU8, tU8), []uint64{1, 42}, Variant{1, uint8(42)})
	// i64 slot holding an i32 or f32 payload (wrap_i64_to_i32).
	specTest(t, cx, variantOf(tS64, tF32, tU32), []uint64{1, 0xdead_0000_0000 | f32bits(1.5)}, Variant{1, float32(1.5)})
	specTest(t, cx, variantOf(tS64, tF32, tU32), []uint64{2, 0xffff_ffff_ffff_fffe}, Variant{2, uint32(0xfffffffe)})
	specTest(t, cx, variantOf(tF64, tS64), []uint64{0, f64bits(2.5)}, Variant{0, 2.5})

	pairs := func(typ *Type, ps ...[2]any) {
		for _, p := range ps {
			specTest(t, cx, typ, []uint64{uint64(p[0].(int))}, p[1])
		}
	}
	pairs(tBool, [2]any{0, false}, [2]any{1, true}, [2]any{2, true}, [2]any{4294967295, true})
	pairs(tU8, [2]any{127, uint8(127)}, [2]any{128, uint8(128)}, [2]any{255, uint8(255)}, [2]any{256, uint8(0)},
		[2]any{4294967295, uint8(255)}, [2]any{4294967168, uint8(128)}, [2]any{4294967167, uint8(127)})
	pairs(tS8, [2]any{127, int8(127)}, [2]any{128, int8(-128)}, [2]any{255, int8(-1)}, [2]any{256, int8(0)},
		[2]any{4294967295, int8(-1)}, [2]any{4294967168, int8(-128)}, [2]any{4294967167, int8(127)})
	pairs(tU16, [2]any{32767, uint16(32767)}, [2]any{32768, uint16(32768)}, [2]any{65535, uint16(65535)}, [2]any{65536, uint16(0)},
		[2]any{1<<32 - 1, uint16(65535)}, [2]any{1<<32 - 32768, uint16(32768)}, [2]any{1<<32 - 32769, uint16(32767)})
	pairs(tS16, [2]any{32767, int16(32767)}, [2]any{32768, int16(-32768)}, [2]any{65535, int16(-1)}, [2]any{65536, int16(0)},
		[2]any{1<<32 - 1, int16(-1)}, [2]any{1<<32 - 32768, int16(-32768)}, [2]any{1<<32 - 32769, int16(32767)})
	pairs(tU32, [2]any{1<<31 - 1, uint32(1<<31 - 1)}, [2]any{1 << 31, uint32(1 << 31)}, [2]any{1<<32 - 1, uint32(1<<32 - 1)})
	pairs(tS32, [2]any{1<<31 - 1, int32(1<<31 - 1)}, [2]any{1 << 31, int32(-1 << 31)}, [2]any{1<<32 - 1, int32(-1)})
	specTest(t, cx, tU64, []uint64{1<<63 - 1}, uint64(1<<63-1))
	specTest(t, cx, tU64, []uint64{1<<64 - 1}, uint64(1<<64-1))
	specTest(t, cx, tS64, []uint64{1 << 63}, int64(-1<<63))
	specTest(t, cx, tS64, []uint64{1<<64 - 1}, int64(-1))
	specTest(t, cx, tF32, []uint64{f32bits(3.14)}, float32(3.14))
	specTest(t, cx, tF64, []uint64{f64bits(3.14)}, 3.14)
	pairs(tChar, [2]any{0, rune(0)}, [2]any{65, 'A'}, [2]any{0xD7FF, rune(0xD7FF)}, [2]any{0xD800, nil}, [2]any{0xDFFF, nil},
		[2]any{0xE000, rune(0xE000)}, [2]any{0x10FFFF, rune(0x10FFFF)}, [2]any{0x110000, nil}, [2]any{0xFFFFFFFF, nil})
	pairs(enumOf(2), [2]any{0, uint32(0)}, [2]any{1, uint32(1)}, [2]any{2, nil})
}

// test_nan32 / test_nan64 with DETERMINISTIC_PROFILE.
func TestSpecNaN(t *testing.T) {
	for _, tc := range [][2]uint32{
		{0x7fc00000, 0x7fc00000}, {0x7fc00001, 0x7fc00000}, {0x7fe00000, 0x7fc00000},
		{0x7fffffff, 0x7fc00000}, {0xffffffff, 0x7fc00000}, {0x7f800000, 0x7f800000}, {0x3fc00000, 0x3fc00000},
	} {
		v, err := LiftFlat(&Context{}, tF32, NewFlatReader([]uint64{uint64(tc[0])}))
		if err != nil || math.Float32bits(v.(float32)) != tc[1] {
			t.Errorf("lift f32 %#x = %v, want %#x", tc[0], v, tc[1])
		}
		m := newTestMem(4)
		binary.LittleEndian.PutUint32(m.buf, tc[0])
		v, err = LoadValue(m.cx(UTF8), tF32, 0)
		if err != nil || math.Float32bits(v.(float32)) != tc[1] {
			t.Errorf("load f32 %#x = %v, want %#x", tc[0], v, tc[1])
		}
		flat, _ := LowerFlat(&Context{}, tF32, math.Float32frombits(tc[0]))
		if uint32(flat[0]) != tc[1] {
			t.Errorf("lower f32 %#x = %#x, want %#x", tc[0], flat[0], tc[1])
		}
	}
	for _, tc := range [][2]uint64{
		{0x7ff8000000000000, 0x7ff8000000000000}, {0x7ff8000000000001, 0x7ff8000000000000},
		{0x7ffc000000000000, 0x7ff8000000000000}, {0x7fffffffffffffff, 0x7ff8000000000000},
		{0xffffffffffffffff, 0x7ff8000000000000}, {0x7ff0000000000000, 0x7ff0000000000000},
		{0x3ff0000000000000, 0x3ff0000000000000},
	} {
		v, err := LiftFlat(&Context{}, tF64, NewFlatReader([]uint64{tc[0]}))
		if err != nil || math.Float64bits(v.(float64)) != tc[1] {
			t.Errorf("lift f64 %#x = %v, want %#x", tc[0], v, tc[1])
		}
		m := newTestMem(8)
		binary.LittleEndian.PutUint64(m.buf, tc[0])
		v, err = LoadValue(m.cx(UTF8), tF64, 0)
		if err != nil || math.Float64bits(v.(float64)) != tc[1] {
			t.Errorf("load f64 %#x = %v, want %#x", tc[0], v, tc[1])
		}
	}
}

func encodeString(enc StringEncoding, s string, latin1 bool) ([]byte, uint32) {
	var units []uint16
	for _, r := range s {
		units = utf16.AppendRune(units, r)
	}
	switch {
	case enc == UTF8:
		return []byte(s), uint32(len(s))
	case enc == Latin1UTF16 && latin1:
		var b []byte
		for _, r := range s {
			if r >= 256 {
				return nil, 0
			}
			b = append(b, byte(r))
		}
		return b, uint32(len(b))
	}
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	n := uint32(len(units))
	if enc == Latin1UTF16 {
		n |= utf16Tag
	}
	return b, n
}

// test_string: every source and destination encoding, including non-ASCII,
// latin1-only and astral (surrogate pair) strings.
func TestSpecStrings(t *testing.T) {
	fun := []string{"", "a", "hi", "\x00", "a\x00b", "\u0080", "\u0080b", "ab\u00efc",
		"\u01ffy", "xy\u01ff", "a\ud7ffb", "a\u02ff\u03ff\u04ffbc",
		"\uf123", "\uf123\uf123abc", "abcdef\uf123", "😀", "a😀b\u00ff", "\U0010FFFF"}
	encs := []StringEncoding{UTF8, UTF16, Latin1UTF16}
	for _, src := range encs {
		for _, dst := range encs {
			for _, s := range fun {
				for _, latin1 := range []bool{true, false} {
					b, n := encodeString(src, s, latin1)
					if b == nil && s != "" {
						continue
					}
					m := newTestMem(len(b))
					copy(m.buf, b)
					specTest(t, &Context{Memory: m, Encoding: src}, tString, []uint64{0, uint64(n)}, s)
					_ = dst
					m2 := newTestMem(1 << 10)
					cx2 := m2.cx(dst)
					flat, err := LowerFlat(cx2, tString, s)
					if err != nil {
						t.Fatalf("lower %q into %d: %v", s, dst, err)
					}
					gb, _ := encodeString(dst, s, flat[1]&utf16Tag == 0 && dst == Latin1UTF16)
					if got := m2.buf[flat[0] : flat[0]+uint64(len(gb))]; string(got) != string(gb) {
						t.Errorf("lower %q into %d: memory %x, want %x", s, dst, got, gb)
					}
					if v, err := LiftFlat(cx2, tString, NewFlatReader(flat)); err != nil || v != s {
						t.Errorf("relift %q from %d: %q, %v", s, dst, v, err)
					}
				}
			}
		}
	}
}

func TestStringTraps(t *testing.T) {
	tests := []struct {
		enc  StringEncoding
		mem  []byte
		ptr  uint32
		n    uint32
		name string
	}{
		{UTF8, []byte{0xff, 0xfe}, 0, 2, "invalid utf-8"},
		{UTF8, []byte{0xed, 0xa0, 0x80}, 0, 3, "utf-8 encoded surrogate"},
		{UTF16, []byte{0, 0xd8, 'a', 0}, 0, 2, "lone high surrogate"},
		{UTF16, []byte{0, 0xdc}, 0, 1, "lone low surrogate"},
		{UTF16, []byte{0, 0xd8}, 0, 1, "truncated pair"},
		{Latin1UTF16, []byte{0, 0xdc}, 0, 1 | utf16Tag, "tagged lone surrogate"},
		{UTF16, []byte{0, 'a', 0}, 1, 1, "misaligned utf-16"},
		{Latin1UTF16, []byte{0, 'a', 0}, 1, 1, "misaligned latin1"},
		{UTF8, []byte("abc"), 2, 2, "out of bounds"},
		{UTF8, []byte("abc"), 0xffffffff, 2, "wrapping"},
		{UTF16, []byte("abc"), 0, 0x7fffffff, "over maximum"},
	}
	for _, tc := range tests {
		m := newTestMem(len(tc.mem))
		copy(m.buf, tc.mem)
		_, err := LiftFlat(&Context{Memory: m, Encoding: tc.enc}, tString, NewFlatReader([]uint64{uint64(tc.ptr), uint64(tc.n)}))
		var trap *Trap
		if !errors.As(err, &trap) {
			t.Errorf("%s: err = %v, want trap", tc.name, err)
		}
	}
	if _, err := LowerFlat(newTestMem(64).cx(UTF8), tString, "a\xffb"); err == nil {
		t.Error("invalid host utf-8 lowered")
	}
}

// test_heap from run_tests.py (i32 memories).
func TestSpecHeapVectors(t *testing.T) {
	tup := func(vs ...any) []any { return vs }
	tests := []struct {
		typ  *Type
		want any
		flat []uint64
		mem  []byte
	}{
		{listOf(tBool), []any{true, false, true}, []uint64{0, 3}, []byte{1, 0, 1}},
		{listOf(tBool), []any{true, false, true}, []uint64{0, 3}, []byte{1, 0, 2}},
		{listOf(tBool), []any{true, false, true}, []uint64{3, 3}, []byte{0xff, 0xff, 0xff, 1, 0, 1}},
		{listOf(tU8), []byte{1, 2, 3}, []uint64{0, 3}, []byte{1, 2, 3}},
		{listOf(tU16), []any{uint16(1), uint16(2), uint16(3)}, []uint64{0, 3}, []byte{1, 0, 2, 0, 3, 0}},
		{listOf(tU16), nil, []uint64{1, 3}, []byte{0, 1, 0, 2, 0, 3, 0}},
		{listOf(tU32), []any{uint32(1), uint32(2), uint32(3)}, []uint64{0, 3}, []byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0}},
		{listOf(tU64), []any{uint64(1), uint64(2)}, []uint64{0, 2}, []byte{1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}},
		{listOf(tS8), []any{int8(-1), int8(-2), int8(-3)}, []uint64{0, 3}, []byte{0xff, 0xfe, 0xfd}},
		{listOf(tS16), []any{int16(-1), int16(-2), int16(-3)}, []uint64{0, 3}, []byte{0xff, 0xff, 0xfe, 0xff, 0xfd, 0xff}},
		{listOf(tS32), []any{int32(-1), int32(-2), int32(-3)}, []uint64{0, 3}, []byte{0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff}},
		{listOf(tS64), []any{int64(-1), int64(-2)}, []uint64{0, 2}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{listOf(tChar), []any{'A', 'B', 'c'}, []uint64{0, 3}, []byte{65, 0, 0, 0, 66, 0, 0, 0, 99, 0, 0, 0}},
		{listOf(tString), []any{"hi", "wat"}, []uint64{0, 2}, []byte{16, 0, 0, 0, 2, 0, 0, 0, 21, 0, 0, 0, 3, 0, 0, 0, 'h', 'i', 0xf, 0xf, 0xf, 'w', 'a', 't'}},
		{listOf(listOf(tU8)), []any{[]byte{3, 4, 5}, []byte{}, []byte{6, 7}}, []uint64{0, 3},
			[]byte{24, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27, 0, 0, 0, 2, 0, 0, 0, 3, 4, 5, 6, 7}},
		{listOf(listOf(tU16)), []any{[]any{uint16(5), uint16(6)}}, []uint64{0, 1}, []byte{8, 0, 0, 0, 2, 0, 0, 0, 5, 0, 6, 0}},
		{listOf(listOf(tU16)), nil, []uint64{0, 1}, []byte{9, 0, 0, 0, 2, 0, 0, 0, 0, 5, 0, 6, 0}},
		{listOf(tupleOf(tU8, tU8, tU16, tU32)), []any{tup(uint8(6), uint8(7), uint16(8), uint32(9)), tup(uint8(4), uint8(5), uint16(6), uint32(7))},
			[]uint64{0, 2}, []byte{6, 7, 8, 0, 9, 0, 0, 0, 4, 5, 6, 0, 7, 0, 0, 0}},
		{listOf(tupleOf(tU8, tU16, tU8, tU32)), []any{tup(uint8(6), uint16(7), uint8(8), uint32(9)), tup(uint8(4), uint16(5), uint8(6), uint32(7))},
			[]uint64{0, 2}, []byte{6, 0xff, 7, 0, 8, 0xff, 0xff, 0xff, 9, 0, 0, 0, 4, 0xff, 5, 0, 6, 0xff, 0xff, 0xff, 7, 0, 0, 0}},
		{listOf(tupleOf(tU16, tU8)), []any{tup(uint16(6), uint8(7)), tup(uint16(8), uint8(9))}, []uint64{0, 2}, []byte{6, 0, 7, 0x0ff, 8, 0, 9, 0xff}},
		{listOf(tupleOf(tupleOf(tU16, tU8), tU8)), []any{tup(tup(uint16(4), uint8(5)), uint8(6)), tup(tup(uint16(7), uint8(8)), uint8(9))},
			[]uint64{0, 2}, []byte{4, 0, 5, 0xff, 6, 0xff, 7, 0, 8, 0xff, 9, 0xff}},
		{listOf(flagsOf(2)), []any{uint32(0), uint32(2), uint32(3)}, []uint64{0, 3}, []byte{0, 2, 3}},
		{listOf(flagsOf(2)), []any{uint32(0), uint32(2), uint32(0)}, []uint64{0, 3}, []byte{0, 2, 4}},
		{listOf(flagsOf(9)), []any{uint32(0x1ff), uint32(0)}, []uint64{0, 2}, []byte{0xff, 0x1, 0, 0}},
		{listOf(flagsOf(9)), []any{uint32(0x1ff), uint32(0)}, []uint64{0, 2}, []byte{0xff, 0x3, 0, 0}},
		{listOf(flagsOf(17)), []any{uint32(0x1ffff), uint32(0)}, []uint64{0, 2}, []byte{0xff, 0xff, 0x1, 0, 0, 0, 0, 0}},
		{listOf(flagsOf(17)), []any{uint32(0x1ffff), uint32(0)}, []uint64{0, 2}, []byte{0xff, 0xff, 0x3, 0, 0, 0, 0, 0}},
		{listOf(flagsOf(32)), []any{uint32(0xffffffff), uint32(0)}, []uint64{0, 2}, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		m := newTestMem(len(tc.mem))
		copy(m.buf, tc.mem)
		specTest(t, &Context{Memory: m}, tc.typ, tc.flat, tc.want)
	}
}
