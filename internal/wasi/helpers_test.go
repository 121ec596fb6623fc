package wasi

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

var (
	funcsOnce sync.Once
	funcs     map[string]component.HostFunc // by "iface#func", iface without version
)

func hostFunc(t *testing.T, name string) component.HostFunc {
	t.Helper()
	funcsOnce.Do(func() {
		funcs = map[string]component.HostFunc{}
		for _, i := range Interfaces() {
			base := strings.TrimSuffix(i.Name, version)
			for n, f := range i.Funcs {
				funcs[base+"#"+n] = f
			}
		}
	})
	f, ok := funcs[name]
	if !ok {
		t.Fatalf("no host function %s", name)
	}
	return f
}

// call invokes a host function as the linker would and checks that both
// its arguments and its results have the representation its WIT type
// demands, so tests also catch a result shaped wrongly for the canonical
// ABI. name is "wasi:io/streams#[method]input-stream.read".
func call(t *testing.T, ctx context.Context, name string, args ...any) ([]any, error) {
	t.Helper()
	ifc, fn, _ := strings.Cut(name, "#")
	ft, ok := wit.Builtin().Func(ifc+version, fn)
	if !ok {
		t.Fatalf("%s is not in the WIT", name)
	}
	if len(args) != len(ft.Params) {
		t.Fatalf("%s: %d args, WIT has %d params", name, len(args), len(ft.Params))
	}
	for i, p := range ft.Params {
		if err := conforms(p.Type, args[i]); err != nil {
			t.Fatalf("%s: argument %s: %v", name, p.Name, err)
		}
	}
	res, err := hostFunc(t, name)(ctx, &component.Call{}, args)
	if err != nil {
		return nil, err
	}
	if len(res) != len(ft.Results) {
		t.Fatalf("%s: %d results, WIT has %d", name, len(res), len(ft.Results))
	}
	for i, r := range ft.Results {
		if err := conforms(r.Type, res[i]); err != nil {
			t.Fatalf("%s: result %d: %v (%#v)", name, i, err, res[i])
		}
	}
	return res, nil
}

// call1 is call for functions that must not fail, returning the one result.
func call1(t *testing.T, ctx context.Context, name string, args ...any) any {
	t.Helper()
	res, err := call(t, ctx, name, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res) != 1 {
		t.Fatalf("%s: %d results", name, len(res))
	}
	return res[0]
}

// ok unwraps result::ok, failing on err.
func ok(t *testing.T, v any) any {
	t.Helper()
	r, isRes := v.(cabi.Result)
	if !isRes || r.IsErr {
		t.Fatalf("want ok, got %#v", v)
	}
	return r.Value
}

// errOf unwraps result::err, failing on ok.
func errOf(t *testing.T, v any) any {
	t.Helper()
	r, isRes := v.(cabi.Result)
	if !isRes || !r.IsErr {
		t.Fatalf("want err, got %#v", v)
	}
	return r.Value
}

// conforms reports whether v is the Go representation of a value of type
// ty (internal/component/cabi's table).
func conforms(ty *cabi.Type, v any) error {
	want := func(ok bool) error {
		if !ok {
			return fmt.Errorf("%T is not a %s", v, kindName(ty))
		}
		return nil
	}
	switch ty.Kind {
	case cabi.KindBool:
		_, ok := v.(bool)
		return want(ok)
	case cabi.KindS8:
		_, ok := v.(int8)
		return want(ok)
	case cabi.KindU8:
		_, ok := v.(uint8)
		return want(ok)
	case cabi.KindS16:
		_, ok := v.(int16)
		return want(ok)
	case cabi.KindU16:
		_, ok := v.(uint16)
		return want(ok)
	case cabi.KindS32:
		_, ok := v.(int32)
		return want(ok)
	case cabi.KindU32:
		_, ok := v.(uint32)
		return want(ok)
	case cabi.KindS64:
		_, ok := v.(int64)
		return want(ok)
	case cabi.KindU64:
		_, ok := v.(uint64)
		return want(ok)
	case cabi.KindF32:
		_, ok := v.(float32)
		return want(ok)
	case cabi.KindF64:
		_, ok := v.(float64)
		return want(ok)
	case cabi.KindChar:
		_, ok := v.(rune)
		return want(ok)
	case cabi.KindString:
		_, ok := v.(string)
		return want(ok)
	case cabi.KindList:
		if ty.Elem.Kind == cabi.KindU8 {
			_, ok := v.([]byte)
			return want(ok)
		}
		l, ok := v.([]any)
		if !ok {
			return want(false)
		}
		for i, e := range l {
			if err := conforms(ty.Elem, e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case cabi.KindRecord, cabi.KindTuple:
		l, ok := v.([]any)
		if !ok {
			return want(false)
		}
		types := ty.Types
		if ty.Kind == cabi.KindRecord {
			types = nil
			for _, f := range ty.Fields {
				types = append(types, f.Type)
			}
		}
		if len(l) != len(types) {
			return fmt.Errorf("%d fields, want %d", len(l), len(types))
		}
		for i, e := range l {
			if err := conforms(types[i], e); err != nil {
				return fmt.Errorf("field %d: %w", i, err)
			}
		}
	case cabi.KindVariant:
		x, ok := v.(cabi.Variant)
		if !ok || int(x.Case) >= len(ty.Cases) {
			return want(false)
		}
		return payload(ty.Cases[x.Case].Type, x.Value)
	case cabi.KindEnum:
		x, ok := v.(uint32)
		return want(ok && int(x) < len(ty.Labels))
	case cabi.KindFlags:
		x, ok := v.(uint32)
		return want(ok && x>>len(ty.Labels) == 0)
	case cabi.KindOption:
		x, ok := v.(cabi.Option)
		if !ok {
			return want(false)
		}
		if x.Some {
			return conforms(ty.Elem, x.Value)
		}
	case cabi.KindResult:
		x, ok := v.(cabi.Result)
		if !ok {
			return want(false)
		}
		if x.IsErr {
			return payload(ty.Err, x.Value)
		}
		return payload(ty.Ok, x.Value)
	case cabi.KindOwn, cabi.KindBorrow:
		return want(v != nil)
	default:
		return fmt.Errorf("unknown kind %d", ty.Kind)
	}
	return nil
}

func payload(ty *cabi.Type, v any) error {
	if ty == nil {
		if v != nil {
			return fmt.Errorf("payload %#v where the type has none", v)
		}
		return nil
	}
	return conforms(ty, v)
}

func kindName(ty *cabi.Type) string {
	if ty.Name != "" {
		return ty.Name
	}
	return fmt.Sprintf("kind %d", ty.Kind)
}
