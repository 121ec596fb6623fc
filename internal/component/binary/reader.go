package binary

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// errEOF is returned (wrapped) whenever the input ends before a production does.
var errEOF = errors.New("unexpected end of input")

// reader is a cursor over one byte range of the input. It remembers the
// absolute offset of its first byte so that errors point into the original
// file, not into a sub-slice, which is what a person debugging a binary needs.
type reader struct {
	b    []byte
	pos  int
	base int // absolute offset of b[0]
}

func newReader(b []byte, base int) *reader { return &reader{b: b, base: base} }

func (r *reader) abs() int       { return r.base + r.pos }
func (r *reader) eof() bool      { return r.pos >= len(r.b) }
func (r *reader) remaining() int { return len(r.b) - r.pos }

// posError carries the absolute offset at which decoding failed.
type posError struct {
	off int
	err error
}

func (e *posError) Error() string { return e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

// errorf builds an error positioned at the reader's current offset.
func (r *reader) errorf(format string, args ...any) error {
	return &posError{off: r.abs(), err: fmt.Errorf(format, args...)}
}

// errOffset returns the most precise offset known for err, or def.
func errOffset(err error, def int) int {
	var pe *posError
	if errors.As(err, &pe) {
		return pe.off
	}
	return def
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, &posError{off: r.abs(), err: errEOF}
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) peek() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, &posError{off: r.abs(), err: errEOF}
	}
	return r.b[r.pos], nil
}

func (r *reader) bytes(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, &posError{off: r.abs(), err: fmt.Errorf("%w: need %d bytes, have %d", errEOF, n, r.remaining())}
	}
	s := r.b[r.pos : r.pos+n : r.pos+n]
	r.pos += n
	return s, nil
}

// u32 reads an unsigned LEB128 value of at most 5 bytes, rejecting overlong
// encodings whose unused high bits are set (as the core spec does).
func (r *reader) u32() (uint32, error) {
	start := r.abs()
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c&0xf0 != 0 {
			return 0, &posError{off: start, err: errors.New("integer representation too long (u32)")}
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, &posError{off: start, err: errors.New("integer representation too long (u32)")}
}

// u64 reads an unsigned LEB128 of at most 10 bytes (memory64 limits).
func (r *reader) u64() (uint64, error) {
	start := r.abs()
	var v uint64
	for i := 0; i < 10; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 9 && c&0xfe != 0 {
			return 0, &posError{off: start, err: errors.New("integer representation too long (u64)")}
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, &posError{off: start, err: errors.New("integer representation too long (u64)")}
}

// sleb reads a signed LEB128 of at most maxBytes bytes (s33 heap types use 5,
// i32.const 5, i64.const 10). Only the value's sign extension matters here.
func (r *reader) sleb(maxBytes int) (int64, error) {
	start := r.abs()
	var v int64
	var shift uint
	for i := 0; i < maxBytes; i++ {
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
			return v, nil
		}
	}
	return 0, &posError{off: start, err: errors.New("integer representation too long (signed)")}
}

// name reads a length-prefixed UTF-8 string (core:name).
func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	start := r.abs()
	b, err := r.bytes(int(n))
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", &posError{off: start, err: errors.New("malformed UTF-8 name")}
	}
	return string(b), nil
}

// count reads a vector length and sanity-checks it against the bytes left:
// every element takes at least minSize bytes, so a larger count is garbage.
// This keeps hostile inputs from making us preallocate gigabytes.
func (r *reader) count(what string, minSize int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(r.remaining()) {
		return 0, r.errorf("%s count %d larger than the %d bytes left", what, n, r.remaining())
	}
	return int(n), nil
}

// optional reads the <T>? discriminator byte: 0x00 absent, 0x01 present.
func (r *reader) optional(what string) (bool, error) {
	c, err := r.byte()
	if err != nil {
		return false, err
	}
	switch c {
	case 0x00:
		return false, nil
	case 0x01:
		return true, nil
	}
	return false, r.errorf("invalid optional %s discriminator 0x%02x", what, c)
}
