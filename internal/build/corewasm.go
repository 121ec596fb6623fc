package build

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// A minimal reader and rewriter of core Wasm modules: enough to list a
// module's imports and exports and to give a standard-Go module a
// cabi_realloc that works before the Go runtime is initialised (see
// prepareGoModule).

var (
	coreMagic      = []byte("\x00asm\x01\x00\x00\x00")
	componentMagic = []byte("\x00asm\x0d\x00\x01\x00")
)

// Section ids.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secGlobal   = 6
	secExport   = 7
	secCode     = 10
	secData     = 11
)

type section struct {
	id   byte
	body []byte
}

type importEntry struct {
	module, name string
	kind         byte // 0 func, 1 table, 2 memory, 3 global
}

type exportEntry struct {
	name  string
	kind  byte // 0 func
	index uint32
}

// coreModule is a parsed module: its sections in order and what was read
// from them.
type coreModule struct {
	sections      []section
	types         [][2][]byte // params, results (value type bytes)
	imports       []importEntry
	importedFuncs uint32
	importedGlobs uint32
	funcTypes     []uint32 // type index of each defined function
	globalCount   uint32   // defined globals
	exports       []exportEntry
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = errors.New("malformed Wasm module: " + msg)
	}
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u32() uint32 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 0xffffffff {
		r.fail("bad LEB128")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return uint32(v)
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(n) > uint64(len(r.b)) {
		r.fail("unexpected end")
		r.b = nil
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) name() string { return string(r.bytes(r.u32())) }

// skipLimits skips a table or memory type's limits.
func (r *reader) skipLimits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// skipConstExpr skips an initializer expression up to its end opcode.
func (r *reader) skipConstExpr() {
	for r.err == nil {
		switch op := r.byte(); op {
		case 0x0b:
			return
		case 0x41, 0x42: // i32.const, i64.const
			r.s64()
		case 0x23: // global.get
			r.u32()
		case 0x43:
			r.bytes(4)
		case 0x44:
			r.bytes(8)
		default:
			r.fail(fmt.Sprintf("unsupported opcode 0x%x in a constant expression", op))
		}
	}
}

func parseCore(wasm []byte) (*coreModule, error) {
	if !bytes.HasPrefix(wasm, coreMagic) {
		return nil, errors.New("not a core Wasm module")
	}
	m := &coreModule{}
	r := &reader{b: wasm[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		body := r.bytes(r.u32())
		m.sections = append(m.sections, section{id, body})
		s := &reader{b: body}
		switch id {
		case secType:
			for range s.u32() {
				if s.byte() != 0x60 {
					s.fail("bad function type")
				}
				params := s.bytes(s.u32())
				results := s.bytes(s.u32())
				m.types = append(m.types, [2][]byte{params, results})
			}
		case secImport:
			for range s.u32() {
				e := importEntry{module: s.name(), name: s.name(), kind: s.byte()}
				switch e.kind {
				case 0:
					s.u32()
					m.importedFuncs++
				case 1:
					s.byte()
					s.skipLimits()
				case 2:
					s.skipLimits()
				case 3:
					s.bytes(2)
					m.importedGlobs++
				default:
					s.fail("bad import kind")
				}
				m.imports = append(m.imports, e)
			}
		case secFunction:
			for range s.u32() {
				m.funcTypes = append(m.funcTypes, s.u32())
			}
		case secGlobal:
			m.globalCount = s.u32()
		case secExport:
			for range s.u32() {
				m.exports = append(m.exports, exportEntry{name: s.name(), kind: s.byte(), index: s.u32()})
			}
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// export returns the function index of the function export name.
func (m *coreModule) export(name string) (uint32, bool) {
	for _, e := range m.exports {
		if e.name == name && e.kind == 0 {
			return e.index, true
		}
	}
	return 0, false
}

// funcType returns the type of function index i.
func (m *coreModule) funcType(i uint32) ([2][]byte, error) {
	if i < m.importedFuncs {
		return [2][]byte{}, errors.New("exported function is an import")
	}
	d := i - m.importedFuncs
	if d >= uint32(len(m.funcTypes)) || m.funcTypes[d] >= uint32(len(m.types)) {
		return [2][]byte{}, errors.New("function index out of range")
	}
	return m.types[m.funcTypes[d]], nil
}

// dataAddress returns the memory address of the one occurrence of marker
// in the module's active data segments (memory 0, i32.const offset).
func (m *coreModule) dataAddress(marker []byte) (uint32, bool, error) {
	var addr uint32
	found := 0
	for _, s := range m.sections {
		if s.id != secData {
			continue
		}
		r := &reader{b: s.body}
		for range r.u32() {
			var offset int64
			switch flags := r.u32(); flags {
			case 0, 2:
				if flags == 2 {
					r.u32() // memory index
				}
				if r.byte() != 0x41 {
					return 0, false, errors.New("data segment offset is not an i32.const")
				}
				offset = int64(uint32(r.s64()))
				if r.byte() != 0x0b {
					return 0, false, errors.New("bad data segment offset")
				}
			case 1:
				offset = -1 // passive
			default:
				return 0, false, errors.New("bad data segment")
			}
			data := r.bytes(r.u32())
			if r.err != nil {
				return 0, false, r.err
			}
			if offset < 0 {
				continue
			}
			for i := 0; ; {
				j := bytes.Index(data[i:], marker)
				if j < 0 {
					break
				}
				addr = uint32(offset) + uint32(i+j)
				found++
				i += j + 1
			}
		}
	}
	if found > 1 {
		return 0, false, fmt.Errorf("the pre-initialisation marker occurs %d times", found)
	}
	return addr, found == 1, nil
}

func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// s64 reads a signed LEB128.
func (r *reader) s64() int64 {
	var v int64
	var shift uint
	for i := 0; i < 10; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
	r.fail("bad signed LEB128")
	return 0
}

func appendName(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }

// appendVec re-encodes a vector section body with extra entries appended.
func appendVec(body []byte, extra ...[]byte) []byte {
	r := &reader{b: body}
	n := uint32(0)
	if len(body) > 0 {
		n = r.u32()
	}
	out := appendU32(nil, n+uint32(len(extra)))
	out = append(out, r.b...)
	for _, e := range extra {
		out = append(out, e...)
	}
	return out
}

// Instructions used by the generated functions.
const (
	opUnreachable = 0x00
	opIf          = 0x04
	opElse        = 0x05
	opEnd         = 0x0b
	opCall        = 0x10
	opSelect      = 0x1b
	opLocalGet    = 0x20
	opLocalSet    = 0x21
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opI32Const    = 0x41
	opI32Eqz      = 0x45
	opI32LtU      = 0x49
	opI32GtU      = 0x4b
	opI32Add      = 0x6a
	opI32Sub      = 0x6b
	opI32And      = 0x71
	typeI32       = 0x7f
	blockEmpty    = 0x40
)

// goPreinitMarker is the 16 bytes that start the Wisp Go SDK's pre-init
// region (sdk/go/internal/cabi, var preinit); goPreinitSize follows them.
var goPreinitMarker = []byte{0x77, 0x69, 0x73, 0x70, 0x2d, 0x70, 0x72, 0x65, 0x69, 0x6e, 0x69, 0x74, 0x9e, 0x3c, 0xd1, 0x5a}

const goPreinitSize = 128 << 10

// prepareGoModule makes a standard-Go reactor built with the Wisp Go SDK
// safe to wrap in a component with the WASI preview1 adapter.
//
// The problem: the adapter allocates its state with the main module's
// cabi_realloc on the first preview1 call, and the Go runtime makes that
// call inside _initialize, when a Go export (cabi_realloc is one) traps.
// And a component host may or may not call _initialize.
//
// The fix, done on the binary so the Go code stays ordinary:
//   - a global "ready" (0) and a global "top" (the SDK's pre-init region,
//     found by its marker in the data segments);
//   - a new cabi_realloc: before ready, it bump-allocates from the
//     pre-init region (trapping if that is exhausted), with no Go code
//     involved; after, it calls the SDK's Go cabi_realloc;
//   - every other function export (and _initialize itself) becomes a
//     wrapper that first runs the original _initialize once, then sets
//     ready, then calls the original function.
//
// A module without the marker (not built with the SDK) is returned as is.
func prepareGoModule(wasm []byte) ([]byte, error) {
	m, err := parseCore(wasm)
	if err != nil {
		return nil, err
	}
	region, ok, err := m.dataAddress(goPreinitMarker)
	if err != nil || !ok {
		return wasm, err
	}
	initFn, hasInit := m.export("_initialize")
	goRealloc, hasRealloc := m.export("cabi_realloc")
	if !hasInit || !hasRealloc {
		return nil, errors.New("a Go SDK module must export _initialize and cabi_realloc (build with -buildmode=c-shared)")
	}
	reallocType, err := m.funcType(goRealloc)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(reallocType[0], []byte{typeI32, typeI32, typeI32, typeI32}) || !bytes.Equal(reallocType[1], []byte{typeI32}) {
		return nil, errors.New("cabi_realloc has the wrong type")
	}

	ready := m.importedGlobs + m.globalCount
	top := ready + 1
	start := (region + 16 + 7) &^ 7
	end := region + 16 + goPreinitSize

	nextType := uint32(len(m.types))
	nextFunc := m.importedFuncs + uint32(len(m.funcTypes))
	var newTypes, newFuncs, newCode [][]byte
	funcIndex := map[uint32]uint32{} // original → wrapper
	typeFor := func(t [2][]byte) uint32 {
		e := []byte{0x60}
		e = append(appendU32(e, uint32(len(t[0]))), t[0]...)
		e = append(appendU32(e, uint32(len(t[1]))), t[1]...)
		newTypes = append(newTypes, e)
		nextType++
		return nextType - 1
	}
	addFunc := func(typ uint32, locals []byte, code []byte) uint32 {
		newFuncs = append(newFuncs, appendU32(nil, typ))
		body := append(locals, code...)
		newCode = append(newCode, append(appendU32(nil, uint32(len(body))), body...))
		nextFunc++
		return nextFunc - 1
	}
	ensureInit := func(c []byte) []byte {
		c = append(c, opGlobalGet)
		c = appendU32(c, ready)
		c = append(c, opI32Eqz, opIf, blockEmpty, opCall)
		c = appendU32(c, initFn)
		c = append(c, opI32Const, 1, opGlobalSet)
		c = appendU32(c, ready)
		return append(c, opEnd)
	}

	// cabi_realloc(old, old_size, align, new_size) with one local p.
	var c []byte
	c = append(c, opGlobalGet)
	c = appendU32(c, ready)
	c = append(c, opIf, typeI32)
	c = append(c, opLocalGet, 0, opLocalGet, 1, opLocalGet, 2, opLocalGet, 3, opCall)
	c = appendU32(c, goRealloc)
	c = append(c, opElse)
	// p = (top + align - 1) & -align
	c = append(c, opGlobalGet)
	c = appendU32(c, top)
	c = append(c, opLocalGet, 2, opI32Add, opI32Const, 1, opI32Sub, opI32Const, 0, opLocalGet, 2, opI32Sub, opI32And, opLocalSet, 4)
	// if p + new_size > end (or wrapped): unreachable
	c = append(c, opLocalGet, 4, opLocalGet, 3, opI32Add, opI32Const)
	c = appendS32(c, int32(end))
	c = append(c, opI32GtU, opLocalGet, 4, opLocalGet, 3, opI32Add, opLocalGet, 4, opI32LtU, 0x72 /* i32.or */, opIf, blockEmpty, opUnreachable, opEnd)
	c = append(c, opLocalGet, 4, opLocalGet, 3, opI32Add, opGlobalSet)
	c = appendU32(c, top)
	// copy min(old_size, new_size) bytes from old if old != 0
	c = append(c, opLocalGet, 0, opIf, blockEmpty,
		opLocalGet, 4, opLocalGet, 0,
		opLocalGet, 1, opLocalGet, 3, opLocalGet, 1, opLocalGet, 3, opI32LtU, opSelect,
		0xfc, 0x0a, 0x00, 0x00, // memory.copy 0 0
		opEnd)
	c = append(c, opLocalGet, 4, opEnd, opEnd)
	newRealloc := addFunc(typeFor(reallocType), []byte{1, 1, typeI32}, c)

	// Wrappers for _initialize and the other function exports.
	for _, e := range m.exports {
		if e.kind != 0 || e.name == "cabi_realloc" || funcIndex[e.index] != 0 {
			continue
		}
		t, err := m.funcType(e.index)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", e.name, err)
		}
		code := ensureInit(nil)
		if e.index != initFn {
			for i := range t[0] {
				code = append(code, opLocalGet)
				code = appendU32(code, uint32(i))
			}
			code = append(code, opCall)
			code = appendU32(code, e.index)
		}
		code = append(code, opEnd)
		funcIndex[e.index] = addFunc(typeFor(t), []byte{0}, code)
	}

	// Rewrite the sections.
	var exports []byte
	exports = appendU32(exports, uint32(len(m.exports)))
	for _, e := range m.exports {
		idx := e.index
		switch {
		case e.kind == 0 && e.name == "cabi_realloc":
			idx = newRealloc
		case e.kind == 0:
			idx = funcIndex[e.index]
		}
		exports = appendName(exports, e.name)
		exports = append(exports, e.kind)
		exports = appendU32(exports, idx)
	}
	globals := [][]byte{
		{typeI32, 1, opI32Const, 0, opEnd},
		append(appendS32([]byte{typeI32, 1, opI32Const}, int32(start)), opEnd),
	}

	out := append([]byte(nil), coreMagic...)
	have := map[byte]bool{}
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	for _, s := range m.sections {
		body := s.body
		switch s.id {
		case secType:
			body = appendVec(body, newTypes...)
		case secFunction:
			body = appendVec(body, newFuncs...)
		case secGlobal:
			body = appendVec(body, globals...)
		case secExport:
			body = exports
		case secCode:
			body = appendVec(body, newCode...)
		}
		// A module without a global section gets one before its exports.
		if s.id == secExport && !have[secGlobal] {
			emit(secGlobal, appendVec(nil, globals...))
			have[secGlobal] = true
		}
		have[s.id] = true
		emit(s.id, body)
	}
	if !have[secType] || !have[secFunction] || !have[secCode] || !have[secExport] {
		return nil, errors.New("module lacks a type, function, code or export section")
	}
	return out, nil
}
