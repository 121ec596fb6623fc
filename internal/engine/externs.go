package engine

import "errors"

// externKind is the kind byte of an import or export in the binary format.
type externKind byte

const (
	kindFunc externKind = iota
	kindTable
	kindMemory
	kindGlobal
	kindTag
)

func (k externKind) String() string {
	switch k {
	case kindFunc:
		return "function"
	case kindTable:
		return "table"
	case kindMemory:
		return "memory"
	case kindGlobal:
		return "global"
	case kindTag:
		return "tag"
	}
	return "unknown extern"
}

// extern is one import (module != "") or export of a core module.
type extern struct {
	module, name string
	kind         externKind
}

// moduleShape is what Instantiate needs to know about a module beyond what
// wazero's CompiledModule exposes (which lists imported and exported
// functions and memories, but not tables, globals or the start section).
type moduleShape struct {
	imports  []extern
	exports  []extern
	hasStart bool
}

var errTruncated = errors.New("truncated section")

// parseShape reads the import, export and start sections. It runs after
// wazero validated the module, so it only has to be correct on valid input;
// it is still bounds-checked because an unknown encoding (a future proposal)
// must make it give up, not panic. Callers treat an error as "shape unknown".
func parseShape(wasm []byte) (moduleShape, error) {
	var s moduleShape
	r := reader{b: wasm, off: 8}
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return s, err
		}
		size, err := r.u32()
		if err != nil {
			return s, err
		}
		end := r.off + int(size)
		if end > len(r.b) || end < r.off {
			return s, errTruncated
		}
		sec := reader{b: r.b[:end], off: r.off}
		switch id {
		case 2:
			if s.imports, err = parseImports(&sec); err != nil {
				return s, err
			}
		case 7:
			if s.exports, err = parseExports(&sec); err != nil {
				return s, err
			}
		case 8:
			s.hasStart = true
		}
		r.off = end
	}
	return s, nil
}

func parseImports(r *reader) ([]extern, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]extern, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		var e extern
		if e.module, err = r.name(); err != nil {
			return nil, err
		}
		if e.name, err = r.name(); err != nil {
			return nil, err
		}
		k, err := r.byte()
		if err != nil {
			return nil, err
		}
		e.kind = externKind(k)
		switch e.kind {
		case kindFunc:
			_, err = r.u32()
		case kindTable:
			if err = r.refType(); err == nil {
				err = r.limits()
			}
		case kindMemory:
			err = r.limits()
		case kindGlobal:
			if err = r.refType(); err == nil { // value types share the encoding
				_, err = r.byte() // mutability
			}
		case kindTag:
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return nil, errors.New("unknown import kind")
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func parseExports(r *reader) ([]extern, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]extern, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		var e extern
		if e.name, err = r.name(); err != nil {
			return nil, err
		}
		k, err := r.byte()
		if err != nil {
			return nil, err
		}
		e.kind = externKind(k)
		if _, err = r.u32(); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 (also used to skip u64 and s33 values, whose
// exact value is not needed here).
func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 70; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if shift < 32 {
			v |= uint32(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 too long")
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	if int(n) > len(r.b)-r.off {
		return "", errTruncated
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}

// refType skips a value or reference type, including the typed-reference
// forms (ref null ht) and (ref ht) of the function-references proposal.
func (r *reader) refType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 {
		_, err = r.u32() // heap type, s33
	}
	return err
}

// limits skips a table or memory limits: flags bit 0 says a maximum
// follows; the other bits (shared, memory64) do not change the layout.
func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err = r.u32(); err != nil {
		return err
	}
	if flags&1 != 0 {
		_, err = r.u32()
	}
	return err
}
