package rewrite

import (
	"fmt"
	"strconv"
)

// Segment is a run of a memory's content starting at Offset.
type Segment struct {
	Offset uint32
	Data   []byte
}

// Global is a module-defined mutable global that Restorable exported so
// that the host can read and write it.
type Global struct {
	Index  uint32 // in the module's global index space
	Type   byte   // value type: 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64
	Export string
}

// RestorableModule is a module whose instance state the host can set from
// outside: its initial memory content is held by the host instead of by
// active data segments, and its mutable globals are exported.
type RestorableModule struct {
	Wasm []byte
	// Stripped is set when the active data segments were removed from
	// Wasm: the host must write Image into a fresh instance's memory (the
	// memory the module defines) before the instance runs.
	Stripped bool
	Image    []Segment
	// MemPages is the defined memory's minimum size in pages (0 without
	// a defined memory).
	MemPages uint32
	Globals  []Global
	// Reason says why an instance's state cannot be captured and
	// restored ("" if it can): state outside memory and the mutable
	// numeric globals (tables, element segments, another module's memory
	// or globals) or data segments that could not be stripped.
	Reason string
}

// Restorable rewrites a module so that the host can capture an instance's
// state (its memory and mutable globals) and start other instances from it
// (pre-initialisation snapshots): the active data segments move out of the
// binary into Image (when every one writes memory 0 at a constant offset
// within the memory's minimum, and no function uses a data index), and every
// module-defined mutable numeric global is exported. Code, types and
// indices are unchanged. A module whose state cannot be captured is still
// rewritten as far as possible, with Reason set.
func Restorable(wasm []byte) (RestorableModule, error) {
	var res RestorableModule
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
	reasons := func(r string) {
		if res.Reason == "" {
			res.Reason = r
		}
	}
	switch {
	case imp.memories > 0:
		reasons("it imports its memory")
	case imp.tables > 0:
		reasons("it imports a table")
	case imp.globals > 0:
		reasons("it imports a global")
	}
	var bodies []funcBody
	if ci := find(secs, secCode); ci >= 0 {
		if bodies, err = parseCode(secs[ci].body); err != nil {
			return res, fmt.Errorf("code section: %w", err)
		}
	}
	usesDataIndex := false
	for _, b := range bodies {
		if b.mutatesTables {
			reasons("its code changes tables or element segments")
		}
		usesDataIndex = usesDataIndex || b.usesDataIndex
	}

	out := make([]section, len(secs))
	copy(out, secs)
	memMin, defined, err := memoryShape(secs)
	if err != nil {
		return res, fmt.Errorf("memory: %w", err)
	}
	if defined {
		res.MemPages = uint32(min(memMin, 1<<16))
		if reason := stripData(&out, memMin, usesDataIndex, &res); reason != "" {
			reasons(reason)
		}
	} else if imp.memories == 0 {
		res.Stripped = true // no memory: nothing to hold
	}

	// Export the mutable globals.
	names, err := exportNames(secs)
	if err != nil {
		return res, fmt.Errorf("export section: %w", err)
	}
	if gi := find(secs, secGlobal); gi >= 0 {
		r := reader{b: secs[gi].body}
		n, err := r.u32()
		if err != nil {
			return res, fmt.Errorf("global section: %w", err)
		}
		for k := uint32(0); k < n; k++ {
			t, err := r.byte()
			if err != nil {
				return res, fmt.Errorf("global section: %w", err)
			}
			if t == 0x63 || t == 0x64 {
				if err := r.skipLEB(5); err != nil {
					return res, fmt.Errorf("global section: %w", err)
				}
			}
			mut, err := r.byte()
			if err != nil {
				return res, fmt.Errorf("global section: %w", err)
			}
			if err := skipConstExpr(&r); err != nil {
				return res, fmt.Errorf("global section: %w", err)
			}
			if mut != 1 {
				continue
			}
			switch t {
			case 0x7f, 0x7e, 0x7d, 0x7c:
				idx := uint32(imp.globals) + k
				name := unusedName(names, "wisp:global#"+strconv.Itoa(int(idx)))
				names[name] = true
				res.Globals = append(res.Globals, Global{Index: idx, Type: t, Export: name})
			default:
				reasons("it has a mutable reference or vector global")
			}
		}
	}
	if len(res.Globals) > 0 {
		var extra []byte
		for _, g := range res.Globals {
			extra = appendName(extra, g.Export)
			extra = append(extra, 0x03)
			extra = appendU32(extra, g.Index)
		}
		if ei := find(out, secExport); ei >= 0 {
			r := reader{b: out[ei].body}
			n, _ := r.u32()
			body := appendU32(nil, n+uint32(len(res.Globals)))
			body = append(body, out[ei].body[r.off:]...)
			out[ei].body = append(body, extra...)
		} else {
			out = insert(out, section{id: secExport, body: append(appendU32(nil, uint32(len(res.Globals))), extra...)})
		}
	}
	res.Wasm = joinSections(out)
	return res, nil
}

// stripData moves the active data segments of a module-defined memory
// into res.Image, or says why it cannot.
func stripData(out *[]section, memMin uint64, usesDataIndex bool, res *RestorableModule) string {
	secs := *out
	di := find(secs, secData)
	if di < 0 {
		res.Stripped = true
		return ""
	}
	active, passive, err := parseData(secs[di].body)
	if err != nil {
		return "data section: " + err.Error()
	}
	if len(active) == 0 {
		res.Stripped = true
		return ""
	}
	if reason := unmergeable(active); reason != "" {
		return reason
	}
	if usesDataIndex {
		// Removing segments would renumber the passive ones.
		return "code uses data indices (memory.init/data.drop)"
	}
	for _, a := range active {
		if uint64(a.off)+uint64(len(a.data)) > memMin*65536 {
			// Instantiation must fail; leave that to the runtime.
			return "a data segment lies beyond the memory's minimum size"
		}
	}
	for _, a := range active {
		if len(a.data) > 0 {
			res.Image = append(res.Image, Segment{Offset: a.off, Data: a.data})
		}
	}
	res.Stripped = true
	if len(passive) == 0 {
		*out = append(secs[:di:di], secs[di+1:]...)
		if ci := find(*out, secDataCount); ci >= 0 {
			*out = append((*out)[:ci:ci], (*out)[ci+1:]...)
		}
		return ""
	}
	body := appendU32(nil, uint32(len(passive)))
	for _, p := range passive {
		body = append(body, p...)
	}
	secs[di].body = body
	if ci := find(secs, secDataCount); ci >= 0 {
		secs[ci].body = appendU32(nil, uint32(len(passive)))
	}
	return ""
}
