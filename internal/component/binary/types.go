package binary

import "fmt"

// PrimType is a primitive value type, encoded by its Binary.md opcode.
// The zero value means "not primitive" (a type index).
type PrimType byte

const (
	PrimBool         PrimType = 0x7f
	PrimS8           PrimType = 0x7e
	PrimU8           PrimType = 0x7d
	PrimS16          PrimType = 0x7c
	PrimU16          PrimType = 0x7b
	PrimS32          PrimType = 0x7a
	PrimU32          PrimType = 0x79
	PrimS64          PrimType = 0x78
	PrimU64          PrimType = 0x77
	PrimF32          PrimType = 0x76
	PrimF64          PrimType = 0x75
	PrimChar         PrimType = 0x74
	PrimString       PrimType = 0x73
	PrimErrorContext PrimType = 0x64 // 📝, accepted because it costs nothing
)

var primNames = map[PrimType]string{
	PrimBool: "bool", PrimS8: "s8", PrimU8: "u8", PrimS16: "s16", PrimU16: "u16",
	PrimS32: "s32", PrimU32: "u32", PrimS64: "s64", PrimU64: "u64", PrimF32: "f32",
	PrimF64: "f64", PrimChar: "char", PrimString: "string", PrimErrorContext: "error-context",
}

func (p PrimType) String() string {
	if s, ok := primNames[p]; ok {
		return s
	}
	return fmt.Sprintf("prim(0x%02x)", byte(p))
}

// ValType is a value type use: a primitive, or (Prim == 0) a type index.
type ValType struct {
	Prim  PrimType
	Index uint32
}

func (v ValType) String() string {
	if v.Prim != 0 {
		return v.Prim.String()
	}
	return fmt.Sprintf("(type %d)", v.Index)
}

// TypeDef is one of *DefValType, *FuncType, *ComponentType, *InstanceType,
// *ResourceType. The interface is sealed; switch on the concrete type.
type TypeDef interface{ typeDef() }

func (*DefValType) typeDef()    {}
func (*FuncType) typeDef()      {}
func (*ComponentType) typeDef() {}
func (*InstanceType) typeDef()  {}
func (*ResourceType) typeDef()  {}

// Type is one entry of a type section.
type Type struct {
	Offset int
	Def    TypeDef
}

// DefValKind discriminates DefValType.
type DefValKind uint8

const (
	DefPrim DefValKind = iota
	DefRecord
	DefVariant
	DefList
	DefFixedList // 🔧 (list t len)
	DefTuple
	DefFlags
	DefEnum
	DefOption
	DefResult
	DefOwn
	DefBorrow
	DefStream // 🔀
	DefFuture // 🔀
	DefMap    // 🗺️
)

var defValNames = [...]string{"prim", "record", "variant", "list", "fixed-list", "tuple", "flags",
	"enum", "option", "result", "own", "borrow", "stream", "future", "map"}

func (k DefValKind) String() string {
	if int(k) < len(defValNames) {
		return defValNames[k]
	}
	return "unknown"
}

// DefValType is a defined value type. Which fields are set depends on Kind:
//
//	DefPrim: Prim              DefRecord: Fields         DefVariant: Cases
//	DefList, DefOption: Elem   DefFixedList: Elem, Len   DefTuple: Types
//	DefFlags, DefEnum: Labels  DefResult: Ok, Err (nil = absent)
//	DefOwn, DefBorrow: Resource (a type index)
//	DefStream, DefFuture: Ok (payload, nil = none)       DefMap: Key, Elem
type DefValType struct {
	Kind     DefValKind
	Prim     PrimType
	Fields   []Field
	Cases    []Case
	Elem     ValType
	Key      ValType
	Len      uint32
	Types    []ValType
	Labels   []string
	Ok, Err  *ValType
	Resource uint32
}

// Field is a named record field or function parameter.
type Field struct {
	Name string
	Type ValType
}

// Case is a variant case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *ValType
}

// FuncType is a component function type.
type FuncType struct {
	Async  bool // 0x43 (🔀)
	Params []Field
	// Result is the single unnamed result, or nil.
	Result *ValType
	// NamedResults holds the pre-0.2 "(result "name" t)*" form, which older
	// toolchains still emit under the 0x01 discriminator.
	NamedResults []Field
}

// ResourceType is "(resource (rep i32) (dtor f)?)".
type ResourceType struct {
	Rep  CoreValType
	Dtor *uint32 // core func index
}

// ComponentType is "(component decl*)".
type ComponentType struct{ Decls []Decl }

// InstanceType is "(instance decl*)".
type InstanceType struct{ Decls []Decl }

// DeclKind discriminates Decl.
type DeclKind uint8

const (
	DeclCoreType DeclKind = iota
	DeclType
	DeclAlias
	DeclImport // component types only
	DeclExport
)

// Decl is one declarator of a component or instance type. Each declarator
// extends the type's own (initially empty) index spaces, like definitions do
// in a component.
type Decl struct {
	Kind     DeclKind
	CoreType *CoreType  // DeclCoreType
	Type     TypeDef    // DeclType
	Alias    *Alias     // DeclAlias
	Name     ExternName // DeclImport, DeclExport
	Desc     ExternDesc // DeclImport, DeclExport
}

// maxDepth bounds nesting of components and types so that hostile input
// cannot exhaust the goroutine stack.
const maxDepth = 100

func isPrimCode(c byte) bool {
	_, ok := primNames[PrimType(c)]
	return ok
}

// valType reads a valtype: a primitive opcode or a non-negative s33 type index.
func (d *decoder) valType(r *reader, sc *scope) (ValType, error) {
	c, err := r.peek()
	if err != nil {
		return ValType{}, err
	}
	if c >= 0x40 && c < 0x80 { // one-byte negative s33: a type opcode
		r.pos++
		if !isPrimCode(c) {
			return ValType{}, r.errorf("unknown value type 0x%02x", c)
		}
		return ValType{Prim: PrimType(c)}, nil
	}
	v, err := r.sleb(5)
	if err != nil {
		return ValType{}, err
	}
	if v < 0 || v > 0xffffffff {
		return ValType{}, r.errorf("invalid value type index %d", v)
	}
	if err := sc.check(r, SortType, uint32(v), "type"); err != nil {
		return ValType{}, err
	}
	return ValType{Index: uint32(v)}, nil
}

func (d *decoder) optValType(r *reader, sc *scope) (*ValType, error) {
	ok, err := r.optional("value type")
	if err != nil || !ok {
		return nil, err
	}
	t, err := d.valType(r, sc)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// typeDef reads a "deftype" (Binary.md): the first byte tells which.
func (d *decoder) typeDef(r *reader, sc *scope, inDecl bool) (TypeDef, error) {
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x40, 0x43:
		r.pos++
		return d.funcType(r, sc, c == 0x43)
	case 0x41:
		r.pos++
		return d.componentType(r, sc)
	case 0x42:
		r.pos++
		return d.instanceType(r, sc)
	case 0x3f:
		r.pos++
		if inDecl {
			return nil, r.errorf("resource type definitions are not allowed inside component or instance types")
		}
		rep, err := coreValType(r)
		if err != nil {
			return nil, err
		}
		if rep.Code != CoreI32 {
			return nil, r.errorf("resource representation must be i32, got %s", rep)
		}
		rt := &ResourceType{Rep: rep}
		has, err := r.optional("destructor")
		if err != nil {
			return nil, err
		}
		if has {
			f, err := r.u32()
			if err != nil {
				return nil, err
			}
			if err := sc.check(r, SortCoreFunc, f, "destructor core func"); err != nil {
				return nil, err
			}
			rt.Dtor = &f
		}
		return rt, nil
	}
	return d.defValType(r, sc)
}

func (d *decoder) defValType(r *reader, sc *scope) (*DefValType, error) {
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	if isPrimCode(c) {
		return &DefValType{Kind: DefPrim, Prim: PrimType(c)}, nil
	}
	t := &DefValType{}
	switch c {
	case 0x72:
		t.Kind = DefRecord
		n, err := r.count("record field", 2)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, r.errorf("record with no fields")
		}
		t.Fields = make([]Field, 0, n)
		for range n {
			f, err := d.field(r, sc)
			if err != nil {
				return nil, err
			}
			t.Fields = append(t.Fields, f)
		}
	case 0x71:
		t.Kind = DefVariant
		n, err := r.count("variant case", 3)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, r.errorf("variant with no cases")
		}
		t.Cases = make([]Case, 0, n)
		for range n {
			name, err := r.name()
			if err != nil {
				return nil, err
			}
			vt, err := d.optValType(r, sc)
			if err != nil {
				return nil, err
			}
			if z, err := r.byte(); err != nil {
				return nil, err
			} else if z != 0 {
				return nil, r.errorf("variant case %q: unsupported refines 0x%02x", name, z)
			}
			t.Cases = append(t.Cases, Case{Name: name, Type: vt})
		}
	case 0x70, 0x6b:
		t.Kind = DefList
		if c == 0x6b {
			t.Kind = DefOption
		}
		if t.Elem, err = d.valType(r, sc); err != nil {
			return nil, err
		}
	case 0x67:
		t.Kind = DefFixedList
		if t.Elem, err = d.valType(r, sc); err != nil {
			return nil, err
		}
		if t.Len, err = r.u32(); err != nil {
			return nil, err
		}
		if t.Len == 0 {
			return nil, r.errorf("fixed-size list of length 0")
		}
	case 0x6f:
		t.Kind = DefTuple
		n, err := r.count("tuple element", 1)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, r.errorf("tuple with no elements")
		}
		t.Types = make([]ValType, 0, n)
		for range n {
			vt, err := d.valType(r, sc)
			if err != nil {
				return nil, err
			}
			t.Types = append(t.Types, vt)
		}
	case 0x6e, 0x6d:
		t.Kind = DefFlags
		if c == 0x6d {
			t.Kind = DefEnum
		}
		n, err := r.count("label", 1)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, r.errorf("%s with no labels", t.Kind)
		}
		if c == 0x6e && n > 32 {
			return nil, r.errorf("flags with %d labels (at most 32)", n)
		}
		t.Labels = make([]string, 0, n)
		for range n {
			l, err := r.name()
			if err != nil {
				return nil, err
			}
			t.Labels = append(t.Labels, l)
		}
	case 0x6a:
		t.Kind = DefResult
		if t.Ok, err = d.optValType(r, sc); err != nil {
			return nil, err
		}
		if t.Err, err = d.optValType(r, sc); err != nil {
			return nil, err
		}
	case 0x69, 0x68:
		t.Kind = DefOwn
		if c == 0x68 {
			t.Kind = DefBorrow
		}
		if t.Resource, err = r.u32(); err != nil {
			return nil, err
		}
		if err := sc.check(r, SortType, t.Resource, "resource type"); err != nil {
			return nil, err
		}
	case 0x66, 0x65:
		t.Kind = DefStream
		if c == 0x65 {
			t.Kind = DefFuture
		}
		if t.Ok, err = d.optValType(r, sc); err != nil {
			return nil, err
		}
	case 0x63:
		t.Kind = DefMap
		if t.Key, err = d.valType(r, sc); err != nil {
			return nil, err
		}
		if t.Elem, err = d.valType(r, sc); err != nil {
			return nil, err
		}
	default:
		return nil, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown defined type 0x%02x", c)}
	}
	return t, nil
}

func (d *decoder) field(r *reader, sc *scope) (Field, error) {
	name, err := r.name()
	if err != nil {
		return Field{}, err
	}
	vt, err := d.valType(r, sc)
	return Field{Name: name, Type: vt}, err
}

func (d *decoder) funcType(r *reader, sc *scope, async bool) (*FuncType, error) {
	ft := &FuncType{Async: async}
	n, err := r.count("parameter", 2)
	if err != nil {
		return nil, err
	}
	ft.Params = make([]Field, 0, n)
	for range n {
		f, err := d.field(r, sc)
		if err != nil {
			return nil, err
		}
		ft.Params = append(ft.Params, f)
	}
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 0x00:
		vt, err := d.valType(r, sc)
		if err != nil {
			return nil, err
		}
		ft.Result = &vt
	case 0x01:
		// 0x01 0x00 is "no result"; a non-zero count is the legacy named form.
		n, err := r.count("result", 2)
		if err != nil {
			return nil, err
		}
		for range n {
			f, err := d.field(r, sc)
			if err != nil {
				return nil, err
			}
			ft.NamedResults = append(ft.NamedResults, f)
		}
	default:
		return nil, r.errorf("invalid result list discriminator 0x%02x", c)
	}
	return ft, nil
}

func (d *decoder) componentType(r *reader, sc *scope) (*ComponentType, error) {
	decls, err := d.decls(r, sc, true)
	if err != nil {
		return nil, err
	}
	return &ComponentType{Decls: decls}, nil
}

func (d *decoder) instanceType(r *reader, sc *scope) (*InstanceType, error) {
	decls, err := d.decls(r, sc, false)
	if err != nil {
		return nil, err
	}
	return &InstanceType{Decls: decls}, nil
}

// decls reads the declarators of a component type (allowImport) or an
// instance type, in a fresh scope nested in sc.
func (d *decoder) decls(r *reader, sc *scope, allowImport bool) ([]Decl, error) {
	if d.depth >= maxDepth {
		return nil, r.errorf("types nested more than %d deep", maxDepth)
	}
	d.depth++
	defer func() { d.depth-- }()

	inner := &scope{parent: sc}
	n, err := r.count("declarator", 2)
	if err != nil {
		return nil, err
	}
	decls := make([]Decl, 0, n)
	for range n {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		var dl Decl
		switch c {
		case 0x00:
			ct, err := d.coreType(r, inner)
			if err != nil {
				return nil, err
			}
			dl = Decl{Kind: DeclCoreType, CoreType: &ct}
			inner.add(SortCoreType)
		case 0x01:
			td, err := d.typeDef(r, inner, true)
			if err != nil {
				return nil, err
			}
			dl = Decl{Kind: DeclType, Type: td}
			inner.add(SortType)
		case 0x02:
			a, err := d.alias(r, inner)
			if err != nil {
				return nil, err
			}
			switch {
			case a.Kind == AliasInstanceExport && (a.Sort == SortType || a.Sort == SortInstance):
			case a.Kind == AliasOuter && (a.Sort == SortType || a.Sort == SortCoreType):
			default:
				return nil, r.errorf("alias of %s not allowed in a type declarator", a.Sort)
			}
			dl = Decl{Kind: DeclAlias, Alias: &a}
			inner.add(a.Sort)
		case 0x03, 0x04:
			if c == 0x03 && !allowImport {
				return nil, r.errorf("import declarator in an instance type")
			}
			name, err := d.externName(r)
			if err != nil {
				return nil, err
			}
			desc, err := d.externDesc(r, inner)
			if err != nil {
				return nil, err
			}
			dl = Decl{Kind: DeclExport, Name: name, Desc: desc}
			if c == 0x03 {
				dl.Kind = DeclImport
			}
			inner.add(desc.Kind.Sort())
		default:
			return nil, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown declarator 0x%02x", c)}
		}
		decls = append(decls, dl)
	}
	return decls, nil
}

// externDesc reads an externtype.
func (d *decoder) externDesc(r *reader, sc *scope) (ExternDesc, error) {
	c, err := r.byte()
	if err != nil {
		return ExternDesc{}, err
	}
	var ed ExternDesc
	switch c {
	case 0x00:
		ed.Kind = ExternCoreModule
		if z, err := r.byte(); err != nil {
			return ed, err
		} else if z != 0x11 {
			return ed, r.errorf("invalid core module externtype 0x00 0x%02x", z)
		}
		if ed.TypeIndex, err = r.u32(); err != nil {
			return ed, err
		}
		return ed, sc.check(r, SortCoreType, ed.TypeIndex, "core type")
	case 0x01, 0x04, 0x05:
		ed.Kind = map[byte]ExternKind{0x01: ExternFunc, 0x04: ExternComponent, 0x05: ExternInstance}[c]
		if ed.TypeIndex, err = r.u32(); err != nil {
			return ed, err
		}
		return ed, sc.check(r, SortType, ed.TypeIndex, "type")
	case 0x02:
		ed.Kind = ExternValue
		b, err := r.byte()
		if err != nil {
			return ed, err
		}
		switch b {
		case 0x00:
			ed.ValueEq = true
			if ed.ValueIndex, err = r.u32(); err != nil {
				return ed, err
			}
			return ed, sc.check(r, SortValue, ed.ValueIndex, "value")
		case 0x01:
			ed.ValueType, err = d.valType(r, sc)
			return ed, err
		}
		return ed, r.errorf("invalid value bound 0x%02x", b)
	case 0x03:
		ed.Kind = ExternType
		b, err := r.byte()
		if err != nil {
			return ed, err
		}
		switch b {
		case 0x00:
			if ed.TypeIndex, err = r.u32(); err != nil {
				return ed, err
			}
			return ed, sc.check(r, SortType, ed.TypeIndex, "type")
		case 0x01:
			ed.SubResource = true
			return ed, nil
		}
		return ed, r.errorf("invalid type bound 0x%02x", b)
	}
	return ed, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown externtype 0x%02x", c)}
}
