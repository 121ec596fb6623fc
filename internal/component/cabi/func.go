package cabi

import "fmt"

// CanonDirection says which side of a function flatten_functype describes.
type CanonDirection uint8

const (
	// CanonLift is a guest export lifted for the host to call.
	CanonLift CanonDirection = iota
	// CanonLower is a host function lowered for the guest to import.
	CanonLower
)

// funcLayout is a function type's flattening, computed once.
type funcLayout struct {
	params, results         []*layout
	paramFlat, resultFlat   []CoreType
	paramTuple, resultTuple *layout // the spill tuples, when used
	err                     error
}

func (fl *funcLayout) spillParams() bool  { return len(fl.paramFlat) > MaxFlatParams }
func (fl *funcLayout) spillResults() bool { return len(fl.resultFlat) > MaxFlatResults }

func (ls *Layouts) fn(ft *FuncType) (*funcLayout, error) {
	if v, ok := ls.funcs.Load(ft); ok {
		fl := v.(*funcLayout)
		return fl, fl.err
	}
	fl := ls.buildFunc(ft)
	v, _ := ls.funcs.LoadOrStore(ft, fl)
	fl = v.(*funcLayout)
	return fl, fl.err
}

func (ls *Layouts) buildFunc(ft *FuncType) *funcLayout {
	fl := &funcLayout{}
	if ft == nil {
		fl.err = fmt.Errorf("cabi: nil function type")
		return fl
	}
	side := func(ps []Param, results bool) ([]*layout, []CoreType, *layout, error) {
		ls2 := make([]*layout, len(ps))
		ts := make([]*Type, len(ps))
		var flat []CoreType
		for i, p := range ps {
			l, err := ls.of(p.Type)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%q: %w", p.Name, err)
			}
			if results && l.hasBorrow {
				return nil, nil, nil, fmt.Errorf("cabi: result %q contains a borrow", p.Name)
			}
			ls2[i], ts[i] = l, p.Type
			flat = append(flat, l.flat...)
		}
		limit := MaxFlatParams
		if results {
			limit = MaxFlatResults
		}
		var tuple *layout
		if len(flat) > limit {
			// The spilled values are stored as tuple<ts...>.
			tuple = ls.compute(&Type{Kind: KindTuple, Types: ts}, nil)
			if tuple.err != nil {
				return nil, nil, nil, tuple.err
			}
		}
		return ls2, flat, tuple, nil
	}
	var err error
	if fl.params, fl.paramFlat, fl.paramTuple, err = side(ft.Params, false); err != nil {
		fl.err = err
		return fl
	}
	if fl.results, fl.resultFlat, fl.resultTuple, err = side(ft.Results, true); err != nil {
		fl.err = err
	}
	return fl
}

// FlattenFunc is flatten_functype(opts, ft, context) for a synchronous
// function and a 32-bit memory: the core signature of the lifted export
// (CanonLift) or of the lowered import (CanonLower).
func FlattenFunc(ft *FuncType, dir CanonDirection) (params, results []CoreType, err error) {
	fl, err := defaultLayouts.fn(ft)
	if err != nil {
		return nil, nil, err
	}
	params = append([]CoreType(nil), fl.paramFlat...)
	results = append([]CoreType(nil), fl.resultFlat...)
	if fl.spillParams() {
		params = []CoreType{I32}
	}
	if fl.spillResults() {
		if dir == CanonLift {
			results = []CoreType{I32}
		} else {
			params = append(params, I32)
			results = nil
		}
	}
	return params, results, nil
}

// LiftParams lifts the arguments of a guest's call to a host function
// (canon lower, on_start: lift_flat_values(cx, MAX_FLAT_PARAMS, …)). flat
// holds the core arguments as the guest passed them, including the return
// pointer when there is one. Borrows are lent to cx.Call.
func LiftParams(cx *Context, ft *FuncType, flat []uint64) ([]any, error) {
	fl, err := cx.layouts().fn(ft)
	if err != nil {
		return nil, err
	}
	r := FlatReader{vals: flat}
	return liftValues(cx, fl.params, fl.paramTuple, &r)
}

// LiftResults lifts the results of a call to a guest export (canon lift:
// lift_flat_values(cx, MAX_FLAT_RESULTS, …)); when the results do not fit
// in one core value, flat[0] points to them.
func LiftResults(cx *Context, ft *FuncType, flat []uint64) ([]any, error) {
	fl, err := cx.layouts().fn(ft)
	if err != nil {
		return nil, err
	}
	r := FlatReader{vals: flat}
	return liftValues(cx, fl.results, fl.resultTuple, &r)
}

// lift_flat_values
func liftValues(cx *Context, ls []*layout, tuple *layout, r *FlatReader) ([]any, error) {
	if tuple != nil {
		ptr, err := r.next32()
		if err != nil {
			return nil, err
		}
		v, err := load(cx, tuple, ptr)
		if err != nil {
			return nil, err
		}
		return v.([]any), nil
	}
	vs := make([]any, len(ls))
	for i, l := range ls {
		v, err := liftFlat(cx, l, r)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	return vs, nil
}

// LowerParams lowers the arguments of a call to a guest export (canon
// lift, lower_flat_values(cx, MAX_FLAT_PARAMS, …)): more than 16 flat
// values are stored in memory allocated with realloc and passed by pointer.
// Borrows are counted in cx.Call.
func LowerParams(cx *Context, ft *FuncType, args []any) ([]uint64, error) {
	fl, err := cx.layouts().fn(ft)
	if err != nil {
		return nil, err
	}
	if len(args) != len(fl.params) {
		return nil, fmt.Errorf("cabi: %d arguments for %d parameters", len(args), len(fl.params))
	}
	if fl.spillParams() {
		ptr, err := cx.allocate(fl.paramTuple.align, fl.paramTuple.size)
		if err != nil {
			return nil, err
		}
		if err := store(cx, fl.paramTuple, args, ptr); err != nil {
			return nil, err
		}
		return []uint64{uint64(ptr)}, nil
	}
	return lowerValues(cx, fl.params, args, make([]uint64, 0, len(fl.paramFlat)))
}

// LowerResults lowers a host function's results for the guest that called
// it (canon lower, on_resolve: lower_flat_values(cx, MAX_FLAT_RESULTS, …,
// out_param)). flat is the call's core arguments: when the results do not
// fit in one core value the guest passed a return pointer after the
// parameters, the results are stored there and no core values returned.
func LowerResults(cx *Context, ft *FuncType, results []any, flat []uint64) ([]uint64, error) {
	fl, err := cx.layouts().fn(ft)
	if err != nil {
		return nil, err
	}
	if len(results) != len(fl.results) {
		return nil, fmt.Errorf("cabi: %d results for %d result types", len(results), len(fl.results))
	}
	if fl.spillResults() {
		i := len(fl.paramFlat)
		if fl.spillParams() {
			i = 1
		}
		if i >= len(flat) {
			return nil, trapf("no return pointer among %d core arguments", len(flat))
		}
		if err := store(cx, fl.resultTuple, results, uint32(flat[i])); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return lowerValues(cx, fl.results, results, make([]uint64, 0, len(fl.resultFlat)))
}

func lowerValues(cx *Context, ls []*layout, vs []any, out []uint64) ([]uint64, error) {
	var err error
	for i, l := range ls {
		if out, err = lowerFlat(cx, l, vs[i], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}
