package binary

import "fmt"

// Core value type opcodes (core spec, plus the GC/exception reference forms
// that are cheap to carry along).
const (
	CoreI32       byte = 0x7f
	CoreI64       byte = 0x7e
	CoreF32       byte = 0x7d
	CoreF64       byte = 0x7c
	CoreV128      byte = 0x7b
	CoreFuncRef   byte = 0x70
	CoreExternRef byte = 0x6f
	CoreRefNull   byte = 0x63 // (ref null ht)
	CoreRef       byte = 0x64 // (ref ht)
)

var coreValNames = map[byte]string{
	0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128",
	0x70: "funcref", 0x6f: "externref", 0x6e: "anyref", 0x6d: "eqref", 0x6c: "i31ref",
	0x6b: "structref", 0x6a: "arrayref", 0x69: "exnref", 0x71: "nullref",
	0x72: "nullexternref", 0x73: "nullfuncref", 0x74: "nullexnref",
}

// CoreValType is a core value type. For CoreRef/CoreRefNull, Heap holds the
// s33 heap type: a type index if >= 0, else an abstract heap type opcode as
// a negative number.
type CoreValType struct {
	Code byte
	Heap int64
}

func (t CoreValType) String() string {
	switch t.Code {
	case CoreRef, CoreRefNull:
		null := ""
		if t.Code == CoreRefNull {
			null = "null "
		}
		if t.Heap >= 0 {
			return fmt.Sprintf("(ref %s%d)", null, t.Heap)
		}
		return fmt.Sprintf("(ref %sheap(0x%02x))", null, byte(t.Heap&0x7f))
	}
	if s, ok := coreValNames[t.Code]; ok {
		return s
	}
	return fmt.Sprintf("valtype(0x%02x)", t.Code)
}

func coreValType(r *reader) (CoreValType, error) {
	c, err := r.byte()
	if err != nil {
		return CoreValType{}, err
	}
	if c == CoreRef || c == CoreRefNull {
		h, err := r.sleb(5)
		if err != nil {
			return CoreValType{}, err
		}
		return CoreValType{Code: c, Heap: h}, nil
	}
	if _, ok := coreValNames[c]; !ok {
		return CoreValType{}, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown core value type 0x%02x", c)}
	}
	return CoreValType{Code: c}, nil
}

// CoreFuncType is a core function type.
type CoreFuncType struct {
	Params, Results []CoreValType
}

func (f *CoreFuncType) String() string {
	return fmt.Sprintf("(func (param %v) (result %v))", f.Params, f.Results)
}

func coreFuncTypeBody(r *reader) (*CoreFuncType, error) {
	ft := &CoreFuncType{}
	for i := range 2 {
		n, err := r.count("core value type", 1)
		if err != nil {
			return nil, err
		}
		ts := make([]CoreValType, 0, n)
		for range n {
			t, err := coreValType(r)
			if err != nil {
				return nil, err
			}
			ts = append(ts, t)
		}
		if i == 0 {
			ft.Params = ts
		} else {
			ft.Results = ts
		}
	}
	return ft, nil
}

// CoreType is an entry of a component's core type section (or a type
// declarator inside a module type): a core func type or a module type.
type CoreType struct {
	Offset int
	Func   *CoreFuncType
	Module *ModuleType
}

// ModuleType is "(module decl*)": the imports and exports a core module
// definition must have.
type ModuleType struct{ Decls []ModuleDecl }

// ModuleDeclKind discriminates ModuleDecl.
type ModuleDeclKind uint8

const (
	ModuleDeclImport ModuleDeclKind = iota
	ModuleDeclType
	ModuleDeclAlias // outer alias of a core type
	ModuleDeclExport
)

// ModuleDecl is one declarator of a module type.
type ModuleDecl struct {
	Kind         ModuleDeclKind
	Module, Name string         // import: module and field; export: Name only
	Desc         CoreExternType // import, export
	Type         *CoreType      // type
	Count, Index uint32         // outer alias
}

// CoreExternKind is a core import/export kind (core:externtype opcode).
type CoreExternKind byte

const (
	CoreExternFunc   CoreExternKind = 0x00
	CoreExternTable  CoreExternKind = 0x01
	CoreExternMemory CoreExternKind = 0x02
	CoreExternGlobal CoreExternKind = 0x03
	CoreExternTag    CoreExternKind = 0x04
)

func (k CoreExternKind) String() string {
	switch k {
	case CoreExternFunc:
		return "func"
	case CoreExternTable:
		return "table"
	case CoreExternMemory:
		return "memory"
	case CoreExternGlobal:
		return "global"
	case CoreExternTag:
		return "tag"
	}
	return fmt.Sprintf("kind(0x%02x)", byte(k))
}

// Sort maps a core extern kind to its index space.
func (k CoreExternKind) Sort() Sort {
	switch k {
	case CoreExternTable:
		return SortCoreTable
	case CoreExternMemory:
		return SortCoreMemory
	case CoreExternGlobal:
		return SortCoreGlobal
	case CoreExternTag:
		return SortCoreTag
	}
	return SortCoreFunc
}

// Limits are table/memory limits.
type Limits struct {
	Min    uint64
	HasMax bool
	Max    uint64
	Shared bool
	Is64   bool
	// PageSizeLog2 is set by the custom-page-sizes proposal (flag 0x08).
	PageSizeLog2 *uint32
}

// TableType is a core table type.
type TableType struct {
	Elem CoreValType
	Limits
}

// GlobalType is a core global type.
type GlobalType struct {
	Type    CoreValType
	Mutable bool
}

// CoreExternType is a core import/export descriptor.
type CoreExternType struct {
	Kind      CoreExternKind
	TypeIndex uint32 // func, tag: core type index
	Table     TableType
	Memory    Limits
	Global    GlobalType
}

func (t CoreExternType) String() string {
	switch t.Kind {
	case CoreExternFunc, CoreExternTag:
		return fmt.Sprintf("%s (type %d)", t.Kind, t.TypeIndex)
	case CoreExternTable:
		return fmt.Sprintf("table %s %s", t.Table.Limits, t.Table.Elem)
	case CoreExternMemory:
		return "memory " + t.Memory.String()
	case CoreExternGlobal:
		if t.Global.Mutable {
			return fmt.Sprintf("global (mut %s)", t.Global.Type)
		}
		return "global " + t.Global.Type.String()
	}
	return t.Kind.String()
}

func (l Limits) String() string {
	s := fmt.Sprint(l.Min)
	if l.HasMax {
		s += fmt.Sprintf(" %d", l.Max)
	}
	if l.Is64 {
		s = "i64 " + s
	}
	if l.Shared {
		s += " shared"
	}
	return s
}

func limits(r *reader, memory bool) (Limits, error) {
	flags, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	allowed := byte(0x05) // max, 64-bit
	if memory {
		allowed = 0x0f // + shared, custom page size
	}
	if flags&^allowed != 0 {
		return Limits{}, &posError{off: r.abs() - 1, err: fmt.Errorf("invalid limits flags 0x%02x", flags)}
	}
	l := Limits{HasMax: flags&0x01 != 0, Shared: flags&0x02 != 0, Is64: flags&0x04 != 0}
	read := func() (uint64, error) {
		if l.Is64 {
			return r.u64()
		}
		v, err := r.u32()
		return uint64(v), err
	}
	if l.Min, err = read(); err != nil {
		return l, err
	}
	if l.HasMax {
		if l.Max, err = read(); err != nil {
			return l, err
		}
	}
	if flags&0x08 != 0 {
		p, err := r.u32()
		if err != nil {
			return l, err
		}
		l.PageSizeLog2 = &p
	}
	return l, nil
}

// coreExternType reads a core:externtype (import descriptor).
func coreExternType(r *reader) (CoreExternType, error) {
	c, err := r.byte()
	if err != nil {
		return CoreExternType{}, err
	}
	t := CoreExternType{Kind: CoreExternKind(c)}
	switch t.Kind {
	case CoreExternFunc:
		t.TypeIndex, err = r.u32()
	case CoreExternTable:
		if t.Table.Elem, err = coreValType(r); err != nil {
			return t, err
		}
		t.Table.Limits, err = limits(r, false)
	case CoreExternMemory:
		t.Memory, err = limits(r, true)
	case CoreExternGlobal:
		if t.Global.Type, err = coreValType(r); err != nil {
			return t, err
		}
		var m byte
		if m, err = r.byte(); err == nil {
			if m > 1 {
				return t, &posError{off: r.abs() - 1, err: fmt.Errorf("invalid global mutability 0x%02x", m)}
			}
			t.Global.Mutable = m == 1
		}
	case CoreExternTag:
		var a byte
		if a, err = r.byte(); err != nil {
			return t, err
		}
		if a != 0 {
			return t, &posError{off: r.abs() - 1, err: fmt.Errorf("invalid tag attribute 0x%02x", a)}
		}
		t.TypeIndex, err = r.u32()
	default:
		return t, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown core extern kind 0x%02x", c)}
	}
	return t, err
}

// coreType reads a core:type in a component (or module type) context.
func (d *decoder) coreType(r *reader, sc *scope) (CoreType, error) {
	ct := CoreType{Offset: r.abs()}
	c, err := r.byte()
	if err != nil {
		return ct, err
	}
	switch c {
	case 0x60:
		ct.Func, err = coreFuncTypeBody(r)
		return ct, err
	case 0x50:
		if sc.inModuleType {
			return ct, &posError{off: r.abs() - 1, err: fmt.Errorf("module type nested in a module type")}
		}
		ct.Module, err = d.moduleType(r, sc)
		return ct, err
	}
	return ct, &posError{off: r.abs() - 1, err: fmt.Errorf("unsupported core type 0x%02x (only func and module types)", c)}
}

func (d *decoder) moduleType(r *reader, sc *scope) (*ModuleType, error) {
	if d.depth >= maxDepth {
		return nil, r.errorf("types nested more than %d deep", maxDepth)
	}
	d.depth++
	defer func() { d.depth-- }()

	inner := &scope{parent: sc, inModuleType: true}
	n, err := r.count("module declarator", 2)
	if err != nil {
		return nil, err
	}
	mt := &ModuleType{Decls: make([]ModuleDecl, 0, n)}
	checkDesc := func(t CoreExternType) error {
		if t.Kind == CoreExternFunc || t.Kind == CoreExternTag {
			return inner.check(r, SortCoreType, t.TypeIndex, "core type")
		}
		return nil
	}
	for range n {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		var md ModuleDecl
		switch c {
		case 0x00:
			md.Kind = ModuleDeclImport
			if md.Module, err = r.name(); err != nil {
				return nil, err
			}
			if md.Name, err = r.name(); err != nil {
				return nil, err
			}
			if md.Desc, err = coreExternType(r); err != nil {
				return nil, err
			}
			if err := checkDesc(md.Desc); err != nil {
				return nil, err
			}
		case 0x01:
			md.Kind = ModuleDeclType
			t, err := d.coreType(r, inner)
			if err != nil {
				return nil, err
			}
			md.Type = &t
			inner.add(SortCoreType)
		case 0x02:
			md.Kind = ModuleDeclAlias
			s, err := r.byte()
			if err != nil {
				return nil, err
			}
			k, err := r.byte()
			if err != nil {
				return nil, err
			}
			if s != 0x10 || k != 0x01 {
				return nil, r.errorf("unsupported module type alias 0x%02x 0x%02x (only outer core type)", s, k)
			}
			if md.Count, err = r.u32(); err != nil {
				return nil, err
			}
			if md.Index, err = r.u32(); err != nil {
				return nil, err
			}
			if err := inner.checkOuter(r, md.Count, SortCoreType, md.Index); err != nil {
				return nil, err
			}
			inner.add(SortCoreType)
		case 0x03:
			md.Kind = ModuleDeclExport
			if md.Name, err = r.name(); err != nil {
				return nil, err
			}
			if md.Desc, err = coreExternType(r); err != nil {
				return nil, err
			}
			if err := checkDesc(md.Desc); err != nil {
				return nil, err
			}
		default:
			return nil, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown module type declarator 0x%02x", c)}
		}
		mt.Decls = append(mt.Decls, md)
	}
	return mt, nil
}
