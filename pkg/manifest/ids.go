package manifest

import (
	"fmt"
	"strings"
)

// Spin names things with two identifier shapes (crates/serde/src/id.rs):
// kebab-case for component ids and snake_case for variable names. Words are
// separated by one delimiter, start with an ASCII letter, and are all lower
// or all UPPER case. The error texts say which rule broke, like Spin's.

// checkKebabID validates a component id (Spin's KebabId).
func checkKebabID(id string) error { return checkID(id, '-', false) }

// checkSnakeID validates a snake_case id (Spin's SnakeId).
func checkSnakeID(id string) error { return checkID(id, '_', false) }

// checkVariableName validates a variable name: Spin's LowerSnakeId, which
// is a SnakeId with only lowercase words.
func checkVariableName(name string) error { return checkID(name, '_', true) }

// checkLabel validates a key-value store or SQLite database label, which
// Spin accepts in either kebab-case or snake_case.
func checkLabel(label string) error {
	if checkKebabID(label) == nil || checkSnakeID(label) == nil {
		return nil
	}
	return fmt.Errorf("expected kebab-case or snake_case")
}

func checkID(id string, delim byte, lower bool) error {
	if id == "" {
		return fmt.Errorf("must not be empty")
	}
	wrong := byte('_')
	if delim == '_' {
		wrong = '-'
	}
	if strings.IndexByte(id, wrong) >= 0 {
		return fmt.Errorf("words must be separated with %q, not %q", delim, wrong)
	}
	for _, word := range strings.Split(id, string(delim)) {
		if word == "" {
			return fmt.Errorf("%q-separated words must not be empty", delim)
		}
		first := word[0]
		if !isASCIILetter(first) {
			return fmt.Errorf("%q-separated words must start with an ASCII letter; got %q", delim, rune(first))
		}
		upper := isASCIIUpper(first)
		for i := 1; i < len(word); i++ {
			c := word[i]
			switch {
			case isASCIIDigit(c):
			case !isASCIILetter(c):
				return fmt.Errorf("%q-separated words may only contain alphanumeric ASCII; got %q", delim, firstRune(word[i:]))
			case isASCIIUpper(c) != upper:
				return fmt.Errorf("%q-separated words must be all lowercase or all UPPERCASE; got %q", delim, word)
			}
		}
		if lower && upper {
			return fmt.Errorf("must be all lowercase")
		}
	}
	return nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isASCIIUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isASCIIDigit(c byte) bool  { return '0' <= c && c <= '9' }

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}
