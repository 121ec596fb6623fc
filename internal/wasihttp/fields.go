package wasihttp

import (
	"net/http"
	"strings"
)

// header-error cases (a variant without payloads).
const (
	headerErrInvalidSyntax uint32 = iota
	headerErrForbidden
	headerErrImmutable
)

// forbiddenHeaders are the names a guest may neither set nor see: they
// describe the connection, not the message, and a guest controlling them
// could smuggle requests or confuse the host's HTTP stack. This is
// wasmtime-wasi-http's DEFAULT_FORBIDDEN_HEADERS, which Spin uses unchanged.
var forbiddenHeaders = map[string]bool{
	"connection":          true,
	"keep-alive":          true,
	"proxy-authenticate":  true,
	"proxy-authorization": true,
	"proxy-connection":    true,
	"transfer-encoding":   true,
	"upgrade":             true,
	"host":                true,
	"http2-settings":      true,
}

// field is one header line; names are stored lower-cased, as the http
// crate (and so wasmtime) does, so entries() reports them that way.
type field struct {
	name  string
	value []byte
}

// fieldList is the storage of a fields resource. Several Fields values may
// share one (a request and the view its headers() method returns).
type fieldList struct {
	entries []field
}

// Fields is the Go value of a wasi:http fields resource (also headers and
// trailers). Immutable fields are views of a message's headers: the WIT
// makes the headers of every request and response immutable once they
// belong to it. A Fields is used by the guest's goroutine only.
type Fields struct {
	list      *fieldList
	immutable bool
}

// NewFields returns empty mutable fields.
func NewFields() *Fields { return &Fields{list: &fieldList{}} }

// fieldsFromHeader copies h, dropping forbidden and malformed names: what a
// guest sees of a message that came from the network.
func fieldsFromHeader(h http.Header, immutable bool) *Fields {
	return &Fields{list: newFieldList(h, nil, nil), immutable: immutable}
}

// newFieldList copies h's fields except forbidden and malformed names and
// those hide reports (nil hides none), then appends extra, whose names
// the host chose (the same checks apply). It costs four allocations
// whatever the number of fields: every name is a substring of one string
// and every value a capacity-capped slice of one byte array, which is safe
// because stored values are never modified in place (Set and Append store
// new slices; reads copy).
func newFieldList(h http.Header, hide func(name string) bool, extra [][2]string) *fieldList {
	keep := func(name string) bool {
		return validFieldName(name) && !isForbidden(name) && (hide == nil || !hide(name))
	}
	n, nameBytes, valueBytes := 0, 0, 0
	for name, values := range h {
		if keep(name) {
			n += len(values)
			nameBytes += len(name)
			for _, v := range values {
				valueBytes += len(v)
			}
		}
	}
	for _, kv := range extra {
		if validFieldName(kv[0]) && !isForbidden(kv[0]) {
			n++
			nameBytes += len(kv[0])
			valueBytes += len(kv[1])
		}
	}
	l := &fieldList{entries: make([]field, 0, n)}
	if n == 0 {
		return l
	}
	var names strings.Builder
	names.Grow(nameBytes)
	values := make([]byte, 0, valueBytes) // never grows: the slices below stay valid
	// A name is a substring of names.String(), which can only be taken
	// once every name is written: until then entries record offsets here
	// (on the stack for the usual number of fields).
	type span struct{ start, end int }
	var stack [32]span
	nameAt := stack[:0]
	add := func(name, v string) {
		start := names.Len()
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			names.WriteByte(c)
		}
		nameAt = append(nameAt, span{start, names.Len()})
		vs := len(values)
		values = append(values, v...)
		l.entries = append(l.entries, field{value: values[vs:len(values):len(values)]})
	}
	for name, vals := range h {
		if keep(name) {
			for _, v := range vals {
				add(name, v)
			}
		}
	}
	for _, kv := range extra {
		if validFieldName(kv[0]) && !isForbidden(kv[0]) {
			add(kv[0], kv[1])
		}
	}
	all := names.String()
	for i, sp := range nameAt {
		l.entries[i].name = all[sp.start:sp.end]
	}
	return l
}

// isForbidden reports whether name (in any case) is a forbidden header,
// without allocating a lower-cased copy.
func isForbidden(name string) bool {
	if len(name) > len("proxy-authorization") {
		return false
	}
	var buf [len("proxy-authorization")]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return forbiddenHeaders[string(buf[:len(name)])]
}

// view returns an immutable Fields sharing f's storage.
func (l *fieldList) view() *Fields { return &Fields{list: l, immutable: true} }

func (l *fieldList) clone() *fieldList {
	c := &fieldList{entries: make([]field, len(l.entries))}
	for i, e := range l.entries {
		c.entries[i] = field{name: e.name, value: append([]byte(nil), e.value...)}
	}
	return c
}

// take returns the storage for a message that takes ownership of f (the
// constructors of outgoing-request and outgoing-response take own<headers>).
// A view is copied: its storage still belongs to another message.
func (f *Fields) take() *fieldList {
	if f.immutable {
		return f.list.clone()
	}
	return f.list
}

// header converts l to an http.Header.
func (l *fieldList) header() http.Header {
	h := make(http.Header, len(l.entries))
	l.addTo(h)
	return h
}

// addTo adds l's fields to h.
func (l *fieldList) addTo(h http.Header) {
	for _, e := range l.entries {
		k := http.CanonicalHeaderKey(e.name)
		h[k] = append(h[k], string(e.value))
	}
}

func (l *fieldList) get(name string) [][]byte {
	var out [][]byte
	for _, e := range l.entries {
		if e.name == name {
			out = append(out, e.value)
		}
	}
	return out
}

func (l *fieldList) del(name string) {
	kept := l.entries[:0]
	for _, e := range l.entries {
		if e.name != name {
			kept = append(kept, e)
		}
	}
	clear(l.entries[len(kept):])
	l.entries = kept
}

// Get returns the values of name ([method]fields.get); an invalid name has
// no values.
func (f *Fields) Get(name string) [][]byte {
	name = strings.ToLower(name)
	if !validFieldName(name) {
		return nil
	}
	vals := f.list.get(name)
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = append([]byte(nil), v...)
	}
	return out
}

// Has reports whether name has a value.
func (f *Fields) Has(name string) bool {
	name = strings.ToLower(name)
	return validFieldName(name) && len(f.list.get(name)) > 0
}

// check validates an update of name, in wasmtime's order: name syntax,
// forbidden, value syntax, then mutability. ok is false with the
// header-error case.
func (f *Fields) check(name string, values [][]byte) (string, uint32, bool) {
	name = strings.ToLower(name)
	if !validFieldName(name) {
		return "", headerErrInvalidSyntax, false
	}
	if forbiddenHeaders[name] {
		return "", headerErrForbidden, false
	}
	for _, v := range values {
		if !validFieldValue(v) {
			return "", headerErrInvalidSyntax, false
		}
	}
	if f.immutable {
		return "", headerErrImmutable, false
	}
	return name, 0, true
}

// Set replaces the values of name.
func (f *Fields) Set(name string, values [][]byte) (errCase uint32, ok bool) {
	name, errCase, ok = f.check(name, values)
	if !ok {
		return errCase, false
	}
	f.list.del(name)
	for _, v := range values {
		f.list.entries = append(f.list.entries, field{name: name, value: append([]byte(nil), v...)})
	}
	return 0, true
}

// Delete removes every value of name.
func (f *Fields) Delete(name string) (errCase uint32, ok bool) {
	name, errCase, ok = f.check(name, nil)
	if !ok {
		return errCase, false
	}
	f.list.del(name)
	return 0, true
}

// Append adds a value to name.
func (f *Fields) Append(name string, value []byte) (errCase uint32, ok bool) {
	name, errCase, ok = f.check(name, [][]byte{value})
	if !ok {
		return errCase, false
	}
	f.list.entries = append(f.list.entries, field{name: name, value: append([]byte(nil), value...)})
	return 0, true
}

// Entries returns every (name, value) pair in insertion order.
func (f *Fields) Entries() []field {
	out := make([]field, len(f.list.entries))
	for i, e := range f.list.entries {
		out[i] = field{name: e.name, value: append([]byte(nil), e.value...)}
	}
	return out
}

// Clone returns a mutable deep copy (also of an immutable view).
func (f *Fields) Clone() *Fields { return &Fields{list: f.list.clone()} }

// fieldsFromList implements [static]fields.from-list.
func fieldsFromList(entries []field) (*Fields, uint32, bool) {
	f := NewFields()
	for _, e := range entries {
		if errCase, ok := f.Append(e.name, e.value); !ok {
			return nil, errCase, false
		}
	}
	return f, 0, true
}

// validFieldName reports whether s is an RFC 9110 token (what the http
// crate's HeaderName::from_bytes accepts), at most 64 KiB long.
func validFieldName(s string) bool {
	if s == "" || len(s) > 1<<16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validFieldValue is the http crate's HeaderValue::from_bytes: visible
// ASCII, space, tab and obs-text; no other control characters (so no CR or
// LF: a guest cannot inject header lines).
func validFieldValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
