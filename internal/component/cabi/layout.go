package cabi

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// CoreType is a core WebAssembly value type of a flattened value.
type CoreType uint8

// The core value types used by flattening.
const (
	I32 CoreType = iota + 1
	I64
	F32
	F64
)

func (c CoreType) String() string {
	switch c {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return fmt.Sprintf("CoreType(%d)", uint8(c))
}

var kindNames = [...]string{
	KindBool: "bool", KindS8: "s8", KindU8: "u8", KindS16: "s16", KindU16: "u16",
	KindS32: "s32", KindU32: "u32", KindS64: "s64", KindU64: "u64", KindF32: "f32",
	KindF64: "f64", KindChar: "char", KindString: "string", KindList: "list",
	KindRecord: "record", KindTuple: "tuple", KindVariant: "variant", KindEnum: "enum",
	KindOption: "option", KindResult: "result", KindFlags: "flags", KindOwn: "own",
	KindBorrow: "borrow",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Limits of the canonical ABI (the spec's constants).
const (
	MaxFlatParams        = 16        // MAX_FLAT_PARAMS
	MaxFlatResults       = 1         // MAX_FLAT_RESULTS
	MaxStringByteLength  = 1<<28 - 1 // MAX_STRING_BYTE_LENGTH
	MaxListByteLength    = 1<<28 - 1 // MAX_LIST_BYTE_LENGTH
	maxFlags             = 32
	utf16Tag             = 1 << 31   // utf16_tag for 32-bit memories
	maxHandleTableLength = 1<<28 - 1 // Table.MAX_LENGTH
)

// layout is everything lifting and lowering need to know about a type,
// computed once: elem_size, alignment, flatten_type and, after
// despecialize, the member layouts. tuple → record, enum/option/result →
// variant.
type layout struct {
	t     *Type
	kind  Kind
	size  uint32
	align uint32
	flat  []CoreType
	err   error

	elem *layout // list element

	fields []*layout // record and tuple members
	offs   []uint32  // their offsets

	// Variant-like kinds (variant, enum, option, result).
	ncases uint32
	cases  []*layout // case payloads, nil entries for none; nil for enum
	disc   uint32    // discriminant size: 1, 2 or 4
	payOff uint32    // payload offset

	flagMask uint32 // flags: the bits that have labels

	hasBorrow bool
}

// Layouts memoises type layouts. Types are immutable, so a layout is
// computed once per *Type and then shared; safe for concurrent use.
type Layouts struct {
	types sync.Map // *Type → *layout
	funcs sync.Map // *FuncType → *funcLayout
}

// NewLayouts returns an empty layout cache.
func NewLayouts() *Layouts { return &Layouts{} }

var defaultLayouts Layouts

// Size is elem_size(t): the byte size of t in linear memory; 0 if t is not
// a valid type.
func Size(t *Type) uint32 {
	l, err := defaultLayouts.of(t)
	if err != nil {
		return 0
	}
	return l.size
}

// Align is alignment(t); 0 if t is not a valid type.
func Align(t *Type) uint32 {
	l, err := defaultLayouts.of(t)
	if err != nil {
		return 0
	}
	return l.align
}

// Flatten is flatten_type(t): the core values t flattens to; nil if t is
// not a valid type.
func Flatten(t *Type) []CoreType {
	l, err := defaultLayouts.of(t)
	if err != nil {
		return nil
	}
	return slices.Clone(l.flat)
}

// ValidateType reports why t is not a valid component value type (nil
// members, empty records, variants or flags, more than 32 flags, a cycle).
func ValidateType(t *Type) error {
	_, err := defaultLayouts.of(t)
	return err
}

func (ls *Layouts) of(t *Type) (*layout, error) {
	if v, ok := ls.types.Load(t); ok {
		l := v.(*layout)
		return l, l.err
	}
	l := ls.compute(t, nil)
	return l, l.err
}

var errNilType = errors.New("cabi: nil type")

func (ls *Layouts) compute(t *Type, visiting map[*Type]bool) *layout {
	if t == nil {
		return &layout{err: errNilType}
	}
	if v, ok := ls.types.Load(t); ok {
		return v.(*layout)
	}
	if visiting[t] {
		return &layout{t: t, err: fmt.Errorf("cabi: recursive type %s %q", t.Kind, t.Name)}
	}
	if visiting == nil {
		visiting = map[*Type]bool{}
	}
	visiting[t] = true
	l := ls.build(t, visiting)
	delete(visiting, t)
	if l.err == nil && l.size == 0 {
		l.err = fmt.Errorf("cabi: %s has size 0", t.Kind)
	}
	v, _ := ls.types.LoadOrStore(t, l)
	return v.(*layout)
}

func prim(t *Type, size uint32, flat ...CoreType) *layout {
	return &layout{t: t, kind: t.Kind, size: size, align: size, flat: flat}
}

func badType(t *Type, format string, args ...any) *layout {
	return &layout{t: t, kind: t.Kind, err: fmt.Errorf("cabi: invalid %s type %q: %s", t.Kind, t.Name, fmt.Sprintf(format, args...))}
}

func (ls *Layouts) child(t *Type, visiting map[*Type]bool) (*layout, error) {
	c := ls.compute(t, visiting)
	return c, c.err
}

func (ls *Layouts) build(t *Type, visiting map[*Type]bool) *layout {
	switch t.Kind {
	case KindBool, KindS8, KindU8:
		return prim(t, 1, I32)
	case KindS16, KindU16:
		return prim(t, 2, I32)
	case KindS32, KindU32, KindChar:
		return prim(t, 4, I32)
	case KindS64, KindU64:
		return prim(t, 8, I64)
	case KindF32:
		return prim(t, 4, F32)
	case KindF64:
		return prim(t, 8, F64)
	case KindString:
		return &layout{t: t, kind: t.Kind, size: 8, align: 4, flat: []CoreType{I32, I32}}
	case KindOwn, KindBorrow:
		if t.Resource == nil {
			return badType(t, "no resource")
		}
		l := prim(t, 4, I32)
		l.hasBorrow = t.Kind == KindBorrow
		return l
	case KindFlags:
		n := len(t.Labels)
		if n == 0 || n > maxFlags {
			return badType(t, "%d labels (want 1..%d)", n, maxFlags)
		}
		l := prim(t, flagsSize(n), I32)
		l.flagMask = uint32(1<<n - 1)
		return l
	case KindList:
		elem, err := ls.child(t.Elem, visiting)
		if err != nil {
			return &layout{t: t, err: err}
		}
		return &layout{t: t, kind: t.Kind, size: 8, align: 4, flat: []CoreType{I32, I32}, elem: elem, hasBorrow: elem.hasBorrow}
	case KindRecord:
		ts := make([]*Type, len(t.Fields))
		for i, f := range t.Fields {
			ts[i] = f.Type
		}
		return ls.record(t, ts, visiting)
	case KindTuple:
		return ls.record(t, t.Types, visiting)
	case KindVariant:
		if len(t.Cases) == 0 {
			return badType(t, "no cases")
		}
		ts := make([]*Type, len(t.Cases))
		for i, c := range t.Cases {
			ts[i] = c.Type
		}
		return ls.variant(t, ts, visiting)
	case KindEnum:
		if len(t.Labels) == 0 {
			return badType(t, "no labels")
		}
		if uint64(len(t.Labels)) >= 1<<32 {
			return badType(t, "too many labels")
		}
		l := ls.variant(t, nil, visiting)
		l.ncases = uint32(len(t.Labels))
		l.disc = discriminantSize(l.ncases)
		l.size, l.align, l.payOff = l.disc, l.disc, l.disc
		l.flat = []CoreType{I32}
		return l
	case KindOption:
		if t.Elem == nil {
			return badType(t, "no element type")
		}
		return ls.variant(t, []*Type{nil, t.Elem}, visiting)
	case KindResult:
		return ls.variant(t, []*Type{t.Ok, t.Err}, visiting)
	}
	return badType(t, "unknown kind")
}

func flagsSize(n int) uint32 {
	switch {
	case n <= 8:
		return 1
	case n <= 16:
		return 2
	}
	return 4
}

// discriminant_type
func discriminantSize(n uint32) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func alignTo(p, a uint64) uint64 { return (p + a - 1) / a * a }

// elem_size_record, alignment_record, flatten_record
func (ls *Layouts) record(t *Type, ts []*Type, visiting map[*Type]bool) *layout {
	if len(ts) == 0 {
		return badType(t, "no fields")
	}
	l := &layout{t: t, kind: t.Kind, align: 1, fields: make([]*layout, len(ts)), offs: make([]uint32, len(ts))}
	var s uint64
	for i, ft := range ts {
		f, err := ls.child(ft, visiting)
		if err != nil {
			return &layout{t: t, kind: t.Kind, err: err}
		}
		s = alignTo(s, uint64(f.align))
		if s > 1<<32-1 {
			return badType(t, "too large")
		}
		l.offs[i] = uint32(s)
		s += uint64(f.size)
		l.align = max(l.align, f.align)
		l.fields[i] = f
		l.flat = append(l.flat, f.flat...)
		l.hasBorrow = l.hasBorrow || f.hasBorrow
	}
	s = alignTo(s, uint64(l.align))
	if s > 1<<32-1 {
		return badType(t, "too large")
	}
	l.size = uint32(s)
	return l
}

// elem_size_variant, alignment_variant, flatten_variant (with join)
func (ls *Layouts) variant(t *Type, ts []*Type, visiting map[*Type]bool) *layout {
	l := &layout{t: t, kind: t.Kind}
	if ts == nil {
		return l
	}
	if uint64(len(ts)) >= 1<<32 {
		return badType(t, "too many cases")
	}
	l.ncases = uint32(len(ts))
	l.disc = discriminantSize(l.ncases)
	l.cases = make([]*layout, len(ts))
	var caseAlign, caseSize uint32 = 1, 0
	var joined []CoreType
	for i, ct := range ts {
		if ct == nil {
			continue
		}
		c, err := ls.child(ct, visiting)
		if err != nil {
			return &layout{t: t, kind: t.Kind, err: err}
		}
		l.cases[i] = c
		caseAlign = max(caseAlign, c.align)
		caseSize = max(caseSize, c.size)
		l.hasBorrow = l.hasBorrow || c.hasBorrow
		for j, f := range c.flat {
			if j < len(joined) {
				joined[j] = join(joined[j], f)
			} else {
				joined = append(joined, f)
			}
		}
	}
	l.align = max(l.disc, caseAlign)
	off := alignTo(uint64(l.disc), uint64(caseAlign))
	l.payOff = uint32(off)
	s := alignTo(off+uint64(caseSize), uint64(l.align))
	if s > 1<<32-1 {
		return badType(t, "too large")
	}
	l.size = uint32(s)
	l.flat = append([]CoreType{I32}, joined...)
	return l
}

// join
func join(a, b CoreType) CoreType {
	if a == b {
		return a
	}
	if (a == I32 && b == F32) || (a == F32 && b == I32) {
		return I32
	}
	return I64
}

// caseLayout returns the payload layout of case i (nil: no payload).
func (l *layout) caseLayout(i uint32) *layout {
	if l.cases == nil {
		return nil
	}
	return l.cases[i]
}
