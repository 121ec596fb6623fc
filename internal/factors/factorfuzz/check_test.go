package factorfuzz

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// checkValue reports how v differs from the Go representation of type t
// (internal/component/cabi/types.go), or nil. path names the position.
func checkValue(v any, t *cabi.Type, path string) error {
	bad := func() error { return fmt.Errorf("%s: %T is not a %s", path, v, t.Kind) }
	switch t.Kind {
	case cabi.KindBool:
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case cabi.KindS8:
		if _, ok := v.(int8); !ok {
			return bad()
		}
	case cabi.KindU8:
		if _, ok := v.(uint8); !ok {
			return bad()
		}
	case cabi.KindS16:
		if _, ok := v.(int16); !ok {
			return bad()
		}
	case cabi.KindU16:
		if _, ok := v.(uint16); !ok {
			return bad()
		}
	case cabi.KindS32:
		if _, ok := v.(int32); !ok {
			return bad()
		}
	case cabi.KindU32:
		if _, ok := v.(uint32); !ok {
			return bad()
		}
	case cabi.KindS64:
		if _, ok := v.(int64); !ok {
			return bad()
		}
	case cabi.KindU64:
		if _, ok := v.(uint64); !ok {
			return bad()
		}
	case cabi.KindF32:
		if _, ok := v.(float32); !ok {
			return bad()
		}
	case cabi.KindF64:
		if _, ok := v.(float64); !ok {
			return bad()
		}
	case cabi.KindChar:
		r, ok := v.(rune)
		if !ok {
			return bad()
		}
		if !utf8.ValidRune(r) {
			return fmt.Errorf("%s: char %#x is not a Unicode scalar value", path, r)
		}
	case cabi.KindString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("%s: string is not valid UTF-8: %q", path, trunc(s))
		}
	case cabi.KindList:
		if t.Elem.Kind == cabi.KindU8 {
			if _, ok := v.([]byte); !ok {
				return bad()
			}
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		for i, e := range l {
			if err := checkValue(e, t.Elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case cabi.KindRecord:
		l, ok := v.([]any)
		if !ok || len(l) != len(t.Fields) {
			return fmt.Errorf("%s: %T (%d fields?) is not record %s of %d fields", path, v, len(l), t.Name, len(t.Fields))
		}
		for i, f := range t.Fields {
			if err := checkValue(l[i], f.Type, path+"."+f.Name); err != nil {
				return err
			}
		}
	case cabi.KindTuple:
		l, ok := v.([]any)
		if !ok || len(l) != len(t.Types) {
			return fmt.Errorf("%s: %T is not a tuple of %d", path, v, len(t.Types))
		}
		for i, et := range t.Types {
			if err := checkValue(l[i], et, fmt.Sprintf("%s.%d", path, i)); err != nil {
				return err
			}
		}
	case cabi.KindVariant:
		vr, ok := v.(cabi.Variant)
		if !ok {
			return bad()
		}
		if int(vr.Case) >= len(t.Cases) {
			return fmt.Errorf("%s: variant %s case %d out of %d", path, t.Name, vr.Case, len(t.Cases))
		}
		c := t.Cases[vr.Case]
		return checkPayload(vr.Value, c.Type, path+"<"+c.Name+">")
	case cabi.KindEnum:
		i, ok := v.(uint32)
		if !ok {
			return bad()
		}
		if int(i) >= len(t.Labels) {
			return fmt.Errorf("%s: enum %s case %d out of %d", path, t.Name, i, len(t.Labels))
		}
	case cabi.KindOption:
		o, ok := v.(cabi.Option)
		if !ok {
			return bad()
		}
		if o.Some {
			return checkValue(o.Value, t.Elem, path+"?")
		}
		if o.Value != nil {
			return fmt.Errorf("%s: none carries %T", path, o.Value)
		}
	case cabi.KindResult:
		r, ok := v.(cabi.Result)
		if !ok {
			return bad()
		}
		if r.IsErr {
			return checkPayload(r.Value, t.Err, path+"<err>")
		}
		return checkPayload(r.Value, t.Ok, path+"<ok>")
	case cabi.KindFlags:
		f, ok := v.(uint32)
		if !ok {
			return bad()
		}
		if len(t.Labels) < 32 && f>>len(t.Labels) != 0 {
			return fmt.Errorf("%s: flags %#x set bits beyond %d labels", path, f, len(t.Labels))
		}
	case cabi.KindOwn, cabi.KindBorrow:
		if v == nil {
			return fmt.Errorf("%s: nil %s<%s>", path, t.Kind, t.Resource.Name)
		}
	default:
		return fmt.Errorf("%s: unknown kind %s", path, t.Kind)
	}
	return nil
}

// checkPayload checks a variant case's or result side's payload; nil
// type means none.
func checkPayload(v any, t *cabi.Type, path string) error {
	if t == nil {
		if v != nil {
			return fmt.Errorf("%s: no payload expected, got %T", path, v)
		}
		return nil
	}
	return checkValue(v, t, path)
}

// checkResults checks a host function's results against its WIT results.
func checkResults(res []any, ft *cabi.FuncType) error {
	if len(res) != len(ft.Results) {
		return fmt.Errorf("%d results for %d result types", len(res), len(ft.Results))
	}
	for i, r := range ft.Results {
		if err := checkValue(res[i], r.Type, fmt.Sprintf("result%d", i)); err != nil {
			return err
		}
	}
	return nil
}

// owns returns the own<R> values inside v of type t, with their resource.
func owns(v any, t *cabi.Type, out func(*cabi.Resource, any)) {
	if t == nil || v == nil {
		return
	}
	switch t.Kind {
	case cabi.KindOwn:
		out(t.Resource, v)
	case cabi.KindList:
		if l, ok := v.([]any); ok {
			for _, e := range l {
				owns(e, t.Elem, out)
			}
		}
	case cabi.KindRecord:
		if l, ok := v.([]any); ok && len(l) == len(t.Fields) {
			for i, f := range t.Fields {
				owns(l[i], f.Type, out)
			}
		}
	case cabi.KindTuple:
		if l, ok := v.([]any); ok && len(l) == len(t.Types) {
			for i, et := range t.Types {
				owns(l[i], et, out)
			}
		}
	case cabi.KindVariant:
		if vr, ok := v.(cabi.Variant); ok && int(vr.Case) < len(t.Cases) {
			owns(vr.Value, t.Cases[vr.Case].Type, out)
		}
	case cabi.KindOption:
		if o, ok := v.(cabi.Option); ok && o.Some {
			owns(o.Value, t.Elem, out)
		}
	case cabi.KindResult:
		if r, ok := v.(cabi.Result); ok {
			if r.IsErr {
				owns(r.Value, t.Err, out)
			} else {
				owns(r.Value, t.Ok, out)
			}
		}
	}
}

// hasHandle reports whether values of t contain resource handles.
func hasHandle(t *cabi.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case cabi.KindOwn, cabi.KindBorrow:
		return true
	case cabi.KindList, cabi.KindOption:
		return hasHandle(t.Elem)
	case cabi.KindRecord:
		for _, f := range t.Fields {
			if hasHandle(f.Type) {
				return true
			}
		}
	case cabi.KindTuple:
		for _, et := range t.Types {
			if hasHandle(et) {
				return true
			}
		}
	case cabi.KindVariant:
		for _, c := range t.Cases {
			if hasHandle(c.Type) {
				return true
			}
		}
	case cabi.KindResult:
		return hasHandle(t.Ok) || hasHandle(t.Err)
	}
	return false
}

// format renders arguments for a failure report, shortening big values.
func format(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = formatValue(a)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", trunc(x))
	case []byte:
		if len(x) > 64 {
			return fmt.Sprintf("[]byte(len %d, starting %q)", len(x), x[:64])
		}
		return fmt.Sprintf("[]byte(%q)", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case cabi.Variant:
		return fmt.Sprintf("variant{%d %s}", x.Case, formatValue(x.Value))
	case cabi.Option:
		if !x.Some {
			return "none"
		}
		return "some(" + formatValue(x.Value) + ")"
	case cabi.Result:
		if x.IsErr {
			return "err(" + formatValue(x.Value) + ")"
		}
		return "ok(" + formatValue(x.Value) + ")"
	case nil:
		return "nil"
	}
	switch v.(type) {
	case bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64:
		return fmt.Sprintf("%T(%v)", v, v)
	}
	return fmt.Sprintf("<%T handle>", v)
}

func trunc(s string) string {
	if len(s) > 200 {
		return s[:200] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}
