package wit

import (
	"fmt"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // a name or keyword; escaped reports a leading '%'
	tVersion         // a semver, lexed whole because '.' and '-' are also punctuation
	tPunct           // one of ; : , . { } ( ) < > = @ / * _ and the two-char "->"
)

type token struct {
	kind    tokKind
	text    string
	escaped bool
	pos     Pos
}

// Pos is a position in a WIT source file; Line and Col are 1-based, Col
// counts bytes.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a WIT syntax or resolution error at a source position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// lexer turns WIT source into tokens. Comments of every form (including
// "///" doc comments) are skipped: nothing the host needs lives in them.
type lexer struct {
	file      string
	src       string
	off       int
	line, col int
}

func newLexer(file, src string) *lexer { return &lexer{file: file, src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{l.file, l.line, l.col} }

func (l *lexer) errorf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// advance consumes n bytes, keeping line and column current.
func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off++
	}
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && l.peekByte(1) == '*':
			// Block comments nest in WIT, as in Rust.
			start := l.pos()
			l.advance(2)
			depth := 1
			for depth > 0 {
				if l.off >= len(l.src) {
					return l.errorf(start, "unterminated block comment")
				}
				switch {
				case l.src[l.off] == '*' && l.peekByte(1) == '/':
					depth--
					l.advance(2)
				case l.src[l.off] == '/' && l.peekByte(1) == '*':
					depth++
					l.advance(2)
				default:
					l.advance(1)
				}
			}
		default:
			return nil
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

func (l *lexer) next() (token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	switch {
	case c == '-' && l.peekByte(1) == '>':
		l.advance(2)
		return token{kind: tPunct, text: "->", pos: p}, nil
	case c == '%' || isLetter(c):
		escaped := c == '%'
		if escaped {
			l.advance(1)
		}
		start := l.off
		for l.off < len(l.src) && (isAlnum(l.src[l.off]) || l.src[l.off] == '-' && isAlnum(l.peekByte(1))) {
			l.advance(1)
		}
		text := l.src[start:l.off]
		if err := checkIdent(text); err != "" {
			return token{}, l.errorf(p, "invalid identifier %q: %s", text, err)
		}
		return token{kind: tIdent, text: text, escaped: escaped, pos: p}, nil
	case isDigit(c):
		return l.version(p)
	case c == '_' && !isAlnum(l.peekByte(1)):
		l.advance(1)
		return token{kind: tPunct, text: "_", pos: p}, nil
	}
	if c < utf8.RuneSelf {
		switch c {
		case ';', ':', ',', '.', '{', '}', '(', ')', '<', '>', '=', '@', '/', '*':
			l.advance(1)
			return token{kind: tPunct, text: string(c), pos: p}, nil
		}
		return token{}, l.errorf(p, "unexpected character %q", c)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, l.errorf(p, "unexpected character %q", r)
}

// version lexes MAJOR.MINOR.PATCH[-pre][+build]. A '.' is taken into a
// pre-release or build part only when an identifier character follows, so
// "@0.2.0.{x}" (a use path) still ends the version before ".{".
func (l *lexer) version(p Pos) (token, error) {
	start := l.off
	for part := 0; part < 3; part++ {
		if part > 0 {
			if l.peekByte(0) != '.' || !isDigit(l.peekByte(1)) {
				return token{}, l.errorf(p, "invalid version %q: want MAJOR.MINOR.PATCH", l.src[start:l.off])
			}
			l.advance(1)
		}
		if !isDigit(l.peekByte(0)) {
			return token{}, l.errorf(p, "invalid version")
		}
		for isDigit(l.peekByte(0)) {
			l.advance(1)
		}
	}
	for _, sep := range []byte{'-', '+'} {
		if l.peekByte(0) != sep || !isIdentChar(l.peekByte(1)) {
			continue
		}
		l.advance(1)
		for {
			for isIdentChar(l.peekByte(0)) {
				l.advance(1)
			}
			if l.peekByte(0) == '.' && isIdentChar(l.peekByte(1)) {
				l.advance(1)
				continue
			}
			break
		}
	}
	return token{kind: tVersion, text: l.src[start:l.off], pos: p}, nil
}

func isIdentChar(c byte) bool { return isAlnum(c) || c == '-' }

// checkIdent enforces WIT's kebab-case: words separated by single hyphens,
// each starting with a letter and either all lower or all upper case.
func checkIdent(s string) string {
	if s == "" {
		return "empty"
	}
	word := 0 // index of the current word's first byte
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			continue
		}
		w := s[word:i]
		if w == "" {
			return "empty word"
		}
		if !isLetter(w[0]) {
			return "word must start with a letter"
		}
		lower, upper := false, false
		for j := 0; j < len(w); j++ {
			lower = lower || w[j] >= 'a' && w[j] <= 'z'
			upper = upper || w[j] >= 'A' && w[j] <= 'Z'
		}
		if lower && upper {
			return "word mixes upper and lower case"
		}
		word = i + 1
	}
	return ""
}
