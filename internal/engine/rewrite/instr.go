package rewrite

import "fmt"

// Opcodes the rewriters look at.
const (
	opUnreachable  = 0x00
	opLoop         = 0x03
	opIf           = 0x04
	opEnd          = 0x0b
	opGlobalGet    = 0x23
	opI32Const     = 0x41
	opPrefixFC     = 0xfc
	opPrefixFD     = 0xfd
	opTableGet     = 0x25
	opTableSet     = 0x26
	opCallIndirect = 0x11
	opBlock        = 0x02
	opBrTable      = 0x0e
	opReturn       = 0x0f
	opRefIsNull    = 0xd1
	opRefFunc      = 0xd2
	opI32LtU       = 0x49
	opCall         = 0x10
	opDrop         = 0x1a
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opGlobalSet    = 0x24
	opI32Eqz       = 0x45
	opI32Sub       = 0x6b
	opI32Add       = 0x6a
	opI32And       = 0x71
	opI32GeU       = 0x4f
	opMemoryGrow   = 0x40

	fcMemoryInit = 8
	fcDataDrop   = 9
)

// funcBody is one entry of the code section.
type funcBody struct {
	body   []byte // the whole entry after its size (locals and expression)
	code   int    // offset in body where the instructions start
	loopAt []int  // offsets in body just after each loop's block type
	// usesDataIndex is set if the body contains memory.init or data.drop.
	usesDataIndex bool
	// mutatesTables is set if the body can change a table or an element
	// segment (table.set, table.grow, table.fill, table.copy, table.init,
	// elem.drop): state a snapshot does not capture.
	mutatesTables bool
	// calls is set if the body calls a function (call, call_indirect).
	calls bool
	// indirectAt holds the offset in body of each call_indirect opcode;
	// readsTables is set if the body reads a table entry (table.get).
	indirectAt  []int
	readsTables bool
	// funcAt holds the offset in body of each function index immediate
	// (of call and ref.func).
	funcAt []int
	// groups is the number of local declaration groups, groupsEnd the
	// offset just after that count, and locals the number of locals.
	groups    uint32
	groupsEnd int
	locals    uint64
}

// parseCode decodes every function body of a code section.
func parseCode(sec []byte) ([]funcBody, error) {
	r := reader{b: sec}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := make([]funcBody, 0, min(n, 1<<20))
	for i := uint32(0); i < n; i++ {
		body, err := r.bytes()
		if err != nil {
			return nil, err
		}
		fb, err := parseBody(body)
		if err != nil {
			return nil, fmt.Errorf("function body %d: %w", i, err)
		}
		out = append(out, fb)
	}
	if !r.done() {
		return nil, fmt.Errorf("code section: %d trailing bytes", len(r.b)-r.off)
	}
	return out, nil
}

func parseBody(body []byte) (funcBody, error) {
	fb := funcBody{body: body}
	r := reader{b: body}
	groups, err := r.u32()
	if err != nil {
		return fb, err
	}
	fb.groups, fb.groupsEnd = groups, r.off
	for g := uint32(0); g < groups; g++ {
		n, err := r.u32()
		if err != nil {
			return fb, err
		}
		fb.locals += uint64(n)
		if err := r.valType(); err != nil {
			return fb, err
		}
	}
	fb.code = r.off
	for !r.done() {
		op, _ := r.byte()
		if err := skipImmediates(&r, op, &fb); err != nil {
			return fb, err
		}
	}
	return fb, nil
}

// skipImmediates skips the immediates of instruction op, recording loops
// and data-index instructions in fb. It knows the instruction set wazero
// enables by default (WebAssembly 2.0: MVP, sign extension, non-trapping
// conversions, bulk memory, reference types, multi-value, SIMD); anything
// else is an error.
func skipImmediates(r *reader, op byte, fb *funcBody) error {
	switch {
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b,
		op >= 0x45 && op <= 0xc4, op == 0xd1:
		return nil
	case op == 0x02, op == 0x03, op == 0x04: // block, loop, if
		if err := blockType(r); err != nil {
			return err
		}
		if op == opLoop {
			fb.loopAt = append(fb.loopAt, r.off)
		}
		return nil
	case op == 0x0c, op == 0x0d, op >= 0x20 && op <= 0x26, op == 0x10, op == 0xd2:
		if op == opCall || op == opRefFunc {
			fb.funcAt = append(fb.funcAt, r.off)
		}
		fb.mutatesTables = fb.mutatesTables || op == opTableSet
		fb.readsTables = fb.readsTables || op == opTableGet
		fb.calls = fb.calls || op == opCall
		return r.skipLEB(5)
	case op == 0x0e: // br_table
		n, err := r.u32()
		if err != nil {
			return err
		}
		for i := uint64(0); i <= uint64(n); i++ {
			if err := r.skipLEB(5); err != nil {
				return err
			}
		}
		return nil
	case op == opCallIndirect:
		fb.calls = true
		fb.indirectAt = append(fb.indirectAt, r.off-1)
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(5)
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return err
		}
		for i := uint32(0); i < n; i++ {
			if err := r.valType(); err != nil {
				return err
			}
		}
		return nil
	case op >= 0x28 && op <= 0x3e:
		return memArg(r)
	case op == 0x3f, op == 0x40: // memory.size, memory.grow
		return r.skipLEB(5)
	case op == opI32Const:
		return r.skipLEB(5)
	case op == 0x42:
		return r.skipLEB(10)
	case op == 0x43:
		return r.skip(4)
	case op == 0x44:
		return r.skip(8)
	case op == 0xd0: // ref.null ht
		return r.skipLEB(5)
	case op == opPrefixFC:
		return prefixFC(r, fb)
	case op == opPrefixFD:
		return prefixFD(r)
	}
	return fmt.Errorf("unsupported opcode %#x", op)
}

func blockType(r *reader) error {
	if r.off >= len(r.b) {
		return errTruncated
	}
	c := r.b[r.off]
	if c == 0x40 || (c >= 0x6f && c <= 0x7f && c != 0x78) {
		r.off++
		return nil
	}
	if c == 0x63 || c == 0x64 {
		return r.valType()
	}
	return r.skipLEB(5) // a type index as s33
}

// memArg skips alignment and offset (with a memory index when bit 6 of
// the alignment says one follows, as in multi-memory).
func memArg(r *reader) error {
	align, err := r.u32()
	if err != nil {
		return err
	}
	if align&0x40 != 0 {
		if err := r.skipLEB(5); err != nil {
			return err
		}
	}
	return r.skipLEB(10)
}

func prefixFC(r *reader, fb *funcBody) error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == fcMemoryInit, sub == 12, sub == 14: // memory.init, table.init, table.copy
		fb.usesDataIndex = fb.usesDataIndex || sub == fcMemoryInit
		fb.mutatesTables = fb.mutatesTables || sub != fcMemoryInit
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(5)
	case sub == fcDataDrop:
		fb.usesDataIndex = true
		return r.skipLEB(5)
	case sub == 10: // memory.copy
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(5)
	case sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
		// memory.fill, elem.drop, table.grow, table.size, table.fill
		fb.mutatesTables = fb.mutatesTables || sub == 13 || sub == 15 || sub == 17
		return r.skipLEB(5)
	}
	return fmt.Errorf("unsupported opcode 0xfc %d", sub)
}

func prefixFD(r *reader) error {
	sub, err := r.u32()
	if err != nil {
		return err
	}
	switch {
	case sub <= 11, sub == 92, sub == 93: // loads, stores, load zero
		return memArg(r)
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		return r.skip(16)
	case sub >= 21 && sub <= 34: // extract/replace lane
		return r.skip(1)
	case sub >= 84 && sub <= 91: // load/store lane
		if err := memArg(r); err != nil {
			return err
		}
		return r.skip(1)
	case sub <= 275:
		return nil
	}
	return fmt.Errorf("unsupported opcode 0xfd %d", sub)
}
