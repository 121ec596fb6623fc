package binary

import (
	"bytes"
	"errors"
	"fmt"
)

// CoreImport is one import of a core module.
type CoreImport struct {
	Module, Name string
	Type         CoreExternType
	// Func is the resolved signature when Type.Kind is CoreExternFunc (nil if
	// the type index names a non-func GC type).
	Func *CoreFuncType

	desc [2]int // byte range of the import descriptor in the module
}

// CoreExport is one export of a core module.
type CoreExport struct {
	Name  string
	Kind  CoreExternKind
	Index uint32 // in the module's index space of Kind
	// Type describes the exported item (for funcs: Type.TypeIndex and Func).
	Type CoreExternType
	Func *CoreFuncType
}

// CoreImports lists a core module's imports in order.
func CoreImports(module []byte) ([]CoreImport, error) {
	m, err := parseCoreModule(module)
	if err != nil {
		return nil, err
	}
	return m.imports, nil
}

// CoreExports lists a core module's exports in order, with their types.
func CoreExports(module []byte) ([]CoreExport, error) {
	m, err := parseCoreModule(module)
	if err != nil {
		return nil, err
	}
	return m.exports, nil
}

// RewriteImports returns a copy of module whose import section names are
// replaced by rename(i, imp) for the i'th import. Import descriptors and all
// other sections are copied byte for byte, so function indices, code and
// custom sections are unchanged.
func RewriteImports(module []byte, rename func(i int, imp CoreImport) (module, name string)) ([]byte, error) {
	m, err := parseCoreModule(module)
	if err != nil {
		return nil, err
	}
	if m.importSection[1] == 0 {
		return bytes.Clone(module), nil
	}
	var sec []byte
	sec = appendU32(sec, uint32(len(m.imports)))
	for i, imp := range m.imports {
		mod, name := rename(i, imp)
		sec = appendName(sec, mod)
		sec = appendName(sec, name)
		sec = append(sec, module[imp.desc[0]:imp.desc[1]]...)
	}
	hdr, end := m.importSection[0], m.importSection[1]
	out := make([]byte, 0, len(module)+len(sec))
	out = append(out, module[:hdr]...)
	out = append(out, 0x02)
	out = appendU32(out, uint32(len(sec)))
	out = append(out, sec...)
	out = append(out, module[end:]...)
	return out, nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// coreModule is what the helpers need from a module's leading sections.
type coreModule struct {
	types         []*CoreFuncType // nil entries for struct/array types
	imports       []CoreImport
	exports       []CoreExport
	funcs         []uint32 // type index per func index
	tables        []TableType
	memories      []Limits
	globals       []GlobalType
	tags          []uint32
	importSection [2]int // [header offset, end offset] of section 2, if any
}

// parseCoreModule reads the type, import, function, table, memory, tag,
// global and export sections; it stops at the first section after exports
// that it does not need (start, element, code, data), skipping customs.
func parseCoreModule(b []byte) (*coreModule, error) {
	m := &coreModule{}
	if err := m.parse(b); err != nil {
		return nil, fmt.Errorf("core module: %w", err)
	}
	return m, nil
}

func (m *coreModule) parse(b []byte) error {
	if len(b) < 8 || !bytes.Equal(b[:4], magic) || !bytes.Equal(b[4:8], coreVersion) {
		return errors.New("bad preamble, not a core wasm module")
	}
	r := newReader(b, 0)
	r.pos = 8
	for !r.eof() {
		hdr := r.pos
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		payload, err := r.bytes(int(size))
		if err != nil {
			return fmt.Errorf("section %d at offset 0x%x: %w", id, hdr, err)
		}
		sr := newReader(payload, hdr+(r.pos-hdr)-int(size))
		switch id {
		case 0, 12: // custom, data count
			continue
		case 8, 9, 10, 11:
			return nil // start, element, code, data: nothing more we need
		case 2:
			m.importSection = [2]int{hdr, r.pos}
		}
		if err := m.section(id, sr, b); err != nil {
			return fmt.Errorf("section %d at offset 0x%x: %w", id, errOffset(err, sr.base), err)
		}
		if !sr.eof() {
			return fmt.Errorf("section %d at offset 0x%x: %d trailing bytes", id, sr.abs(), sr.remaining())
		}
	}
	return nil
}

func (m *coreModule) funcType(idx uint32) (*CoreFuncType, error) {
	if uint64(idx) >= uint64(len(m.types)) {
		return nil, fmt.Errorf("type index %d out of range (%d types)", idx, len(m.types))
	}
	return m.types[idx], nil
}

func (m *coreModule) section(id byte, r *reader, module []byte) error {
	n, err := r.count("entry", 1)
	if err != nil {
		return err
	}
	for i := range n {
		if err := m.entry(id, r, module); err != nil {
			return &posError{off: errOffset(err, r.abs()), err: fmt.Errorf("entry %d: %w", i, err)}
		}
	}
	return nil
}

func (m *coreModule) entry(id byte, r *reader, module []byte) error {
	switch id {
	case 1:
		return m.recType(r)
	case 2:
		var imp CoreImport
		var err error
		if imp.Module, err = r.name(); err != nil {
			return err
		}
		if imp.Name, err = r.name(); err != nil {
			return err
		}
		imp.desc[0] = r.abs()
		if imp.Type, err = coreExternType(r); err != nil {
			return err
		}
		imp.desc[1] = r.abs()
		switch imp.Type.Kind {
		case CoreExternFunc:
			if imp.Func, err = m.funcType(imp.Type.TypeIndex); err != nil {
				return err
			}
			m.funcs = append(m.funcs, imp.Type.TypeIndex)
		case CoreExternTable:
			m.tables = append(m.tables, imp.Type.Table)
		case CoreExternMemory:
			m.memories = append(m.memories, imp.Type.Memory)
		case CoreExternGlobal:
			m.globals = append(m.globals, imp.Type.Global)
		case CoreExternTag:
			m.tags = append(m.tags, imp.Type.TypeIndex)
		}
		m.imports = append(m.imports, imp)
	case 3:
		t, err := r.u32()
		if err != nil {
			return err
		}
		if _, err := m.funcType(t); err != nil {
			return err
		}
		m.funcs = append(m.funcs, t)
	case 4:
		init := false
		if c, err := r.peek(); err != nil {
			return err
		} else if c == 0x40 {
			r.pos++
			if z, err := r.byte(); err != nil || z != 0 {
				return errors.New("invalid table with initializer")
			}
			init = true
		}
		var t TableType
		var err error
		if t.Elem, err = coreValType(r); err != nil {
			return err
		}
		if t.Limits, err = limits(r, false); err != nil {
			return err
		}
		if init {
			if err := skipConstExpr(r); err != nil {
				return err
			}
		}
		m.tables = append(m.tables, t)
	case 5:
		l, err := limits(r, true)
		if err != nil {
			return err
		}
		m.memories = append(m.memories, l)
	case 6:
		var g GlobalType
		var err error
		if g.Type, err = coreValType(r); err != nil {
			return err
		}
		mut, err := r.byte()
		if err != nil {
			return err
		}
		if mut > 1 {
			return fmt.Errorf("invalid global mutability 0x%02x", mut)
		}
		g.Mutable = mut == 1
		if err := skipConstExpr(r); err != nil {
			return err
		}
		m.globals = append(m.globals, g)
	case 13:
		if a, err := r.byte(); err != nil || a != 0 {
			return errors.New("invalid tag")
		}
		t, err := r.u32()
		if err != nil {
			return err
		}
		m.tags = append(m.tags, t)
	case 7:
		return m.export(r)
	default:
		return fmt.Errorf("unknown section id %d", id)
	}
	return nil
}

func (m *coreModule) export(r *reader) error {
	var e CoreExport
	var err error
	if e.Name, err = r.name(); err != nil {
		return err
	}
	k, err := r.byte()
	if err != nil {
		return err
	}
	e.Kind = CoreExternKind(k)
	if e.Index, err = r.u32(); err != nil {
		return err
	}
	e.Type.Kind = e.Kind
	var n int
	switch e.Kind {
	case CoreExternFunc:
		if n = len(m.funcs); int64(e.Index) < int64(n) {
			e.Type.TypeIndex = m.funcs[e.Index]
			e.Func = m.types[e.Type.TypeIndex]
		}
	case CoreExternTable:
		if n = len(m.tables); int64(e.Index) < int64(n) {
			e.Type.Table = m.tables[e.Index]
		}
	case CoreExternMemory:
		if n = len(m.memories); int64(e.Index) < int64(n) {
			e.Type.Memory = m.memories[e.Index]
		}
	case CoreExternGlobal:
		if n = len(m.globals); int64(e.Index) < int64(n) {
			e.Type.Global = m.globals[e.Index]
		}
	case CoreExternTag:
		if n = len(m.tags); int64(e.Index) < int64(n) {
			e.Type.TypeIndex = m.tags[e.Index]
		}
	default:
		return fmt.Errorf("export %q: unknown kind 0x%02x", e.Name, k)
	}
	if int64(e.Index) >= int64(n) {
		return fmt.Errorf("export %q: %s index %d out of range (%d)", e.Name, e.Kind, e.Index, n)
	}
	m.exports = append(m.exports, e)
	return nil
}

// recType reads one rectype and appends one types entry per subtype, so that
// type indices stay right in modules that use GC rec groups.
func (m *coreModule) recType(r *reader) error {
	c, err := r.peek()
	if err != nil {
		return err
	}
	n := 1
	if c == 0x4e {
		r.pos++
		if n, err = r.count("rec group member", 1); err != nil {
			return err
		}
	}
	for range n {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c == 0x50 || c == 0x4f { // sub / sub final: supertypes then comptype
			k, err := r.count("supertype", 1)
			if err != nil {
				return err
			}
			for range k {
				if _, err := r.u32(); err != nil {
					return err
				}
			}
			if c, err = r.byte(); err != nil {
				return err
			}
		}
		switch c {
		case 0x60:
			ft, err := coreFuncTypeBody(r)
			if err != nil {
				return err
			}
			m.types = append(m.types, ft)
		case 0x5f, 0x5e:
			k := 1
			if c == 0x5f {
				if k, err = r.count("field", 2); err != nil {
					return err
				}
			}
			for range k {
				if s, err := r.peek(); err != nil {
					return err
				} else if s == 0x78 || s == 0x77 { // packed i8/i16
					r.pos++
				} else if _, err := coreValType(r); err != nil {
					return err
				}
				if mut, err := r.byte(); err != nil {
					return err
				} else if mut > 1 {
					return fmt.Errorf("invalid field mutability 0x%02x", mut)
				}
			}
			m.types = append(m.types, nil)
		default:
			return fmt.Errorf("unknown core composite type 0x%02x", c)
		}
	}
	return nil
}

// skipConstExpr skips a constant expression up to and including its end
// opcode. Only the instructions valid in constant expressions are known.
func skipConstExpr(r *reader) error {
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		switch op {
		case 0x0b:
			return nil
		case 0x41:
			_, err = r.sleb(5)
		case 0x42:
			_, err = r.sleb(10)
		case 0x43:
			_, err = r.bytes(4)
		case 0x44:
			_, err = r.bytes(8)
		case 0x23, 0xd2:
			_, err = r.u32()
		case 0xd0:
			_, err = r.sleb(5)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e:
		case 0xfd:
			var sub uint32
			if sub, err = r.u32(); err == nil {
				if sub != 12 {
					return fmt.Errorf("non-constant instruction 0xfd %d in constant expression", sub)
				}
				_, err = r.bytes(16)
			}
		case 0xfb:
			var sub uint32
			if sub, err = r.u32(); err != nil {
				return err
			}
			switch sub {
			case 0, 1, 6, 7: // struct.new(_default), array.new(_default)
				_, err = r.u32()
			case 8: // array.new_fixed
				if _, err = r.u32(); err == nil {
					_, err = r.u32()
				}
			case 0x1a, 0x1b, 0x1c:
			default:
				return fmt.Errorf("non-constant instruction 0xfb %d in constant expression", sub)
			}
		default:
			return fmt.Errorf("non-constant instruction 0x%02x in constant expression", op)
		}
		if err != nil {
			return err
		}
	}
}
