package http

import (
	"errors"
	"fmt"
	"strings"
)

// This file implements Spin's route patterns. Spin delegates matching to the
// routefinder crate (v0.5.4), so "Spin's rules" are routefinder's rules, and
// they are reproduced here segment for segment: same parse, same precedence,
// same matching, including their quirks (a route "/a/b" also matches
// "/a/b/"; an exact segment is matched by prefix and the rest must then be
// consumed by the following segments). Apps that route correctly on Spin
// route identically here.

// segKind is the kind of one parsed piece of a pattern.
type segKind uint8

const (
	segSlash    segKind = iota // "/" between two segments: matches one '/'
	segDot                     // "." after a param or wildcard: matches one '.'
	segExact                   // literal text, matched by prefix
	segParam                   // ":name": captures up to the next '/' (or '.', see match)
	segWildcard                // "*": captures the rest of the path; last segment only
)

type segment struct {
	kind segKind
	// text is the literal for segExact and the name for segParam.
	text string
}

// pattern is a parsed route pattern.
type pattern struct {
	segs []segment
	dots int // number of segDot segments: a precedence tie-breaker
}

// parsePattern parses a routefinder route spec ("/users/:id/*").
//
// The spec is trimmed of leading and trailing slashes and cut at every '/'
// and '.'. Empty pieces vanish (so "a//b" is "a/b"); a '.' glues onto a
// preceding literal ("a.b" is the literal "a." then the literal "b") and is
// its own segDot otherwise.
func parsePattern(spec string) (pattern, error) {
	s := strings.TrimRight(strings.TrimLeft(spec, "/"), "/")
	var p pattern
	start := 0
	for start <= len(s) {
		end := start + strings.IndexAny(s[start:], "./")
		if end < start {
			end = len(s)
		}
		section := s[start:end]
		var sep byte // the separator before this section; 0 for the first
		if start > 0 {
			sep = s[start-1]
		}

		var seg segment
		has := true
		switch {
		case section == "":
			has = false
		case section == "*":
			seg = segment{kind: segWildcard}
		case section[0] == '*':
			return pattern{}, fmt.Errorf("since there can only be one wildcard, it doesn't need a name. replace `%s` with `*`", section)
		case section == ":":
			return pattern{}, errors.New("params must be named")
		case section[0] == ':':
			seg = segment{kind: segParam, text: section[1:]}
		default:
			seg = segment{kind: segExact, text: section}
		}

		if sep == '.' {
			if n := len(p.segs); n > 0 && p.segs[n-1].kind == segExact {
				p.segs[n-1].text += "."
			} else {
				p.segs = append(p.segs, segment{kind: segDot})
				p.dots++
			}
		}
		if has {
			if sep == '/' {
				p.segs = append(p.segs, segment{kind: segSlash})
			}
			p.segs = append(p.segs, seg)
		}
		start = end + 1
	}

	// routefinder panics while matching a request if a wildcard is not the
	// last segment; refusing the route up front is the only sane reading.
	for i, seg := range p.segs {
		if seg.kind == segWildcard && i != len(p.segs)-1 {
			return pattern{}, errors.New("a wildcard must be the last segment of a route")
		}
	}
	return p, nil
}

// cmpKind orders segment kinds by specificity as routefinder does:
// literal > param > wildcard > slash = dot. routefinder also ranks a dot
// above every non-separator kind when the dot is on the left (and below it on
// the right); that asymmetry only matters for insertion order and is kept.
func cmpKind(a, b segKind) int {
	sepA := a == segSlash || a == segDot
	sepB := b == segSlash || b == segDot
	switch {
	case sepA && sepB, a == b:
		return 0
	case a == segDot:
		return 1
	case a == segExact:
		return 1
	case a == segParam:
		if b == segExact {
			return -1
		}
		return 1
	case a == segWildcard:
		if b == segExact || b == segParam {
			return -1
		}
		return 1
	default: // a slash against a literal, param or wildcard
		return -1
	}
}

// before reports whether the new pattern p takes precedence over an existing
// pattern q. Patterns are compared segment by segment (first difference in
// kind wins, the more specific kind first), then by more dots, then by fewer
// segments. Patterns that tie keep insertion order: the earlier one wins.
func (p *pattern) before(q *pattern) bool {
	n := min(len(p.segs), len(q.segs))
	for i := 0; i < n; i++ {
		if c := cmpKind(p.segs[i].kind, q.segs[i].kind); c != 0 {
			return c > 0
		}
	}
	if p.dots != q.dots {
		return p.dots > q.dots
	}
	return len(p.segs) < len(q.segs)
}

// sameAs reports whether p and q match exactly the same paths: same
// segments, ignoring parameter names.
func (p *pattern) sameAs(q *pattern) bool {
	if len(p.segs) != len(q.segs) {
		return false
	}
	for i := range p.segs {
		a, b := p.segs[i], q.segs[i]
		if a.kind != b.kind || (a.kind == segExact && a.text != b.text) {
			return false
		}
	}
	return true
}

// match matches path against p. Captured parameter values are appended to
// params; wildcardAt is the offset in path of the text captured by a
// wildcard (-1 if p has none; the capture runs to the end of the trimmed
// path, trimmedEnd). Captures are substrings of path, so matching does not
// allocate unless params must grow.
func (p *pattern) match(path string, params []Param) (_ []Param, wildcardAt, trimmedEnd int, ok bool) {
	lo, hi := 0, len(path)
	for lo < hi && path[lo] == '/' {
		lo++
	}
	for hi > lo && path[hi-1] == '/' {
		hi--
	}
	wildcardAt = -1
	i := lo
	for k, seg := range p.segs {
		rest := path[i:hi]
		switch seg.kind {
		case segExact:
			if !strings.HasPrefix(rest, seg.text) {
				return params, -1, 0, false
			}
			i += len(seg.text)
		case segParam:
			if rest == "" {
				return params, -1, 0, false
			}
			var n int
			if k+1 < len(p.segs) && p.segs[k+1].kind == segDot {
				// The value runs to the next '.', which the dot then
				// consumes; a '/' first means no match.
				n = strings.IndexAny(rest, "./")
				if n < 0 || rest[n] != '.' {
					return params, -1, 0, false
				}
			} else if n = strings.IndexByte(rest, '/'); n < 0 {
				n = len(rest)
			}
			params = append(params, Param{Name: seg.text, Value: rest[:n]})
			i += n
		case segWildcard:
			wildcardAt = i
			i = hi
		case segSlash:
			// A slash must be followed by a segment (the parser
			// guarantees it). At the end of the path it is optional
			// before a wildcard, which is how "/foo/*" matches "/foo".
			switch {
			case rest != "" && rest[0] == '/':
				i++
			case rest == "" && p.segs[k+1].kind == segWildcard:
			default:
				return params, -1, 0, false
			}
		case segDot:
			if rest == "" || rest[0] != '.' {
				return params, -1, 0, false
			}
			i++
		}
	}
	if rest := path[i:hi]; rest != "" && rest != "/" {
		return params, -1, 0, false
	}
	return params, wildcardAt, hi, true
}
