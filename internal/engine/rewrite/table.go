package rewrite

import (
	"errors"
	"fmt"
)

// LazyTableMin is the fewest table entries LazyTable bothers with: below
// it, filling the table at instantiation costs less than a check per
// indirect call.
const LazyTableMin = 256

// LazyTable makes a module fill its function table on first use instead
// of at instantiation.
//
// wazero applies active element segments to every new instance, allocating
// one function object per entry: a standard-Go module puts every function
// in its table (Go's function pointers are table indices), so that is
// thousands of allocations per instance, most of the cost of starting
// one, for entries a request mostly never calls. LazyTable turns the
// active segments into a declarative one (so nothing is applied at
// instantiation) and adds two functions:
//
//   - fill(i) sets entry i to the function the segments put there, through
//     a br_table over the table image computed here;
//   - ensure(i) fills entry i if it is within the table and still null,
//     and returns i;
//
// and calls ensure before every call_indirect. (Indices are shifted down by
// the lowest entry a segment sets, so that the table drops its leading run
// of nulls; see ensureBody.) An indirect call therefore
// sees exactly the function the segments put there, or traps exactly as
// before (null entry, out of bounds, wrong signature).
//
// This is only invisible to the guest when nothing else can observe or
// change the table, so LazyTable applies only to a module with one table,
// defined (not imported) and not exported, whose code never reads or
// changes a table or element segment (table.get, table.set, table.grow,
// table.fill, table.copy, table.init, elem.drop), and whose active segments
// all list function indices at constant offsets within the table's
// minimum size. Otherwise, or with fewer than LazyTableMin entries, it
// returns the module unchanged with the reason. Indices of existing
// functions and types are unchanged: the new types and functions are
// appended.
func LazyTable(wasm []byte) (out []byte, reason string, err error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, "", err
	}
	var imp imports
	if i := find(secs, secImport); i >= 0 {
		if imp, err = parseImports(secs[i].body); err != nil {
			return nil, "", fmt.Errorf("import section: %w", err)
		}
	}
	if imp.tables > 0 {
		return wasm, "the table is imported", nil
	}
	ti := find(secs, secTable)
	if ti < 0 {
		return wasm, "no table", nil
	}
	table, ok, err := singleFuncTable(secs[ti].body)
	if err != nil {
		return nil, "", fmt.Errorf("table section: %w", err)
	}
	if !ok {
		return wasm, "not exactly one funcref table", nil
	}
	if exported, err := exportsTable(secs); err != nil {
		return nil, "", fmt.Errorf("export section: %w", err)
	} else if exported {
		return wasm, "the table is exported", nil
	}
	ei := find(secs, secElement)
	if ei < 0 {
		return wasm, "no element segments", nil
	}
	image, lo, kept, why, err := tableImage(secs[ei].body, uint64(table.min))
	if err != nil {
		return nil, "", fmt.Errorf("element section: %w", err)
	}
	if why != "" {
		return wasm, why, nil
	}
	if len(image) < LazyTableMin {
		return wasm, fmt.Sprintf("only %d table entries", len(image)), nil
	}
	ci, fi, tyi := find(secs, secCode), find(secs, secFunction), find(secs, secType)
	if ci < 0 || fi < 0 || tyi < 0 {
		return wasm, "no code", nil
	}
	bodies, err := parseCode(secs[ci].body)
	if err != nil {
		return nil, "", fmt.Errorf("code section: %w", err)
	}
	for k, b := range bodies {
		if b.readsTables || b.mutatesTables {
			return wasm, fmt.Sprintf("function %d reads or changes a table", imp.funcs+k), nil
		}
	}

	out2 := append([]section(nil), secs...)
	// The entries below the lowest one set are never anything but null:
	// the table drops them (a standard-Go module's first 4096), and
	// ensure maps an index i to i-lo.
	out2[ti].body = table.encode(lo)
	ensure := uint32(imp.funcs) + uint32(len(bodies))
	fill := ensure + 1

	// Types: (i32) -> (i32) for ensure, (i32) -> () for fill.
	types, err := vecCount(out2[tyi].body)
	if err != nil {
		return nil, "", fmt.Errorf("type section: %w", err)
	}
	out2[tyi].body = appendVec(out2[tyi].body, types+2, []byte{0x60, 1, 0x7f, 1, 0x7f, 0x60, 1, 0x7f, 0})
	out2[fi].body = appendVec(out2[fi].body, uint32(len(bodies))+2, appendU32(appendU32(nil, types), types+1))

	// Code: ensure before every call_indirect, then the two functions.
	call := appendOp(nil, opCall, ensure)
	code := appendU32(make([]byte, 0, len(secs[ci].body)+len(image)*16), uint32(len(bodies))+2)
	var buf []byte
	for _, b := range bodies {
		buf = buf[:0]
		prev := 0
		for _, at := range b.indirectAt {
			buf = append(buf, b.body[prev:at]...)
			buf = append(buf, call...)
			prev = at
		}
		buf = append(buf, b.body[prev:]...)
		code = appendU32(code, uint32(len(buf)))
		code = append(code, buf...)
	}
	for _, body := range [][]byte{ensureBody(fill, lo), fillBody(image)} {
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}
	out2[ci].body = code

	// Elements: the non-active segments as they were, and one declarative
	// segment naming every function fill refers to (ref.func requires it).
	funcs := make([]byte, 0, len(image)*3)
	n := uint32(0)
	seen := map[uint32]bool{}
	for _, f := range image {
		if f != noFunc && !seen[f] {
			seen[f] = true
			funcs = appendU32(funcs, f)
			n++
		}
	}
	elems := appendU32(nil, uint32(len(kept))+1)
	for _, k := range kept {
		elems = append(elems, k...)
	}
	elems = appendU32(append(elems, 3, 0), n) // declarative, function indices
	out2[ei].body = append(elems, funcs...)
	return joinSections(out2), "", nil
}

// noFunc marks a table entry no segment sets.
const noFunc = ^uint32(0)

// funcTable is the limits of a module's only table.
type funcTable struct {
	min, max uint32
	hasMax   bool
}

// singleFuncTable decodes the table section; ok is false unless it holds
// exactly one funcref table with 32-bit limits.
func singleFuncTable(body []byte) (t funcTable, ok bool, err error) {
	r := reader{b: body}
	n, err := r.u32()
	if err != nil || n != 1 {
		return t, false, err
	}
	typ, err := r.byte()
	if err != nil {
		return t, false, err
	}
	flags, err := r.byte()
	if err != nil {
		return t, false, err
	}
	if typ != 0x70 || flags > 1 {
		return t, false, nil
	}
	if t.min, err = r.u32(); err != nil {
		return t, false, err
	}
	if t.hasMax = flags == 1; t.hasMax {
		if t.max, err = r.u32(); err != nil {
			return t, false, err
		}
	}
	return t, r.done(), nil
}

// encode is a table section holding t shifted down by lo entries.
func (t funcTable) encode(lo uint32) []byte {
	if !t.hasMax {
		return appendU32([]byte{1, 0x70, 0}, t.min-lo)
	}
	return appendU32(appendU32([]byte{1, 0x70, 1}, t.min-lo), t.max-lo)
}

// exportsTable reports whether the module exports a table.
func exportsTable(secs []section) (bool, error) {
	ei := find(secs, secExport)
	if ei < 0 {
		return false, nil
	}
	r := reader{b: secs[ei].body}
	n, err := r.u32()
	if err != nil {
		return false, err
	}
	for i := uint32(0); i < n; i++ {
		if _, err := r.bytes(); err != nil {
			return false, err
		}
		kind, err := r.byte()
		if err != nil {
			return false, err
		}
		if _, err := r.u32(); err != nil {
			return false, err
		}
		if kind == 1 {
			return true, nil
		}
	}
	return false, nil
}

// tableImage applies the active segments, in order, to a table of size
// tableMin and returns the entries from the lowest set one to the highest
// (noFunc where none is set) with the index of the first, and the encoded
// non-active segments to keep. why says why the module does not qualify.
func tableImage(body []byte, tableMin uint64) (image []uint32, lo uint32, kept [][]byte, why string, err error) {
	r := reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, 0, nil, "", err
	}
	type active struct {
		off   uint32
		funcs []uint32
	}
	var segs []active
	for i := uint32(0); i < n; i++ {
		start := r.off
		flags, err := r.u32()
		if err != nil {
			return nil, 0, nil, "", err
		}
		switch flags {
		case 0, 2: // active, function indices (2: explicit table and kind)
			if flags == 2 {
				table, err := r.u32()
				if err != nil {
					return nil, 0, nil, "", err
				}
				if table != 0 {
					return nil, 0, nil, "a segment names another table", nil
				}
			}
			off, ok, err := constOffset(&r)
			if err != nil {
				return nil, 0, nil, "", err
			}
			if !ok {
				return nil, 0, nil, "a segment's offset is not a constant", nil
			}
			if flags == 2 {
				if kind, err := r.byte(); err != nil {
					return nil, 0, nil, "", err
				} else if kind != 0 {
					return nil, 0, nil, "unknown element kind", nil
				}
			}
			funcs, err := funcIndices(&r)
			if err != nil {
				return nil, 0, nil, "", err
			}
			if uint64(off)+uint64(len(funcs)) > tableMin {
				return nil, 0, nil, "a segment does not fit the table", nil
			}
			segs = append(segs, active{off, funcs})
		case 1, 3: // passive or declarative, function indices: kept
			if _, err := r.byte(); err != nil {
				return nil, 0, nil, "", err
			}
			if _, err := funcIndices(&r); err != nil {
				return nil, 0, nil, "", err
			}
			kept = append(kept, r.b[start:r.off])
		default:
			return nil, 0, nil, fmt.Sprintf("element segment form %d", flags), nil
		}
	}
	if !r.done() {
		return nil, 0, nil, "", errors.New("trailing bytes")
	}
	hi := uint32(0)
	lo = ^uint32(0)
	for _, s := range segs {
		if len(s.funcs) > 0 {
			lo = min(lo, s.off)
			hi = max(hi, s.off+uint32(len(s.funcs)))
		}
	}
	if hi == 0 {
		return nil, 0, kept, "no active segments", nil
	}
	if hi-lo > 1<<20 {
		return nil, 0, nil, "more than 2^20 table entries", nil
	}
	image = make([]uint32, hi-lo)
	for i := range image {
		image[i] = noFunc
	}
	for _, s := range segs {
		copy(image[s.off-lo:], s.funcs)
	}
	return image, lo, kept, "", nil
}

// constOffset reads an offset expression; ok is false unless it is a
// lone i32.const.
func constOffset(r *reader) (uint32, bool, error) {
	start := r.off
	op, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	if op == opI32Const {
		v, err := r.s32()
		if err != nil {
			return 0, false, err
		}
		if end, err := r.byte(); err != nil {
			return 0, false, err
		} else if end == opEnd {
			return uint32(v), true, nil
		}
	}
	r.off = start
	return 0, false, skipConstExpr(r)
}

func funcIndices(r *reader) ([]uint32, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]uint32, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		f, err := r.u32()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// ensureBody is ensure(i): j = i-lo; if j < table.size && table[j] == null
// { fill(j) }; return j. An index below lo wraps past the table's end, so
// its call_indirect traps as the null entry did (wazero reports both as an
// invalid table access).
func ensureBody(fill, lo uint32) []byte {
	b := []byte{1, 1, 0x7f, // one i32 local: j
		opLocalGet, 0, opI32Const}
	b = appendS32(b, int32(lo))
	b = append(b, opI32Sub, opLocalTee, 1,
		opPrefixFC, 16, 0, opI32LtU, opIf, 0x40,
		opLocalGet, 1, opTableGet, 0, opRefIsNull, opIf, 0x40,
		opLocalGet, 1, opCall)
	b = appendU32(b, fill)
	return append(b, opEnd, opEnd, opLocalGet, 1, opEnd)
}

// fillBody is fill(j): a br_table on j into one block per entry, each
// setting its entry and returning; other indices fall through.
//
//	block                       ;; default
//	  block                     ;; entry n-1
//	    ...
//	      block                 ;; entry 0
//	        local.get 0
//	        br_table 0 1 ... n-1 n
//	      end
//	      i32.const 0; ref.func f0; table.set 0; return
//	    ...
//	  end
//	  i32.const n-1; ref.func fn-1; table.set 0; return
//	end
func fillBody(image []uint32) []byte {
	n := uint32(len(image))
	b := make([]byte, 0, 16+len(image)*18)
	b = append(b, 0) // no locals
	for i := uint32(0); i <= n; i++ {
		b = append(b, opBlock, 0x40)
	}
	b = append(b, opLocalGet, 0, opBrTable)
	b = appendU32(b, n)
	for i := uint32(0); i < n; i++ {
		if image[i] == noFunc {
			b = appendU32(b, n)
		} else {
			b = appendU32(b, i)
		}
	}
	b = appendU32(b, n)
	for i, f := range image {
		b = append(b, opEnd)
		if f == noFunc {
			continue // unreachable: br_table sends it to the default
		}
		b = append(b, opI32Const)
		b = appendS32(b, int32(i))
		b = append(b, opRefFunc)
		b = appendU32(b, f)
		b = append(b, opTableSet, 0, opReturn)
	}
	return append(b, opEnd, opEnd)
}

// appendVec re-encodes a vector section body with a new count, the old
// elements and extra appended.
func appendVec(body []byte, count uint32, extra []byte) []byte {
	r := reader{b: body}
	r.u32()
	out := appendU32(make([]byte, 0, len(body)+len(extra)+5), count)
	out = append(out, body[r.off:]...)
	return append(out, extra...)
}
