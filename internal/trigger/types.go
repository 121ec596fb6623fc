package trigger

import (
	"fmt"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

// compareFunc explains how got differs from want structurally ("" when
// they agree). Names of types and parameters do not matter to the
// canonical ABI, so only shapes (and field, case and label names, which
// are part of a type's identity) are compared.
func compareFunc(got, want *cabi.FuncType) string {
	if len(got.Params) != len(want.Params) {
		return fmt.Sprintf("it takes %d parameters, want %d", len(got.Params), len(want.Params))
	}
	for i := range got.Params {
		if why := compareType(got.Params[i].Type, want.Params[i].Type); why != "" {
			return fmt.Sprintf("parameter %d: %s", i+1, why)
		}
	}
	if len(got.Results) != len(want.Results) {
		return fmt.Sprintf("it has %d results, want %d", len(got.Results), len(want.Results))
	}
	for i := range got.Results {
		if why := compareType(got.Results[i].Type, want.Results[i].Type); why != "" {
			return "result: " + why
		}
	}
	return ""
}

func compareType(a, b *cabi.Type) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return "a payload is missing or unexpected"
	}
	if a.Kind != b.Kind {
		return fmt.Sprintf("%s where %s is expected", a.Kind, b.Kind)
	}
	switch a.Kind {
	case cabi.KindList, cabi.KindOption:
		return compareType(a.Elem, b.Elem)
	case cabi.KindResult:
		if why := compareType(a.Ok, b.Ok); why != "" {
			return "ok: " + why
		}
		if why := compareType(a.Err, b.Err); why != "" {
			return "error: " + why
		}
	case cabi.KindRecord:
		if len(a.Fields) != len(b.Fields) {
			return fmt.Sprintf("record with %d fields where %d are expected", len(a.Fields), len(b.Fields))
		}
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name {
				return fmt.Sprintf("record field %q where %q is expected", a.Fields[i].Name, b.Fields[i].Name)
			}
			if why := compareType(a.Fields[i].Type, b.Fields[i].Type); why != "" {
				return fmt.Sprintf("field %q: %s", a.Fields[i].Name, why)
			}
		}
	case cabi.KindTuple:
		if len(a.Types) != len(b.Types) {
			return "tuple of another length"
		}
		for i := range a.Types {
			if why := compareType(a.Types[i], b.Types[i]); why != "" {
				return why
			}
		}
	case cabi.KindVariant:
		if len(a.Cases) != len(b.Cases) {
			return fmt.Sprintf("variant with %d cases where %d are expected", len(a.Cases), len(b.Cases))
		}
		for i := range a.Cases {
			if a.Cases[i].Name != b.Cases[i].Name {
				return fmt.Sprintf("variant case %q where %q is expected", a.Cases[i].Name, b.Cases[i].Name)
			}
			if why := compareType(a.Cases[i].Type, b.Cases[i].Type); why != "" {
				return fmt.Sprintf("case %q: %s", a.Cases[i].Name, why)
			}
		}
	case cabi.KindEnum, cabi.KindFlags:
		if len(a.Labels) != len(b.Labels) {
			return fmt.Sprintf("%s with %d labels where %d are expected", a.Kind, len(a.Labels), len(b.Labels))
		}
		for i := range a.Labels {
			if a.Labels[i] != b.Labels[i] {
				return fmt.Sprintf("label %q where %q is expected", a.Labels[i], b.Labels[i])
			}
		}
	case cabi.KindOwn, cabi.KindBorrow:
		return "resources are not expected here"
	}
	return ""
}

// InterfaceFunc returns the export of function fn of interface iface as
// the embedded WIT definitions declare it. It panics if they do not: the
// definitions are compiled in, so that is a build defect.
func InterfaceFunc(iface, fn string) Export {
	i, ok := wit.Builtin().Interface(iface)
	if !ok || i.Funcs[fn] == nil {
		panic(fmt.Sprintf("trigger: no WIT definition of %s#%s", iface, fn))
	}
	return Export{Interface: iface, Func: fn, Type: i.Funcs[fn].Type}
}

// WorldFunc returns the world-level function fn that world exports, as the
// embedded WIT definitions declare it. It panics if they do not.
func WorldFunc(world, fn string) Export {
	if w, ok := wit.Builtin().World(world); ok {
		for _, it := range w.Exports {
			if it.Func != nil && it.Name == fn {
				return Export{Func: fn, Type: it.Func.Type}
			}
		}
	}
	panic(fmt.Sprintf("trigger: no WIT definition of world %s exporting %s", world, fn))
}
