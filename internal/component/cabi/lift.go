package cabi

import (
	"encoding/binary"
	"math"
)

// LoadValue is load(cx, ptr, t): lift the value of type t stored at ptr in
// the guest's memory. A misaligned or out-of-bounds ptr traps.
func LoadValue(cx *Context, t *Type, ptr uint32) (any, error) {
	l, err := cx.layouts().of(t)
	if err != nil {
		return nil, err
	}
	return load(cx, l, ptr)
}

func load(cx *Context, l *layout, ptr uint32) (any, error) {
	if ptr&(l.align-1) != 0 {
		return nil, trapf("pointer %#x to %s is not %d-byte aligned", ptr, l.kind, l.align)
	}
	b, err := cx.read(ptr, l.size)
	if err != nil {
		return nil, err
	}
	return decode(cx, l, b, 0)
}

const (
	canonicalNaN32 = 0x7fc00000         // CANONICAL_FLOAT32_NAN
	canonicalNaN64 = 0x7ff8000000000000 // CANONICAL_FLOAT64_NAN
)

// decode_i32_as_float (canonicalize_nan32)
func decodeF32(bits uint32) float32 {
	f := math.Float32frombits(bits)
	if f != f {
		return math.Float32frombits(canonicalNaN32)
	}
	return f
}

// decode_i64_as_float (canonicalize_nan64)
func decodeF64(bits uint64) float64 {
	f := math.Float64frombits(bits)
	if f != f {
		return math.Float64frombits(canonicalNaN64)
	}
	return f
}

// convert_i32_to_char
func convertI32ToChar(i uint32) (rune, error) {
	if i >= 0x110000 || (i >= 0xD800 && i <= 0xDFFF) {
		return 0, trapf("invalid char %#x", i)
	}
	return rune(i), nil
}

// decode is load for a value whose bytes b[off:off+l.size] were already
// read (and bounds-checked) from memory.
func decode(cx *Context, l *layout, b []byte, off uint32) (any, error) {
	le := binary.LittleEndian
	switch l.kind {
	case KindBool:
		return b[off] != 0, nil // convert_int_to_bool
	case KindU8:
		return b[off], nil
	case KindS8:
		return int8(b[off]), nil
	case KindU16:
		return le.Uint16(b[off:]), nil
	case KindS16:
		return int16(le.Uint16(b[off:])), nil
	case KindU32:
		return le.Uint32(b[off:]), nil
	case KindS32:
		return int32(le.Uint32(b[off:])), nil
	case KindU64:
		return le.Uint64(b[off:]), nil
	case KindS64:
		return int64(le.Uint64(b[off:])), nil
	case KindF32:
		return decodeF32(le.Uint32(b[off:])), nil
	case KindF64:
		return decodeF64(le.Uint64(b[off:])), nil
	case KindChar:
		return convertI32ToChar(le.Uint32(b[off:]))
	case KindString: // load_string
		return loadString(cx, le.Uint32(b[off:]), le.Uint32(b[off+4:]))
	case KindList: // load_list
		return loadList(cx, l.elem, le.Uint32(b[off:]), le.Uint32(b[off+4:]))
	case KindRecord, KindTuple: // load_record
		vs := make([]any, len(l.fields))
		for i, f := range l.fields {
			v, err := decode(cx, f, b, off+l.offs[i])
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return vs, nil
	case KindVariant, KindEnum, KindOption, KindResult: // load_variant
		var c uint32
		switch l.disc {
		case 1:
			c = uint32(b[off])
		case 2:
			c = uint32(le.Uint16(b[off:]))
		default:
			c = le.Uint32(b[off:])
		}
		if c >= l.ncases {
			return nil, trapf("%s discriminant %d out of range (%d cases)", l.kind, c, l.ncases)
		}
		var v any
		if pl := l.caseLayout(c); pl != nil {
			var err error
			if v, err = decode(cx, pl, b, off+l.payOff); err != nil {
				return nil, err
			}
		}
		return variantValue(l.kind, c, v), nil
	case KindFlags: // load_flags, unpack_flags_from_int
		var i uint32
		switch l.size {
		case 1:
			i = uint32(b[off])
		case 2:
			i = uint32(le.Uint16(b[off:]))
		default:
			i = le.Uint32(b[off:])
		}
		return i & l.flagMask, nil
	case KindOwn:
		return liftOwn(cx, l, le.Uint32(b[off:]))
	case KindBorrow:
		return liftBorrow(cx, l, le.Uint32(b[off:]))
	}
	return nil, trapf("cannot load %s", l.kind)
}

// variantValue builds the Go representation of a variant-like value.
func variantValue(k Kind, c uint32, v any) any {
	switch k {
	case KindEnum:
		return c
	case KindOption:
		return Option{Some: c == 1, Value: v}
	case KindResult:
		return Result{IsErr: c == 1, Value: v}
	}
	return Variant{Case: c, Value: v}
}

// load_list_from_range
func loadList(cx *Context, el *layout, ptr, n uint32) (any, error) {
	byteLen := uint64(n) * uint64(el.size)
	if byteLen > MaxListByteLength {
		return nil, trapf("list of %d bytes exceeds the maximum", byteLen)
	}
	if ptr&(el.align-1) != 0 {
		return nil, trapf("list pointer %#x is not %d-byte aligned", ptr, el.align)
	}
	b, err := cx.read(ptr, uint32(byteLen))
	if err != nil {
		return nil, err
	}
	if el.kind == KindU8 {
		out := make([]byte, n)
		copy(out, b)
		return out, nil
	}
	vs := make([]any, n)
	for i := range vs {
		v, err := decode(cx, el, b, uint32(i)*el.size)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// lift_own
func liftOwn(cx *Context, l *layout, i uint32) (any, error) {
	if cx.Handles == nil {
		return nil, trapf("no handle table for own handle %d", i)
	}
	return cx.Handles.liftOwn(l.t.Resource, i)
}

// lift_borrow
func liftBorrow(cx *Context, l *layout, i uint32) (any, error) {
	if cx.Handles == nil {
		return nil, trapf("no handle table for borrow handle %d", i)
	}
	return cx.Handles.liftBorrow(cx.Call, l.t.Resource, i)
}

// LiftFlat is lift_flat(cx, vi, t): lift a value of type t from flat core
// values.
func LiftFlat(cx *Context, t *Type, r *FlatReader) (any, error) {
	l, err := cx.layouts().of(t)
	if err != nil {
		return nil, err
	}
	return liftFlat(cx, l, r)
}

func liftFlat(cx *Context, l *layout, r *FlatReader) (any, error) {
	switch l.kind {
	case KindRecord, KindTuple: // lift_flat_record
		vs := make([]any, len(l.fields))
		for i, f := range l.fields {
			v, err := liftFlat(cx, f, r)
			if err != nil {
				return nil, err
			}
			vs[i] = v
		}
		return vs, nil
	case KindVariant, KindEnum, KindOption, KindResult: // lift_flat_variant
		c, err := r.next32()
		if err != nil {
			return nil, err
		}
		if c >= l.ncases {
			return nil, trapf("%s discriminant %d out of range (%d cases)", l.kind, c, l.ncases)
		}
		end := r.pos + len(l.flat) - 1
		var v any
		if pl := l.caseLayout(c); pl != nil {
			if v, err = liftFlat(cx, pl, r); err != nil {
				return nil, err
			}
		}
		if err := r.skipTo(end); err != nil {
			return nil, err
		}
		return variantValue(l.kind, c, v), nil
	case KindS64:
		v, err := r.Next()
		return int64(v), err
	case KindU64:
		v, err := r.Next()
		return v, err
	case KindF64:
		v, err := r.Next()
		return decodeF64(v), err
	case KindString, KindList:
		p, err := r.next32()
		if err != nil {
			return nil, err
		}
		n, err := r.next32()
		if err != nil {
			return nil, err
		}
		if l.kind == KindString { // lift_flat_string
			return loadString(cx, p, n)
		}
		return loadList(cx, l.elem, p, n) // lift_flat_list
	}
	i, err := r.next32()
	if err != nil {
		return nil, err
	}
	switch l.kind {
	case KindBool:
		return i != 0, nil
	case KindU8: // lift_flat_unsigned
		return uint8(i), nil
	case KindS8: // lift_flat_signed
		return int8(i), nil
	case KindU16:
		return uint16(i), nil
	case KindS16:
		return int16(i), nil
	case KindU32:
		return i, nil
	case KindS32:
		return int32(i), nil
	case KindF32:
		return decodeF32(i), nil
	case KindChar:
		return convertI32ToChar(i)
	case KindFlags: // lift_flat_flags
		return i & l.flagMask, nil
	case KindOwn:
		return liftOwn(cx, l, i)
	case KindBorrow:
		return liftBorrow(cx, l, i)
	}
	return nil, trapf("cannot lift %s", l.kind)
}
