package manifest

import (
	"errors"
	"strings"
)

// Template is a string with {{ expression }} parts, Spin's syntax for
// values that refer to variables (component variables, allowed hosts, ...).
// An expression is a variable name; surrounding spaces are ignored.
type Template struct {
	parts []templatePart
}

type templatePart struct {
	text   string
	isExpr bool
}

// ParseTemplate splits s into literal text and {{ }} expressions.
// An unmatched "{{" is an error; a lone "}}" is literal text.
func ParseTemplate(s string) (Template, error) {
	var t Template
	for s != "" {
		if rest, ok := strings.CutPrefix(s, "{{"); ok {
			expr, after, found := strings.Cut(rest, "}}")
			if !found {
				return Template{}, errors.New("unmatched '{{' in template")
			}
			t.parts = append(t.parts, templatePart{text: strings.TrimSpace(expr), isExpr: true})
			s = after
			continue
		}
		lit := s
		if i := strings.Index(s, "{{"); i >= 0 {
			lit = s[:i]
		}
		t.parts = append(t.parts, templatePart{text: lit})
		s = s[len(lit):]
	}
	return t, nil
}

// IsLiteral reports whether the template has no expressions.
func (t Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.isExpr {
			return false
		}
	}
	return true
}

// Vars returns the expressions (variable names) in order of appearance.
func (t Template) Vars() []string {
	var vars []string
	for _, p := range t.parts {
		if p.isExpr {
			vars = append(vars, p.text)
		}
	}
	return vars
}

// Render substitutes every expression with lookup's answer.
func (t Template) Render(lookup func(name string) (string, error)) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.isExpr {
			b.WriteString(p.text)
			continue
		}
		v, err := lookup(p.text)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}
