package runtimeconfig

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Table is one table of a section, read strictly: its getters record a
// mistyped field, and Strict every field it does not allow, as errors that
// begin with Where; Err joins them. A factor reads the fields it knows,
// calls Strict, and reports Err.
type Table struct {
	// Label is <label> of a [section.<label>] table ("" for other tables).
	Label string
	// Where names the table in its errors, for example
	// "runtime config: [key_value_store.cache]".
	Where string

	fields map[string]any
	errs   []error
}

// NewTable returns fields, a table decoded from the runtime config, as a
// Table whose errors begin with where.
func NewTable(where string, fields map[string]any) *Table {
	return &Table{Where: where, fields: fields}
}

// TakeTable takes section as a single [section] table. It returns nil and
// no error when the file has no such section, and the error
// "runtime config: <section> must be a table" when it is not a table.
func (c *Config) TakeTable(section string) (*Table, error) {
	raw, ok := c.Take(section)
	if !ok {
		return nil, nil
	}
	fields, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("runtime config: %s must be a table", section)
	}
	return NewTable(fmt.Sprintf("runtime config: [%s]", section), fields), nil
}

// TakeLabelled takes section as labelled tables, [section.<label>], and
// calls read with each, in label order. It returns every error: the
// section or a label not being a table, and what each read recorded on
// its table (a read that fails just records an error and returns). A file
// without the section calls read never and returns nil.
func (c *Config) TakeLabelled(section string, read func(*Table)) error {
	raw, ok := c.Take(section)
	if !ok {
		return nil
	}
	tables, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("runtime config: %s must be a table of [%s.<label>] tables", section, section)
	}
	var errs []error
	for _, label := range slices.Sorted(maps.Keys(tables)) {
		where := fmt.Sprintf("runtime config: [%s.%s]", section, label)
		fields, ok := tables[label].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: must be a table", where))
			continue
		}
		t := NewTable(where, fields)
		t.Label = label
		read(t)
		errs = append(errs, t.Err())
	}
	return errors.Join(errs...)
}

// Has reports whether the table sets field.
func (t *Table) Has(field string) bool {
	_, ok := t.fields[field]
	return ok
}

// Value returns field's value as decoded (string, int64, float64, bool,
// map[string]any, []any ...), for fields the other getters do not cover.
func (t *Table) Value(field string) (v any, ok bool) {
	v, ok = t.fields[field]
	return v, ok
}

// String returns field. ok is false when the field is absent, or is not
// a string, which records "<where>: <field> must be a string".
func (t *Table) String(field string) (s string, ok bool) {
	v, present := t.fields[field]
	if !present {
		return "", false
	}
	if s, ok = v.(string); !ok {
		t.Errorf("%s must be a string", field)
	}
	return s, ok
}

// Bool returns field. ok is false when the field is absent, or is not a
// boolean, which records "<where>: <field> must be true or false".
func (t *Table) Bool(field string) (b bool, ok bool) {
	v, present := t.fields[field]
	if !present {
		return false, false
	}
	if b, ok = v.(bool); !ok {
		t.Errorf("%s must be true or false", field)
	}
	return b, ok
}

// Int returns field. ok is false when the field is absent, or is not an
// integer from lo to hi, which records "<where>: <field> must be an
// integer from <lo> to <hi>".
func (t *Table) Int(field string, lo, hi int64) (n int64, ok bool) {
	v, present := t.fields[field]
	if !present {
		return 0, false
	}
	if n, ok = v.(int64); !ok || n < lo || n > hi {
		t.Errorf("%s must be an integer from %d to %d", field, lo, hi)
		return 0, false
	}
	return n, true
}

// Strict records every field not in allowed, in sorted order:
// "<where>: unknown field "f" (allowed: a, b)", or with typ not empty
// "<where>: unknown field "f" for type "typ" (allowed: a, b)".
func (t *Table) Strict(typ string, allowed ...string) {
	forType := ""
	if typ != "" {
		forType = fmt.Sprintf(" for type %q", typ)
	}
	for _, field := range slices.Sorted(maps.Keys(t.fields)) {
		if !slices.Contains(allowed, field) {
			t.Errorf("unknown field %q%s (allowed: %s)", field, forType, strings.Join(allowed, ", "))
		}
	}
}

// Errorf records the error "<where>: <message>".
func (t *Table) Errorf(format string, args ...any) {
	t.errs = append(t.errs, fmt.Errorf("%s: %w", t.Where, fmt.Errorf(format, args...)))
}

// Err returns the errors recorded so far, joined; nil when there are none.
func (t *Table) Err() error {
	return errors.Join(t.errs...)
}
