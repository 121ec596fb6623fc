package manifest

import (
	"fmt"
	"sort"
	"strings"
)

// Error renders as "file:line:column: message", the form editors and
// terminals turn into links.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d:%d", e.Pos.Line, e.Pos.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Error renders one problem per line, in file order.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors puts errors in file order; errors without a position first.
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return es[i].Msg < es[j].Msg
	})
}

// reporter collects the problems of one manifest, so that a user sees all
// of them at once rather than one per run.
type reporter struct {
	file string
	errs Errors
}

func (r *reporter) at(pos Position, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}
