package component

import (
	"fmt"

	"github.com/wisp-dev/wisp/internal/component/binary"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// primTypes are the shared cabi types of the primitive value types.
var primTypes = func() map[binary.PrimType]*cabi.Type {
	m := map[binary.PrimType]cabi.Kind{
		binary.PrimBool: cabi.KindBool, binary.PrimS8: cabi.KindS8, binary.PrimU8: cabi.KindU8,
		binary.PrimS16: cabi.KindS16, binary.PrimU16: cabi.KindU16, binary.PrimS32: cabi.KindS32,
		binary.PrimU32: cabi.KindU32, binary.PrimS64: cabi.KindS64, binary.PrimU64: cabi.KindU64,
		binary.PrimF32: cabi.KindF32, binary.PrimF64: cabi.KindF64, binary.PrimChar: cabi.KindChar,
		binary.PrimString: cabi.KindString,
	}
	out := make(map[binary.PrimType]*cabi.Type, len(m))
	for p, k := range m {
		out[p] = &cabi.Type{Kind: k}
	}
	return out
}()

// valType converts a value type use in scope sc.
func (sc *scope) valType(vt binary.ValType) (*cabi.Type, error) {
	if vt.Prim != 0 {
		t, ok := primTypes[vt.Prim]
		if !ok {
			return nil, fmt.Errorf("value type %s is not supported", vt.Prim)
		}
		return t, nil
	}
	tv, err := sc.typ(vt.Index)
	if err != nil {
		return nil, err
	}
	if tv.val == nil {
		return nil, fmt.Errorf("type %d is not a value type", vt.Index)
	}
	return tv.val, nil
}

func (sc *scope) optValType(vt *binary.ValType) (*cabi.Type, error) {
	if vt == nil {
		return nil, nil
	}
	return sc.valType(*vt)
}

// defValType converts a defined value type to its canonical ABI type.
func (sc *scope) defValType(d *binary.DefValType) (*cabi.Type, error) {
	var err error
	t := &cabi.Type{}
	switch d.Kind {
	case binary.DefPrim:
		return sc.valType(binary.ValType{Prim: d.Prim})
	case binary.DefRecord:
		t.Kind = cabi.KindRecord
		t.Fields = make([]cabi.Field, len(d.Fields))
		for i, f := range d.Fields {
			t.Fields[i].Name = f.Name
			if t.Fields[i].Type, err = sc.valType(f.Type); err != nil {
				return nil, err
			}
		}
	case binary.DefVariant:
		t.Kind = cabi.KindVariant
		t.Cases = make([]cabi.Case, len(d.Cases))
		for i, c := range d.Cases {
			t.Cases[i].Name = c.Name
			if t.Cases[i].Type, err = sc.optValType(c.Type); err != nil {
				return nil, err
			}
		}
	case binary.DefList:
		t.Kind = cabi.KindList
		if t.Elem, err = sc.valType(d.Elem); err != nil {
			return nil, err
		}
	case binary.DefOption:
		t.Kind = cabi.KindOption
		if t.Elem, err = sc.valType(d.Elem); err != nil {
			return nil, err
		}
	case binary.DefTuple:
		t.Kind = cabi.KindTuple
		t.Types = make([]*cabi.Type, len(d.Types))
		for i, e := range d.Types {
			if t.Types[i], err = sc.valType(e); err != nil {
				return nil, err
			}
		}
	case binary.DefFlags:
		t.Kind = cabi.KindFlags
		t.Labels = d.Labels
	case binary.DefEnum:
		t.Kind = cabi.KindEnum
		t.Labels = d.Labels
	case binary.DefResult:
		t.Kind = cabi.KindResult
		if t.Ok, err = sc.optValType(d.Ok); err != nil {
			return nil, err
		}
		if t.Err, err = sc.optValType(d.Err); err != nil {
			return nil, err
		}
	case binary.DefOwn, binary.DefBorrow:
		t.Kind = cabi.KindOwn
		if d.Kind == binary.DefBorrow {
			t.Kind = cabi.KindBorrow
		}
		tv, err := sc.typ(d.Resource)
		if err != nil {
			return nil, err
		}
		if tv.res == nil {
			return nil, fmt.Errorf("%s of type %d, which is not a resource", d.Kind, d.Resource)
		}
		t.Resource = tv.res
		t.Name = tv.res.Name
	default:
		return nil, fmt.Errorf("value type %s is not supported", d.Kind)
	}
	if err := cabi.ValidateType(t); err != nil {
		return nil, err
	}
	return t, nil
}

// funcType converts a component function type.
func (sc *scope) funcType(f *binary.FuncType) (*cabi.FuncType, error) {
	if f.Async {
		return nil, fmt.Errorf("async functions are not supported")
	}
	ft := &cabi.FuncType{Params: make([]cabi.Param, len(f.Params))}
	for i, p := range f.Params {
		t, err := sc.valType(p.Type)
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", p.Name, err)
		}
		ft.Params[i] = cabi.Param{Name: p.Name, Type: t}
	}
	if f.Result != nil {
		t, err := sc.valType(*f.Result)
		if err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		ft.Results = []cabi.Param{{Type: t}}
	}
	for _, r := range f.NamedResults {
		t, err := sc.valType(r.Type)
		if err != nil {
			return nil, fmt.Errorf("result %q: %w", r.Name, err)
		}
		ft.Results = append(ft.Results, cabi.Param{Name: r.Name, Type: t})
	}
	return ft, nil
}

// coreTypesOf maps flattened canonical ABI types to engine value types.
func coreTypesOf(ts []cabi.CoreType) []engineValueType {
	out := make([]engineValueType, len(ts))
	for i, t := range ts {
		switch t {
		case cabi.I32:
			out[i] = vtI32
		case cabi.I64:
			out[i] = vtI64
		case cabi.F32:
			out[i] = vtF32
		case cabi.F64:
			out[i] = vtF64
		}
	}
	return out
}

// sameCoreSig reports whether a core function type has exactly the given
// parameter and result types.
func sameCoreSig(f *binary.CoreFuncType, params, results []engineValueType) bool {
	if f == nil || len(f.Params) != len(params) || len(f.Results) != len(results) {
		return false
	}
	for i, p := range f.Params {
		if p.Code != byte(params[i]) {
			return false
		}
	}
	for i, r := range f.Results {
		if r.Code != byte(results[i]) {
			return false
		}
	}
	return true
}

func sigString(params, results []engineValueType) string {
	s := "("
	for i, p := range params {
		if i > 0 {
			s += " "
		}
		s += p.String()
	}
	s += ") -> ("
	for i, r := range results {
		if i > 0 {
			s += " "
		}
		s += r.String()
	}
	return s + ")"
}
