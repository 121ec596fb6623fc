package rewrite

import "fmt"

// Imported functions come first in the function index space, so importing
// one more function (Instrument's yield) after the module's own imports
// moves every defined function up by one. The helpers here renumber every
// place a function index appears: call and ref.func immediates in code and
// constant expressions, exports, the start function, element segments, and
// the function, local and label names of the "name" custom section.

// shiftedFunc returns idx renumbered for a function imported after the
// first imported ones.
func shiftedFunc(idx, imported uint32) uint32 {
	if idx >= imported {
		return idx + 1
	}
	return idx
}

// copyShifted appends body[lo:hi] to buf, renumbering the function index
// immediates starting at the offsets in at (sorted, within [lo, hi), as
// recorded in funcBody.funcAt).
func copyShifted(buf, body []byte, lo, hi int, at []int, imported uint32) ([]byte, error) {
	for _, off := range at {
		buf = append(buf, body[lo:off]...)
		r := reader{b: body, off: off}
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		buf = appendU32(buf, shiftedFunc(idx, imported))
		lo = r.off
	}
	return append(buf, body[lo:hi]...), nil
}

// copyConstExpr appends the constant expression at r (up to and including
// its end) to out, renumbering ref.func.
func copyConstExpr(out []byte, r *reader, imported uint32) ([]byte, error) {
	start := r.off
	if err := skipConstExpr(r); err != nil {
		return nil, err
	}
	fb, err := parseExpr(r.b[start:r.off])
	if err != nil {
		return nil, err
	}
	return copyShifted(out, r.b[start:r.off], 0, r.off-start, fb.funcAt, imported)
}

// parseExpr records the immediates of an instruction sequence.
func parseExpr(code []byte) (funcBody, error) {
	var fb funcBody
	r := reader{b: code}
	for !r.done() {
		op, _ := r.byte()
		if err := skipImmediates(&r, op, &fb); err != nil {
			return fb, err
		}
	}
	return fb, nil
}

// shiftExports renumbers the function exports of an export section.
func shiftExports(body []byte, imported uint32) ([]byte, error) {
	return rewriteVec(body, func(r *reader, out []byte) ([]byte, error) {
		name, err := r.bytes()
		if err != nil {
			return nil, err
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if kind == 0x00 {
			idx = shiftedFunc(idx, imported)
		}
		out = appendU32(out, uint32(len(name)))
		out = append(out, name...)
		return appendU32(append(out, kind), idx), nil
	})
}

// shiftStart renumbers a start section.
func shiftStart(body []byte, imported uint32) ([]byte, error) {
	r := reader{b: body}
	idx, err := r.u32()
	if err != nil {
		return nil, err
	}
	if !r.done() {
		return nil, errTrailing(&r)
	}
	return appendU32(nil, shiftedFunc(idx, imported)), nil
}

// shiftElems renumbers the function indices and ref.func expressions of an
// element section. Segment flags (bit 0: passive or declarative, bit 1:
// explicit table or declarative, bit 2: expressions instead of indices):
//
//	0: offset vec(funcidx)          4: offset vec(expr)
//	1: elemkind vec(funcidx)        5: reftype vec(expr)
//	2: table offset elemkind vec    6: table offset reftype vec(expr)
//	3: elemkind vec(funcidx)        7: reftype vec(expr)
func shiftElems(body []byte, imported uint32) ([]byte, error) {
	return rewriteVec(body, func(r *reader, out []byte) ([]byte, error) {
		flags, err := r.u32()
		if err != nil {
			return nil, err
		}
		if flags > 7 {
			return nil, fmt.Errorf("element segment flags %d", flags)
		}
		out = appendU32(out, flags)
		if flags == 2 || flags == 6 {
			t, err := r.u32()
			if err != nil {
				return nil, err
			}
			out = appendU32(out, t)
		}
		if flags&1 == 0 { // active: the offset
			if out, err = copyConstExpr(out, r, imported); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // elemkind or reftype
			k, err := r.byte()
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return rewriteVecAt(r, out, func(r *reader, out []byte) ([]byte, error) {
			if flags&4 != 0 {
				return copyConstExpr(out, r, imported)
			}
			idx, err := r.u32()
			return appendU32(out, shiftedFunc(idx, imported)), err
		})
	})
}

// shiftGlobals renumbers ref.func in global initializers.
func shiftGlobals(body []byte, imported uint32) ([]byte, error) {
	return rewriteVec(body, func(r *reader, out []byte) ([]byte, error) {
		start := r.off
		if err := r.valType(); err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil { // mutability
			return nil, err
		}
		return copyConstExpr(append(out, r.b[start:r.off]...), r, imported)
	})
}

// shiftNames renumbers the "name" custom section's function names (1),
// local names (2) and label names (3), which are keyed by function index;
// other subsections are kept. ok is false if body is not a name section or
// cannot be parsed (the caller then drops it: names only serve stack
// traces, and a wrong name is worse than none).
func shiftNames(body []byte, imported uint32) (out []byte, isName, ok bool) {
	r := reader{b: body}
	name, err := r.bytes()
	if err != nil || string(name) != "name" {
		return nil, false, false
	}
	out = append(out, body[:r.off]...)
	for !r.done() {
		id, err := r.byte()
		if err != nil {
			return nil, true, false
		}
		sub, err := r.bytes()
		if err != nil {
			return nil, true, false
		}
		if id >= 1 && id <= 3 {
			if sub, err = shiftNameMap(sub, id != 1, imported); err != nil {
				return nil, true, false
			}
		}
		out = append(out, id)
		out = appendU32(out, uint32(len(sub)))
		out = append(out, sub...)
	}
	return out, true, true
}

// shiftNameMap renumbers the keys of a name map (vec of index and name) or,
// if indirect, of an indirect name map (vec of index and name map).
func shiftNameMap(sub []byte, indirect bool, imported uint32) ([]byte, error) {
	return rewriteVec(sub, func(r *reader, out []byte) ([]byte, error) {
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = appendU32(out, shiftedFunc(idx, imported))
		start := r.off
		if indirect {
			m, err := r.u32()
			if err != nil {
				return nil, err
			}
			for j := uint32(0); j < m; j++ {
				if _, err := r.u32(); err != nil {
					return nil, err
				}
				if _, err := r.bytes(); err != nil {
					return nil, err
				}
			}
		} else if _, err := r.bytes(); err != nil {
			return nil, err
		}
		return append(out, r.b[start:r.off]...), nil
	})
}

// rewriteVec rebuilds a vector (a section body, a name map) item by item.
func rewriteVec(body []byte, item func(r *reader, out []byte) ([]byte, error)) ([]byte, error) {
	r := reader{b: body}
	out, err := rewriteVecAt(&r, make([]byte, 0, len(body)+16), item)
	if err != nil {
		return nil, err
	}
	if !r.done() {
		return nil, errTrailing(&r)
	}
	return out, nil
}

// rewriteVecAt rebuilds the vector at r, appending it to out.
func rewriteVecAt(r *reader, out []byte, item func(r *reader, out []byte) ([]byte, error)) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out = appendU32(out, n)
	for i := uint32(0); i < n; i++ {
		if out, err = item(r, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func errTrailing(r *reader) error {
	return fmt.Errorf("%d trailing bytes", len(r.b)-r.off)
}

// shiftSections renumbers the function indices of every section but the
// code section (instrumentBody does that) for one more function imported
// after the first imported ones. A "name" section that cannot be parsed is
// dropped.
func shiftSections(secs []section, imported uint32) ([]section, error) {
	out := secs[:0]
	for _, s := range secs {
		var err error
		switch s.id {
		case secExport:
			s.body, err = shiftExports(s.body, imported)
		case secStart:
			s.body, err = shiftStart(s.body, imported)
		case secElement:
			s.body, err = shiftElems(s.body, imported)
		case secGlobal:
			s.body, err = shiftGlobals(s.body, imported)
		case secCustom:
			body, isName, ok := shiftNames(s.body, imported)
			if isName && !ok {
				continue
			}
			if isName {
				s.body = body
			}
		}
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, err)
		}
		out = append(out, s)
	}
	return out, nil
}
