package engine

import "testing"

// FuzzParseShape: the parser runs on every compiled module, so malformed or
// unexpected input must make it fail, never panic.
func FuzzParseShape(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	// (import "a" "b" (memory 1 2)) (export "m" (memory 0)) (start 0)
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x09\x01\x01a\x01b\x02\x01\x01\x02\x07\x05\x01\x01m\x02\x00\x08\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		parseShape(b)
	})
}

func TestParseShape(t *testing.T) {
	s, err := parseShape([]byte("\x00asm\x01\x00\x00\x00\x02\x09\x01\x01a\x01b\x02\x01\x01\x02\x07\x05\x01\x01m\x02\x00\x08\x01\x00"))
	if err != nil {
		t.Fatal(err)
	}
	want := moduleShape{imports: []extern{{"a", "b", kindMemory}}, exports: []extern{{"", "m", kindMemory}}, hasStart: true}
	if len(s.imports) != 1 || s.imports[0] != want.imports[0] || len(s.exports) != 1 || s.exports[0] != want.exports[0] || !s.hasStart {
		t.Errorf("parseShape = %+v, want %+v", s, want)
	}
}
