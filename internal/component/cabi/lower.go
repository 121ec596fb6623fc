package cabi

import (
	"encoding/binary"
	"math"
)

// StoreValue is store(cx, v, t, ptr): lower the host value v of type t
// into the guest's memory at ptr, allocating strings and lists with
// realloc. A misaligned or out-of-bounds ptr traps.
func StoreValue(cx *Context, t *Type, v any, ptr uint32) error {
	l, err := cx.layouts().of(t)
	if err != nil {
		return err
	}
	return store(cx, l, v, ptr)
}

func store(cx *Context, l *layout, v any, ptr uint32) error {
	if err := cx.checkRange(ptr, l.size, l.align); err != nil {
		return err
	}
	buf := make([]byte, l.size)
	if err := encode(cx, l, v, buf, 0); err != nil {
		return err
	}
	return cx.write(ptr, buf)
}

// encode_float_as_i32: NaNs are canonicalised (the deterministic profile
// of maybe_scramble_nan32).
func encodeF32(f float32) uint32 {
	if f != f {
		return canonicalNaN32
	}
	return math.Float32bits(f)
}

// encode_float_as_i64
func encodeF64(f float64) uint64 {
	if f != f {
		return canonicalNaN64
	}
	return math.Float64bits(f)
}

// char_to_i32; an invalid rune is a host bug.
func charToI32(v any) (uint32, error) {
	r, ok := v.(rune)
	if !ok || r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) {
		return 0, valueErr(KindChar, v)
	}
	return uint32(r), nil
}

// encode is store into buf[off:off+l.size], the image of guest memory
// that the caller writes back; padding bytes are left zero.
func encode(cx *Context, l *layout, v any, buf []byte, off uint32) error {
	le := binary.LittleEndian
	switch l.kind {
	case KindBool:
		x, ok := v.(bool)
		if !ok {
			return valueErr(l.kind, v)
		}
		if x {
			buf[off] = 1
		}
	case KindU8:
		x, ok := v.(uint8)
		if !ok {
			return valueErr(l.kind, v)
		}
		buf[off] = x
	case KindS8:
		x, ok := v.(int8)
		if !ok {
			return valueErr(l.kind, v)
		}
		buf[off] = byte(x)
	case KindU16:
		x, ok := v.(uint16)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint16(buf[off:], x)
	case KindS16:
		x, ok := v.(int16)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint16(buf[off:], uint16(x))
	case KindU32:
		x, ok := v.(uint32)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint32(buf[off:], x)
	case KindS32:
		x, ok := v.(int32)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint32(buf[off:], uint32(x))
	case KindU64:
		x, ok := v.(uint64)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint64(buf[off:], x)
	case KindS64:
		x, ok := v.(int64)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint64(buf[off:], uint64(x))
	case KindF32:
		x, ok := v.(float32)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint32(buf[off:], encodeF32(x))
	case KindF64:
		x, ok := v.(float64)
		if !ok {
			return valueErr(l.kind, v)
		}
		le.PutUint64(buf[off:], encodeF64(x))
	case KindChar:
		c, err := charToI32(v)
		if err != nil {
			return err
		}
		le.PutUint32(buf[off:], c)
	case KindString, KindList: // store_string, store_list
		p, n, err := lowerRange(cx, l, v)
		if err != nil {
			return err
		}
		le.PutUint32(buf[off:], p)
		le.PutUint32(buf[off+4:], n)
	case KindRecord, KindTuple: // store_record
		vs, err := members(l, v)
		if err != nil {
			return err
		}
		for i, f := range l.fields {
			if err := encode(cx, f, vs[i], buf, off+l.offs[i]); err != nil {
				return err
			}
		}
	case KindVariant, KindEnum, KindOption, KindResult: // store_variant
		c, payload, err := matchCase(l, v)
		if err != nil {
			return err
		}
		switch l.disc {
		case 1:
			buf[off] = byte(c)
		case 2:
			le.PutUint16(buf[off:], uint16(c))
		default:
			le.PutUint32(buf[off:], c)
		}
		if pl := l.caseLayout(c); pl != nil {
			return encode(cx, pl, payload, buf, off+l.payOff)
		}
	case KindFlags: // store_flags, pack_flags_into_int
		x, ok := v.(uint32)
		if !ok {
			return valueErr(l.kind, v)
		}
		x &= l.flagMask
		switch l.size {
		case 1:
			buf[off] = byte(x)
		case 2:
			le.PutUint16(buf[off:], uint16(x))
		default:
			le.PutUint32(buf[off:], x)
		}
	case KindOwn, KindBorrow:
		i, err := lowerHandle(cx, l, v)
		if err != nil {
			return err
		}
		le.PutUint32(buf[off:], i)
	default:
		return valueErr(l.kind, v)
	}
	return nil
}

// members checks a record or tuple value.
func members(l *layout, v any) ([]any, error) {
	vs, ok := v.([]any)
	if !ok || len(vs) != len(l.fields) {
		return nil, &ValueError{Kind: l.kind, Value: v, Msg: "want []any with one entry per member"}
	}
	return vs, nil
}

// match_case: the case index and payload of a variant-like value.
func matchCase(l *layout, v any) (uint32, any, error) {
	var (
		c       uint32
		payload any
	)
	switch l.kind {
	case KindEnum:
		x, ok := v.(uint32)
		if !ok {
			return 0, nil, valueErr(l.kind, v)
		}
		c = x
	case KindOption:
		x, ok := v.(Option)
		if !ok {
			return 0, nil, valueErr(l.kind, v)
		}
		if x.Some {
			c, payload = 1, x.Value
		}
	case KindResult:
		x, ok := v.(Result)
		if !ok {
			return 0, nil, valueErr(l.kind, v)
		}
		if x.IsErr {
			c = 1
		}
		payload = x.Value
	default:
		x, ok := v.(Variant)
		if !ok {
			return 0, nil, valueErr(l.kind, v)
		}
		c, payload = x.Case, x.Value
	}
	if c >= l.ncases {
		return 0, nil, &ValueError{Kind: l.kind, Value: v, Msg: "case index out of range"}
	}
	return c, payload, nil
}

// lowerRange lowers a string or list into a freshly allocated range:
// store_string_into_range or store_list_into_range.
func lowerRange(cx *Context, l *layout, v any) (uint32, uint32, error) {
	if l.kind == KindString {
		s, ok := v.(string)
		if !ok {
			return 0, 0, valueErr(l.kind, v)
		}
		return storeString(cx, s)
	}
	el := l.elem
	if el.kind == KindU8 {
		if b, ok := v.([]byte); ok {
			return storeBytes(cx, b)
		}
	}
	vs, ok := v.([]any)
	if !ok {
		return 0, 0, valueErr(l.kind, v)
	}
	byteLen := uint64(len(vs)) * uint64(el.size)
	if byteLen > math.MaxUint32 {
		return 0, 0, &ValueError{Kind: l.kind, Value: v, Msg: "too long"}
	}
	ptr, err := cx.allocate(el.align, uint32(byteLen))
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, byteLen)
	for i, e := range vs {
		if err := encode(cx, el, e, buf, uint32(i)*el.size); err != nil {
			return 0, 0, err
		}
	}
	if err := cx.write(ptr, buf); err != nil {
		return 0, 0, err
	}
	return ptr, uint32(len(vs)), nil
}

// storeBytes is store_list_into_range for list<u8> given as []byte.
func storeBytes(cx *Context, b []byte) (uint32, uint32, error) {
	if uint64(len(b)) > math.MaxUint32 {
		return 0, 0, &ValueError{Kind: KindList, Value: b, Msg: "too long"}
	}
	ptr, err := cx.allocate(1, uint32(len(b)))
	if err != nil {
		return 0, 0, err
	}
	if err := cx.write(ptr, b); err != nil {
		return 0, 0, err
	}
	return ptr, uint32(len(b)), nil
}

// lower_own and lower_borrow. A host resource's rep is any Go value; a
// guest resource's rep is its uint32. A borrow of a guest resource is taken
// to go back to the instance that implements it (the instance owning the
// table), which receives the rep itself.
func lowerHandle(cx *Context, l *layout, v any) (uint32, error) {
	r := l.t.Resource
	if !r.Host {
		rep, ok := v.(uint32)
		if !ok {
			return 0, &ValueError{Kind: l.kind, Value: v, Msg: "a guest resource's rep is a uint32"}
		}
		if l.kind == KindBorrow {
			return rep, nil
		}
	}
	if cx.Handles == nil {
		return 0, trapf("no handle table to lower %s<%s>", l.kind, r.Name)
	}
	if l.kind == KindOwn {
		return cx.Handles.lowerOwn(r, v)
	}
	return cx.Handles.lowerBorrow(cx.Call, r, v)
}

// LowerFlat is lower_flat(cx, v, t): lower v to flat core values.
func LowerFlat(cx *Context, t *Type, v any) ([]uint64, error) {
	l, err := cx.layouts().of(t)
	if err != nil {
		return nil, err
	}
	return lowerFlat(cx, l, v, make([]uint64, 0, len(l.flat)))
}

func lowerFlat(cx *Context, l *layout, v any, out []uint64) ([]uint64, error) {
	switch l.kind {
	case KindBool:
		x, ok := v.(bool)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		if x {
			return append(out, 1), nil
		}
		return append(out, 0), nil
	case KindU8:
		x, ok := v.(uint8)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(x)), nil
	case KindS8: // lower_flat_signed
		x, ok := v.(int8)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(uint32(int32(x)))), nil
	case KindU16:
		x, ok := v.(uint16)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(x)), nil
	case KindS16:
		x, ok := v.(int16)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(uint32(int32(x)))), nil
	case KindU32:
		x, ok := v.(uint32)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(x)), nil
	case KindS32:
		x, ok := v.(int32)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(uint32(x))), nil
	case KindU64:
		x, ok := v.(uint64)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, x), nil
	case KindS64:
		x, ok := v.(int64)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(x)), nil
	case KindF32:
		x, ok := v.(float32)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(encodeF32(x))), nil
	case KindF64:
		x, ok := v.(float64)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, encodeF64(x)), nil
	case KindChar:
		c, err := charToI32(v)
		if err != nil {
			return nil, err
		}
		return append(out, uint64(c)), nil
	case KindString, KindList: // lower_flat_string, lower_flat_list
		p, n, err := lowerRange(cx, l, v)
		if err != nil {
			return nil, err
		}
		return append(out, uint64(p), uint64(n)), nil
	case KindRecord, KindTuple: // lower_flat_record
		vs, err := members(l, v)
		if err != nil {
			return nil, err
		}
		for i, f := range l.fields {
			if out, err = lowerFlat(cx, f, vs[i], out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case KindVariant, KindEnum, KindOption, KindResult: // lower_flat_variant
		c, payload, err := matchCase(l, v)
		if err != nil {
			return nil, err
		}
		out = append(out, uint64(c))
		end := len(out) + len(l.flat) - 1
		if pl := l.caseLayout(c); pl != nil {
			if out, err = lowerFlat(cx, pl, payload, out); err != nil {
				return nil, err
			}
		}
		for len(out) < end {
			out = append(out, 0)
		}
		return out, nil
	case KindFlags: // lower_flat_flags
		x, ok := v.(uint32)
		if !ok {
			return nil, valueErr(l.kind, v)
		}
		return append(out, uint64(x&l.flagMask)), nil
	case KindOwn, KindBorrow:
		i, err := lowerHandle(cx, l, v)
		if err != nil {
			return nil, err
		}
		return append(out, uint64(i)), nil
	}
	return nil, valueErr(l.kind, v)
}
