package rewrite

import (
	"fmt"
	"strconv"
)

// Instrumented is a module rewritten by Instrument.
type Instrumented struct {
	Wasm []byte
	// Interrupt is the export name of the mutable i32 global the module
	// now checks: setting it to a non-zero value makes the guest trap
	// ("unreachable") at its next tick (see Instrument).
	Interrupt string
	// Start is the export name of the module's start function, which
	// Instrument removed from the start section so that the host can run it
	// with the interrupt armed; "" if the module had none.
	Start string
}

// TickInterval is how many loop iterations (per function call) or
// non-leaf function calls (per instance) pass between two ticks.
const TickInterval = 10000

// Instrument makes a module interruptible from the host and keeps it from
// starving the Go runtime, at the cost of a register decrement and a
// never-taken branch per loop iteration, and a global decrement per call of
// a function that calls others.
//
// Compiled WebAssembly runs without Go preemption points: a guest that
// never calls out holds its thread, and a garbage collection waiting to stop
// the world waits for it, with every other goroutine (including the timer
// that would end the guest's deadline) stopped meanwhile. So Instrument adds
// a function, the tick, that every guest calls regularly: it exits to the
// runtime (a memory.grow by 0 pages, which wazero serves in Go, where the
// goroutine can be preempted), then traps ("unreachable") if the host set
// the interrupt global (exported as Interrupt) when a deadline passed.
// Ticks come from two counters:
//
//   - each function with loops counts iterations of all its loops in a new
//     local, set to TickInterval on entry, and ticks when it reaches zero;
//   - each function that calls others (only these can recurse without
//     looping) decrements a new global on entry and ticks when it reaches
//     zero; leaf functions without loops always finish, so they are left
//     alone.
//
// A guest therefore cannot run more than TickInterval loop iterations or
// calls without a tick. A module without a memory cannot exit to the
// runtime this way; its ticks only check the interrupt.
//
// Ticks also count, in a new global: once an instance has ticked
// LongRunTicks times (a long-running request: at least 320,000 loop
// iterations or calls), every YieldEvery-th tick calls the host function
// YieldModule.YieldFunc, imported after the module's own imports, which
// yields the processor, so that short requests waiting for a CPU run
// before the long one continues. Importing it moves every defined function
// up by one index, and every reference is renumbered; indices of globals
// and types are unchanged (the new globals and the type are appended).
//
// The start section, if any, is removed and its function exported as
// Start, because wazero runs a start function inside instantiation, before
// the host could reach the new global. The caller must call Start right
// after instantiating.
//
// Instrument returns an error for a module it cannot decode (including
// instructions beyond WebAssembly 2.0).
func Instrument(wasm []byte) (Instrumented, error) {
	var res Instrumented
	secs, err := splitSections(wasm)
	if err != nil {
		return res, err
	}
	var imp imports
	if i := find(secs, secImport); i >= 0 {
		if imp, err = parseImports(secs[i].body); err != nil {
			return res, fmt.Errorf("import section: %w", err)
		}
	}
	var defined uint32
	if i := find(secs, secGlobal); i >= 0 {
		if defined, err = vecCount(secs[i].body); err != nil {
			return res, fmt.Errorf("global section: %w", err)
		}
	}
	interrupt := uint32(imp.globals) + defined
	fuel := interrupt + 1
	ticks := interrupt + 2
	names, err := exportNames(secs)
	if err != nil {
		return res, fmt.Errorf("export section: %w", err)
	}
	res.Interrupt = unusedName(names, "wisp:interrupt")
	names[res.Interrupt] = true
	hasMemory := imp.memories > 0
	if mi := find(secs, secMemory); mi >= 0 {
		n, err := vecCount(secs[mi].body)
		if err != nil {
			return res, fmt.Errorf("memory section: %w", err)
		}
		hasMemory = hasMemory || n > 0
	}

	out := make([]section, 0, len(secs)+4)
	out = append(out, secs...)

	// Function bodies, and the yield import: it moves every defined
	// function up by one, so every function index is renumbered.
	imported := uint32(imp.funcs)
	start := ^uint32(0)
	if ci := find(out, secCode); ci >= 0 {
		params, err := paramCounts(out)
		if err != nil {
			return res, err
		}
		bodies, err := parseCode(out[ci].body)
		if err != nil {
			return res, fmt.Errorf("code section: %w", err)
		}
		if len(bodies) != len(params) {
			return res, fmt.Errorf("%d function bodies for %d functions", len(bodies), len(params))
		}
		yield := imported
		tick := imported + 1 + uint32(len(bodies))
		code := make([]byte, 0, len(out[ci].body)+len(bodies)*32)
		code = appendU32(code, uint32(len(bodies)+1))
		var buf []byte
		for k, b := range bodies {
			if buf, err = instrumentBody(buf[:0], b, params[k], tick, fuel, imported); err != nil {
				return res, fmt.Errorf("function body %d: %w", k, err)
			}
			code = appendU32(code, uint32(len(buf)))
			code = append(code, buf...)
		}
		body := tickBody(hasMemory, interrupt, fuel, ticks, yield)
		code = appendU32(code, uint32(len(body)))
		out[ci].body = append(code, body...)

		// The () -> () type of the tick and the yield import, the tick's
		// function entry and the import.
		ti := find(out, secType)
		types, _ := vecCount(out[ti].body) // paramCounts checked it
		out[ti].body = appendVec(out[ti].body, types+1, []byte{0x60, 0, 0})
		fi := find(out, secFunction)
		out[fi].body = appendVec(out[fi].body, uint32(len(bodies)+1), appendU32(nil, types))
		entry := appendName(nil, YieldModule)
		entry = appendName(entry, YieldFunc)
		entry = appendU32(append(entry, 0x00), types)
		if ii := find(out, secImport); ii >= 0 {
			n, _ := vecCount(out[ii].body) // parseImports checked it
			out[ii].body = appendVec(out[ii].body, n+1, entry)
		} else {
			out = insert(out, section{id: secImport, body: append([]byte{1}, entry...)})
		}

		if out, err = shiftSections(out, imported); err != nil {
			return res, err
		}
	}
	if si := find(out, secStart); si >= 0 {
		r := reader{b: out[si].body}
		if start, err = r.u32(); err != nil {
			return res, fmt.Errorf("start section: %w", err)
		}
		out = append(out[:si], out[si+1:]...)
	}

	// The globals: the interrupt flag, the call counter, the tick counter.
	newGlobals := []byte{0x7f, 0x01, opI32Const, 0x00, opEnd, 0x7f, 0x01, opI32Const}
	newGlobals = appendS32(newGlobals, TickInterval)
	newGlobals = append(newGlobals, opEnd, 0x7f, 0x01, opI32Const, 0x00, opEnd)
	if gi := find(out, secGlobal); gi >= 0 {
		out[gi].body = appendVec(out[gi].body, defined+3, newGlobals)
	} else {
		out = insert(out, section{id: secGlobal, body: append([]byte{3}, newGlobals...)})
	}

	// Exports: the interrupt flag, and the start function.
	var extra []byte
	extra = appendName(extra, res.Interrupt)
	extra = append(extra, 0x03)
	extra = appendU32(extra, interrupt)
	nExtra := uint32(1)
	if start != ^uint32(0) {
		res.Start = unusedName(names, "wisp:start")
		extra = appendName(extra, res.Start)
		extra = append(extra, 0x00)
		extra = appendU32(extra, start)
		nExtra++
	}
	if ei := find(out, secExport); ei >= 0 {
		n, _ := vecCount(out[ei].body) // exportNames checked it
		out[ei].body = appendVec(out[ei].body, n+nExtra, extra)
	} else {
		out = insert(out, section{id: secExport, body: append(appendU32(nil, nExtra), extra...)})
	}
	res.Wasm = joinSections(out)
	return res, nil
}

// instrumentBody appends b's body with the tick counters to buf,
// renumbering function indices for one more import after the first
// imported ones. The counter is a new i32 local, after the parameters and
// existing locals.
func instrumentBody(buf []byte, b funcBody, params uint64, tick, fuel, imported uint32) ([]byte, error) {
	loops := len(b.loopAt) > 0
	if !loops && !b.calls {
		return copyShifted(buf, b.body, 0, len(b.body), b.funcAt, imported)
	}
	c := uint32(params + b.locals)
	buf = appendU32(buf, b.groups+1)
	buf = append(buf, b.body[b.groupsEnd:b.code]...)
	buf = append(buf, 1, 0x7f)
	if b.calls {
		// fuel -= 1; if fuel == 0 { tick() } (tick refills fuel)
		buf = appendOp(buf, opGlobalGet, fuel)
		buf = append(buf, opI32Const, 1, opI32Sub)
		buf = appendOp(buf, opLocalTee, c)
		buf = appendOp(buf, opGlobalSet, fuel)
		buf = appendOp(buf, opLocalGet, c)
		buf = append(buf, opI32Eqz, opIf, 0x40)
		buf = appendOp(buf, opCall, tick)
		buf = append(buf, opEnd)
	}
	if !loops {
		return copyShifted(buf, b.body, b.code, len(b.body), b.funcAt, imported)
	}
	// c = TickInterval
	buf = appendS32(append(buf, opI32Const), TickInterval)
	buf = appendOp(buf, opLocalSet, c)
	// At each loop header: c -= 1; if c == 0 { tick(); c = TickInterval }
	check := appendOp(nil, opLocalGet, c)
	check = append(check, opI32Const, 1, opI32Sub)
	check = appendOp(check, opLocalTee, c)
	check = append(check, opI32Eqz, opIf, 0x40)
	check = appendOp(check, opCall, tick)
	check = appendS32(append(check, opI32Const), TickInterval)
	check = appendOp(check, opLocalSet, c)
	check = append(check, opEnd)
	prev, funcs := b.code, b.funcAt
	var err error
	for _, at := range b.loopAt {
		n := 0
		for n < len(funcs) && funcs[n] < at {
			n++
		}
		if buf, err = copyShifted(buf, b.body, prev, at, funcs[:n], imported); err != nil {
			return nil, err
		}
		buf = append(buf, check...)
		prev, funcs = at, funcs[n:]
	}
	return copyShifted(buf, b.body, prev, len(b.body), funcs, imported)
}

// tickBody is the tick function: exit to the runtime (if there is a memory
// to grow by nothing), trap if interrupted, refill the call counter, count
// the tick and yield if the instance runs long.
func tickBody(hasMemory bool, interrupt, fuel, ticks, yield uint32) []byte {
	b := []byte{0} // no locals
	if hasMemory {
		b = append(b, opI32Const, 0, opMemoryGrow, 0, opDrop)
	}
	b = appendOp(b, opGlobalGet, interrupt)
	b = append(b, opIf, 0x40, opUnreachable, opEnd)
	b = appendS32(append(b, opI32Const), TickInterval)
	b = appendOp(b, opGlobalSet, fuel)
	// ticks++; if ticks >= LongRunTicks && ticks%YieldEvery == 0 { yield() }
	b = appendOp(b, opGlobalGet, ticks)
	b = append(b, opI32Const, 1, opI32Add)
	b = appendOp(b, opGlobalSet, ticks)
	b = appendOp(b, opGlobalGet, ticks)
	b = appendS32(append(b, opI32Const), LongRunTicks)
	b = append(b, opI32GeU)
	b = appendOp(b, opGlobalGet, ticks)
	b = appendS32(append(b, opI32Const), YieldEvery-1)
	b = append(b, opI32And, opI32Eqz, opI32And, opIf, 0x40)
	b = appendOp(b, opCall, yield)
	b = append(b, opEnd)
	return append(b, opEnd)
}

// appendOp appends an instruction whose immediate is one index (a local,
// global or function).
func appendOp(b []byte, op byte, index uint32) []byte {
	return appendU32(append(b, op), index)
}

// The yield host function Instrument imports: () -> ().
const (
	YieldModule = "wisp:engine"
	YieldFunc   = "yield"
)

// LongRunTicks is how many ticks an instance runs before it starts to call
// the yield function, every YieldEvery (a power of two) ticks. In a tight
// loop a tick comes every ~10 µs.
const (
	LongRunTicks = 32
	YieldEvery   = 8
)

// paramCounts returns the parameter count of each defined function.
func paramCounts(secs []section) ([]uint64, error) {
	ti, fi := find(secs, secType), find(secs, secFunction)
	if ti < 0 || fi < 0 {
		return nil, fmt.Errorf("code without type or function section")
	}
	r := reader{b: secs[ti].body}
	n, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("type section: %w", err)
	}
	typeParams := make([]uint64, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		form, err := r.byte()
		if err != nil {
			return nil, fmt.Errorf("type section: %w", err)
		}
		if form != 0x60 {
			return nil, fmt.Errorf("type section: unsupported type form %#x", form)
		}
		np, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("type section: %w", err)
		}
		for j := uint32(0); j < np; j++ {
			if err := r.valType(); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		}
		nr, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("type section: %w", err)
		}
		for j := uint32(0); j < nr; j++ {
			if err := r.valType(); err != nil {
				return nil, fmt.Errorf("type section: %w", err)
			}
		}
		typeParams = append(typeParams, uint64(np))
	}
	r = reader{b: secs[fi].body}
	nf, err := r.u32()
	if err != nil {
		return nil, fmt.Errorf("function section: %w", err)
	}
	out := make([]uint64, 0, min(nf, 1<<20))
	for i := uint32(0); i < nf; i++ {
		t, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("function section: %w", err)
		}
		if t >= uint32(len(typeParams)) {
			return nil, fmt.Errorf("function %d: type index %d out of range", i, t)
		}
		out = append(out, typeParams[t])
	}
	return out, nil
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

// unusedName returns base, or base#n for the smallest n that no export uses.
func unusedName(names map[string]bool, base string) string {
	if !names[base] {
		return base
	}
	for n := 2; ; n++ {
		if s := base + "#" + strconv.Itoa(n); !names[s] {
			return s
		}
	}
}

// exportNames returns the module's export names.
func exportNames(secs []section) (map[string]bool, error) {
	names := map[string]bool{}
	ei := find(secs, secExport)
	if ei < 0 {
		return names, nil
	}
	r := reader{b: secs[ei].body}
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < n; i++ {
		name, err := r.bytes()
		if err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
		if _, err := r.u32(); err != nil {
			return nil, err
		}
		names[string(name)] = true
	}
	return names, nil
}
