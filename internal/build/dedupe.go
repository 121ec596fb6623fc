package build

import "fmt"

const (
	secStart   = 8
	secElement = 9
)

// dedupeImports removes repeated function imports (same module and name),
// which the Go linker emits (the runtime and package syscall both import
// wasi_snapshot_preview1 fd_write, for one) and wit-component refuses.
// Every reference to a function index is renumbered: calls and ref.func in
// the code, element segments, exports and the start function. The "name"
// section, which would name the wrong functions, is dropped.
func dedupeImports(wasm []byte) ([]byte, error) {
	m, err := parseCore(wasm)
	if err != nil {
		return nil, err
	}
	// remap[old] = new for every function index.
	total := m.importedFuncs + uint32(len(m.funcTypes))
	remap := make([]uint32, total)
	first := map[[2]string]uint32{}
	var removed uint32
	keep := make([]bool, len(m.imports))
	fi := uint32(0)
	for i, im := range m.imports {
		keep[i] = true
		if im.kind != 0 {
			continue
		}
		key := [2]string{im.module, im.name}
		if j, ok := first[key]; ok {
			remap[fi] = j
			keep[i] = false
			removed++
		} else {
			first[key] = fi - removed
			remap[fi] = fi - removed
		}
		fi++
	}
	if removed == 0 {
		return wasm, nil
	}
	for i := m.importedFuncs; i < total; i++ {
		remap[i] = i - removed
	}
	fn := func(i uint32) (uint32, error) {
		if i >= total {
			return 0, fmt.Errorf("function index %d out of range", i)
		}
		return remap[i], nil
	}

	out := append([]byte(nil), coreMagic...)
	for _, s := range m.sections {
		body := s.body
		switch s.id {
		case secCustom:
			r := &reader{b: body}
			if r.name() == "name" {
				continue
			}
		case secImport:
			body, err = rewriteImports(body, keep)
		case secExport:
			body, err = rewriteExports(body, fn)
		case secStart:
			r := &reader{b: body}
			var v uint32
			if v, err = fn(r.u32()); err == nil {
				body = appendU32(nil, v)
			}
		case secElement:
			body, err = rewriteElements(body, fn)
		case secCode:
			body, err = rewriteCode(body, fn)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func rewriteImports(body []byte, keep []bool) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	var entries []byte
	count := uint32(0)
	for i := range n {
		start := r.b
		r.name()
		r.name()
		switch r.byte() {
		case 0:
			r.u32()
		case 1:
			r.byte()
			r.skipLimits()
		case 2:
			r.skipLimits()
		case 3:
			r.bytes(2)
		}
		if r.err != nil {
			return nil, r.err
		}
		if keep[i] {
			entries = append(entries, start[:len(start)-len(r.b)]...)
			count++
		}
	}
	return append(appendU32(nil, count), entries...), nil
}

func rewriteExports(body []byte, fn func(uint32) (uint32, error)) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		name := r.name()
		kind := r.byte()
		idx := r.u32()
		if kind == 0 {
			var err error
			if idx, err = fn(idx); err != nil {
				return nil, err
			}
		}
		out = appendName(out, name)
		out = append(out, kind)
		out = appendU32(out, idx)
	}
	return out, r.err
}

// rewriteElements renumbers the function indices of element segments in
// the forms Go emits (flags 0 and 2: an offset and function indices).
func rewriteElements(body []byte, fn func(uint32) (uint32, error)) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		flags := r.u32()
		out = appendU32(out, flags)
		switch flags {
		case 0, 2:
			if flags == 2 {
				out = appendU32(out, r.u32()) // table index
			}
			start := r.b
			r.skipConstExpr()
			out = append(out, start[:len(start)-len(r.b)]...)
			if flags == 2 {
				out = append(out, r.byte()) // element kind
			}
			k := r.u32()
			out = appendU32(out, k)
			for range k {
				v, err := fn(r.u32())
				if err != nil {
					return nil, err
				}
				out = appendU32(out, v)
			}
		default:
			return nil, fmt.Errorf("unsupported element segment form %d", flags)
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	return out, r.err
}

// rewriteCode renumbers call and ref.func in every function body.
func rewriteCode(body []byte, fn func(uint32) (uint32, error)) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for range n {
		f := &reader{b: r.bytes(r.u32())}
		if r.err != nil {
			return nil, r.err
		}
		var nb []byte
		// locals
		start := f.b
		for range f.u32() {
			f.u32()
			f.byte()
		}
		nb = append(nb, start[:len(start)-len(f.b)]...)
		code, err := rewriteExpr(f, fn)
		if err != nil {
			return nil, err
		}
		nb = append(nb, code...)
		out = appendU32(out, uint32(len(nb)))
		out = append(out, nb...)
	}
	return out, nil
}

// rewriteExpr copies the instructions of a function body, renumbering
// function indices. It knows the instructions of Wasm 2.0 without SIMD.
func rewriteExpr(f *reader, fn func(uint32) (uint32, error)) ([]byte, error) {
	var out []byte
	for len(f.b) > 0 {
		start := f.b
		op := f.byte()
		switch {
		case op == 0x10 || op == 0xd2: // call, ref.func
			v, err := fn(f.u32())
			if err != nil {
				return nil, err
			}
			out = appendU32(append(out, op), v)
			continue
		case op <= 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1,
			op >= 0x45 && op <= 0xc4:
			// no immediates
		case op >= 0x02 && op <= 0x04: // block, loop, if: block type
			f.s64()
		case op == 0x0c, op == 0x0d, op >= 0x20 && op <= 0x26: // br, br_if, locals, globals, table.get/set
			f.u32()
		case op == 0x0e: // br_table
			for range f.u32() {
				f.u32()
			}
			f.u32()
		case op == 0x11: // call_indirect
			f.u32()
			f.u32()
		case op == 0x1c: // select t*
			for range f.u32() {
				f.byte()
			}
		case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
			f.u32()
			f.u32()
		case op == 0x3f, op == 0x40: // memory.size, memory.grow
			f.byte()
		case op == 0x41, op == 0x42:
			f.s64()
		case op == 0x43:
			f.bytes(4)
		case op == 0x44:
			f.bytes(8)
		case op == 0xd0: // ref.null
			f.byte()
		case op == 0xfc:
			switch sub := f.u32(); {
			case sub <= 7:
			case sub == 8: // memory.init
				f.u32()
				f.byte()
			case sub == 9, sub == 13, sub >= 15 && sub <= 17:
				f.u32()
			case sub == 10:
				f.byte()
				f.byte()
			case sub == 11:
				f.byte()
			case sub == 12, sub == 14:
				f.u32()
				f.u32()
			default:
				return nil, fmt.Errorf("unsupported instruction 0xfc %d", sub)
			}
		default:
			return nil, fmt.Errorf("unsupported instruction 0x%x", op)
		}
		if f.err != nil {
			return nil, f.err
		}
		out = append(out, start[:len(start)-len(f.b)]...)
	}
	if f.err != nil {
		return nil, f.err
	}
	return out, nil
}
