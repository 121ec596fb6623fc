package cabi

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// load_string_from_range: decode the string at [ptr, …) whose length is
// tagged_code_units in the context's encoding. Invalid code units trap.
func loadString(cx *Context, ptr, tagged uint32) (string, error) {
	var (
		align  uint32 = 1
		length uint64
		wide   bool
	)
	switch cx.Encoding {
	case UTF8:
		length = uint64(tagged)
	case UTF16:
		align, length, wide = 2, 2*uint64(tagged), true
	case Latin1UTF16:
		align = 2
		if tagged&utf16Tag != 0 {
			length, wide = 2*uint64(tagged^utf16Tag), true
		} else {
			length = uint64(tagged)
		}
	default:
		return "", trapf("unknown string encoding %d", cx.Encoding)
	}
	if length > MaxStringByteLength {
		return "", trapf("string of %d bytes exceeds the maximum", length)
	}
	if ptr&(align-1) != 0 {
		return "", trapf("string pointer %#x is not %d-byte aligned", ptr, align)
	}
	b, err := cx.read(ptr, uint32(length))
	if err != nil {
		return "", err
	}
	switch {
	case wide:
		return decodeUTF16(b)
	case cx.Encoding == Latin1UTF16:
		return decodeLatin1(b), nil
	}
	if !utf8.Valid(b) {
		return "", trapf("string at %#x is not valid utf-8", ptr)
	}
	return string(b), nil
}

// decodeUTF16 decodes little-endian UTF-16; unpaired surrogates trap.
func decodeUTF16(b []byte) (string, error) {
	n := len(b) / 2
	// Fast path: all ASCII.
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		out := make([]byte, n)
		for i := range out {
			out[i] = b[2*i]
		}
		return string(out), nil
	}
	out := make([]byte, 0, n*3)
	for i := 0; i < n; i++ {
		u := rune(binary.LittleEndian.Uint16(b[2*i:]))
		switch {
		case u < 0xD800 || u > 0xDFFF:
			out = utf8.AppendRune(out, u)
		case u <= 0xDBFF && i+1 < n:
			u2 := rune(binary.LittleEndian.Uint16(b[2*i+2:]))
			if u2 < 0xDC00 || u2 > 0xDFFF {
				return "", trapf("unpaired utf-16 surrogate %#x", u)
			}
			out = utf8.AppendRune(out, utf16.DecodeRune(u, u2))
			i++
		default:
			return "", trapf("unpaired utf-16 surrogate %#x", u)
		}
	}
	return string(out), nil
}

func decodeLatin1(b []byte) string {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			out := make([]byte, i, len(b)*2)
			copy(out, b[:i])
			for _, c := range b[i:] {
				out = utf8.AppendRune(out, rune(c))
			}
			return string(out)
		}
	}
	return string(b)
}

// store_string_into_range for a host string (always utf-8, src_code_units =
// len(s)): allocates in the guest with realloc and returns the pointer and
// the tagged code-unit count.
func storeString(cx *Context, s string) (uint32, uint32, error) {
	if !utf8.ValidString(s) {
		return 0, 0, &ValueError{Kind: KindString, Value: s, Msg: "not valid utf-8"}
	}
	if uint64(len(s)) > MaxStringByteLength {
		return 0, 0, &ValueError{Kind: KindString, Value: s, Msg: "too long"}
	}
	n := uint32(len(s))
	switch cx.Encoding {
	case UTF8:
		return storeStringCopy(cx, s, n)
	case UTF16:
		return storeUTF8ToUTF16(cx, s, n)
	case Latin1UTF16:
		return storeStringToLatin1OrUTF16(cx, s, n)
	}
	return 0, 0, trapf("unknown string encoding %d", cx.Encoding)
}

// store_string_copy (utf8 → utf8)
func storeStringCopy(cx *Context, s string, n uint32) (uint32, uint32, error) {
	ptr, err := cx.allocate(1, n)
	if err != nil {
		return 0, 0, err
	}
	if n > 0 {
		if err := cx.write(ptr, []byte(s)); err != nil {
			return 0, 0, err
		}
	}
	return ptr, n, nil
}

func appendUTF16(dst []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			dst = binary.LittleEndian.AppendUint16(dst, uint16(r1))
			dst = binary.LittleEndian.AppendUint16(dst, uint16(r2))
		} else {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(r))
		}
	}
	return dst
}

// store_utf8_to_utf16
func storeUTF8ToUTF16(cx *Context, s string, n uint32) (uint32, uint32, error) {
	worst := 2 * n
	ptr, err := cx.allocate(2, worst)
	if err != nil {
		return 0, 0, err
	}
	enc := appendUTF16(make([]byte, 0, worst), s)
	encLen := uint32(len(enc))
	if err := cx.write(ptr, enc); err != nil {
		return 0, 0, err
	}
	if encLen < worst {
		ptr, err = cx.reallocate(ptr, worst, 2, encLen)
		if err != nil {
			return 0, 0, err
		}
		if err := cx.checkRange(ptr, encLen, 2); err != nil {
			return 0, 0, err
		}
	}
	return ptr, encLen / 2, nil
}

// store_string_to_latin1_or_utf16
func storeStringToLatin1OrUTF16(cx *Context, s string, n uint32) (uint32, uint32, error) {
	ptr, err := cx.allocate(2, n)
	if err != nil {
		return 0, 0, err
	}
	latin1 := make([]byte, 0, n)
	for _, r := range s {
		if r >= 1<<8 {
			latin1 = nil
			break
		}
		latin1 = append(latin1, byte(r))
	}
	if latin1 != nil {
		dst := uint32(len(latin1))
		if err := cx.write(ptr, latin1); err != nil {
			return 0, 0, err
		}
		if dst < n {
			ptr, err = cx.reallocate(ptr, n, 2, dst)
			if err != nil {
				return 0, 0, err
			}
			if err := cx.checkRange(ptr, dst, 2); err != nil {
				return 0, 0, err
			}
		}
		return ptr, dst, nil
	}
	worst := 2 * n
	ptr, err = cx.reallocate(ptr, n, 2, worst)
	if err != nil {
		return 0, 0, err
	}
	if err := cx.checkRange(ptr, worst, 2); err != nil {
		return 0, 0, err
	}
	enc := appendUTF16(make([]byte, 0, worst), s)
	encLen := uint32(len(enc))
	if err := cx.write(ptr, enc); err != nil {
		return 0, 0, err
	}
	if worst > encLen {
		ptr, err = cx.reallocate(ptr, worst, 2, encLen)
		if err != nil {
			return 0, 0, err
		}
		if err := cx.checkRange(ptr, encLen, 2); err != nil {
			return 0, 0, err
		}
	}
	return ptr, encLen/2 | utf16Tag, nil
}
