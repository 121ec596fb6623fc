// Package rewrite transforms WebAssembly core module binaries before the
// engine compiles them: MergeData coalesces the data section into a few large
// segments (instantiation cost grows with the segment count), Restorable
// moves the data into a host-held image and exports the mutable globals (so
// the host can start instances from a snapshot), and Instrument adds
// regular ticks that yield to the Go runtime and check an interrupt flag
// (cheap deadlines). All work on the binary encoding only, keep every
// other section byte for byte, and leave a module they cannot handle exactly
// unchanged or refuse it with an error; none panics on malformed input.
package rewrite

import (
	"errors"
	"fmt"
)

// Section ids of the binary format.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// order is a non-custom section's place in the module (sections must appear
// in this order; the tag section sits between memory and global).
func order(id byte) int {
	switch id {
	case secTag:
		return 55 // after memory (5), before global (6)
	case secDataCount:
		return 95 // after element (9), before code (10)
	}
	return int(id) * 10
}

var errTruncated = errors.New("truncated")

// section is one section of a module; body aliases the input.
type section struct {
	id   byte
	body []byte
}

// splitSections cuts a core module into its sections.
func splitSections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("not a core module")
	}
	var out []section
	r := reader{b: wasm, off: 8}
	for !r.done() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		body, err := r.bytes()
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		out = append(out, section{id: id, body: body})
	}
	return out, nil
}

// joinSections encodes a module from its sections.
func joinSections(secs []section) []byte {
	n := 8
	for _, s := range secs {
		n += 1 + 5 + len(s.body)
	}
	out := make([]byte, 0, n)
	out = append(out, "\x00asm\x01\x00\x00\x00"...)
	for _, s := range secs {
		out = append(out, s.id)
		out = appendU32(out, uint32(len(s.body)))
		out = append(out, s.body...)
	}
	return out
}

// find returns the index of the section with id, or -1.
func find(secs []section, id byte) int {
	for i, s := range secs {
		if s.id == id {
			return i
		}
	}
	return -1
}

// insert puts a new section where the binary format's order wants it.
func insert(secs []section, s section) []section {
	at := len(secs)
	for i, x := range secs {
		if x.id != secCustom && order(x.id) > order(s.id) {
			at = i
			break
		}
	}
	secs = append(secs, section{})
	copy(secs[at+1:], secs[at:])
	secs[at] = s
	return secs
}

// reader decodes the binary format with bounds checks everywhere.
type reader struct {
	b   []byte
	off int
}

func (r *reader) done() bool { return r.off >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errTruncated
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

func (r *reader) u32() (uint32, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				return 0, errors.New("u32 out of range")
			}
			return uint32(v), nil
		}
	}
	return 0, errors.New("LEB128 too long")
}

// s32 decodes a signed LEB128 of at most 32 bits.
func (r *reader) s32() (int32, error) {
	var v int64
	shift := 0
	for {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, errors.New("s32 out of range")
			}
			return int32(v), nil
		}
		if shift >= 35 {
			return 0, errors.New("LEB128 too long")
		}
	}
}

// skipLEB skips a LEB128 of at most maxBytes bytes (5 for 32-bit, 10 for
// 64-bit values).
func (r *reader) skipLEB(maxBytes int) error {
	for i := 0; i < maxBytes; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return errors.New("LEB128 too long")
}

func (r *reader) skip(n int) error {
	if n < 0 || n > len(r.b)-r.off {
		return errTruncated
	}
	r.off += n
	return nil
}

// bytes reads a length-prefixed byte vector (aliasing the input).
func (r *reader) bytes() ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if int64(n) > int64(len(r.b)-r.off) {
		return nil, errTruncated
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// skipLimits skips table or memory limits and returns the minimum (0 for a
// memory64 minimum that does not fit 32 bits: callers then give up).
func (r *reader) limits() (min uint64, flags byte, err error) {
	if flags, err = r.byte(); err != nil {
		return 0, 0, err
	}
	if flags&4 != 0 { // memory64: 64-bit limits
		if err = r.skipLEB(10); err == nil && flags&1 != 0 {
			err = r.skipLEB(10)
		}
		return 0, flags, err
	}
	m, err := r.u32()
	if err != nil {
		return 0, 0, err
	}
	if flags&1 != 0 {
		if _, err = r.u32(); err != nil {
			return 0, 0, err
		}
	}
	return uint64(m), flags, nil
}

// valType skips a value type, including the typed references (ref null ht)
// and (ref ht).
func (r *reader) valType() error {
	c, err := r.byte()
	if err != nil {
		return err
	}
	if c == 0x63 || c == 0x64 {
		return r.skipLEB(5) // heap type, s33
	}
	return nil
}

// imports counts the imported functions, tables, globals and memories.
type imports struct {
	funcs, tables, globals, memories int
}

func parseImports(body []byte) (imports, error) {
	var n imports
	r := reader{b: body}
	count, err := r.u32()
	if err != nil {
		return n, err
	}
	for i := uint32(0); i < count; i++ {
		if _, err := r.bytes(); err != nil { // module
			return n, err
		}
		if _, err := r.bytes(); err != nil { // name
			return n, err
		}
		kind, err := r.byte()
		if err != nil {
			return n, err
		}
		switch kind {
		case 0:
			n.funcs++
			_, err = r.u32()
		case 1:
			n.tables++
			if err = r.valType(); err == nil {
				_, _, err = r.limits()
			}
		case 2:
			n.memories++
			_, _, err = r.limits()
		case 3:
			n.globals++
			if err = r.valType(); err == nil {
				_, err = r.byte()
			}
		case 4:
			if _, err = r.byte(); err == nil {
				_, err = r.u32()
			}
		default:
			return n, fmt.Errorf("unknown import kind %#x", kind)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// vecCount returns the element count at the start of a vector section.
func vecCount(body []byte) (uint32, error) {
	r := reader{b: body}
	return r.u32()
}
