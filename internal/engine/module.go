package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/tetratelabs/wazero"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

var (
	// ErrNotWasm is returned by Compile for bytes that are not WebAssembly.
	ErrNotWasm = errors.New("not a WebAssembly binary (bad magic)")
	// ErrComponent is returned by Compile for a Component Model binary,
	// which this engine cannot run as a core module.
	ErrComponent = errors.New("is a WebAssembly component, not a core module")
)

var wasmMagic = []byte("\x00asm")

// IsComponent reports whether b starts with a Component Model header. Core
// modules and components share the magic; they differ in the next four bytes:
// a core module has version 1 and layer 0 ("\x01\x00\x00\x00"), a component
// has layer 1 (with a version that changed across pre-1.0 drafts).
func IsComponent(b []byte) bool {
	return len(b) >= 8 && bytes.Equal(b[:4], wasmMagic) && b[6] == 1 && b[7] == 0
}

// Module is a compiled core module. Runs share the compiled code; each run
// gets its own instance.
type Module struct {
	eng      *Engine
	compiled wazero.CompiledModule
	// What Instantiate and Instance need, computed once here so that
	// nothing is derived per instance.
	shape     moduleShape
	funcNames []string       // exported functions, sorted
	funcIndex map[string]int // name -> index in funcNames (Instance.funcs)
	memNames  []string       // names the memory is exported under, sorted
	// importModules are the distinct module names of the imports.
	importModules []string
	// interrupt and start are the export names rewrite.Instrument gave the
	// interrupt flag and the start function ("" if none); they are hidden
	// from Exports.
	interrupt, start string
	// Data segments before and after rewrite.MergeData, for diagnostics.
	DataSegments, MergedDataSegments int

	// image is the memory content a fresh instance starts with, written
	// by the memory allocator: the module's data segments (which
	// rewrite.Restorable moved out of the binary), or a snapshot's memory.
	// Without stripped, the data segments are still in the binary.
	image    []rewrite.Segment
	pages    *pageImage // image cut into pages, for pooled memories
	stripped bool
	// globals are the mutable globals Restorable exported, and
	// snapReason why Snapshot is impossible ("" if it is possible).
	globals    []rewrite.Global
	snapReason string
	// snap is set on a module made by Snapshot.
	snap *snapshot
}

// Compile validates and compiles a core module. Errors say why the bytes are
// unusable: not wasm, a component, or malformed (wrapping wazero's reason).
func (e *Engine) Compile(ctx context.Context, wasm []byte) (m *Module, err error) {
	if len(wasm) < 4 || !bytes.Equal(wasm[:4], wasmMagic) {
		return nil, ErrNotWasm
	}
	if IsComponent(wasm) {
		return nil, ErrComponent
	}
	// A malformed binary must never take the host down.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("invalid WebAssembly module: compiler panic: %v", r)
		}
	}()
	p, fromCache, err := cachedPrepare(e.prepDir, wasm)
	if err != nil {
		// Report wazero's reason if the original is invalid too.
		if _, cerr := e.rt.CompileModule(ctx, wasm); cerr != nil {
			return nil, fmt.Errorf("invalid WebAssembly module: %w", cerr)
		}
		return nil, fmt.Errorf("unsupported WebAssembly module: %w", err)
	}
	compiled, err := e.rt.CompileModule(ctx, p.Wasm)
	if err != nil && fromCache {
		// The entry passed its checks, so this should not happen; if it
		// does, the entry is suspect, not the module: redo the rewrite.
		dropPrepEntry(e.prepDir, wasm)
		if p, err = prepare(wasm); err == nil {
			compiled, err = e.rt.CompileModule(ctx, p.Wasm)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid WebAssembly module: %w", err)
	}
	m = &Module{eng: e, compiled: compiled, interrupt: p.Interrupt, start: p.Start,
		DataSegments: p.Data.Before, MergedDataSegments: p.Data.After,
		image: p.Image, pages: newPageImage(p.Image), stripped: p.Stripped, globals: p.Globals, snapReason: p.Reason}
	// A shape we cannot parse (an encoding newer than this parser) only
	// costs import diagnostics and start-function caller lookup, so it is
	// not an error; hasStart errs on the safe side.
	if m.shape, err = parseShape(wasm); err != nil {
		m.shape = moduleShape{hasStart: true}
	}
	for _, imp := range m.shape.imports {
		if !slices.Contains(m.importModules, imp.module) {
			m.importModules = append(m.importModules, imp.module)
		}
	}
	m.funcNames = m.Exports()
	m.funcIndex = make(map[string]int, len(m.funcNames))
	for i, name := range m.funcNames {
		m.funcIndex[name] = i
	}
	for name := range compiled.ExportedMemories() {
		m.memNames = append(m.memNames, name)
	}
	sort.Strings(m.memNames)
	return m, nil
}

// prepare rewrites a module for the engine: data segments merged (cheaper
// instantiation), made restorable (data segments moved into an image the
// engine writes itself, mutable globals exported: what snapshots need),
// its function table filled on first use (rewrite.LazyTable), then
// instrumented for interrupts (deadlines). An error means the module
// cannot be instrumented (malformed, or an instruction beyond WebAssembly
// 2.0), which would leave its deadline unenforceable.
//
// Its output depends on wasm alone and may be served from the prepared
// cache (prepcache.go): bump prepareVersion when changing it or a rewrite
// pass.
func prepare(wasm []byte) (*preparedModule, error) {
	merged, st, err := rewrite.MergeData(wasm)
	if err != nil {
		return nil, err
	}
	rs, err := rewrite.Restorable(merged)
	if err != nil {
		// Not restorable: the module runs as merged, without snapshots.
		rs = rewrite.RestorableModule{Wasm: merged, Reason: err.Error()}
	}
	// Filling the function table lazily keeps instantiation from paying
	// for every entry of a big table (a standard-Go module's has thousands).
	if lazy, _, err := rewrite.LazyTable(rs.Wasm); err == nil {
		rs.Wasm = lazy
	}
	inst, err := rewrite.Instrument(rs.Wasm)
	if err != nil {
		return nil, fmt.Errorf("cannot add deadline checks: %w", err)
	}
	return &preparedModule{Wasm: inst.Wasm, Interrupt: inst.Interrupt, Start: inst.Start,
		Image: rs.Image, Stripped: rs.Stripped, MemPages: rs.MemPages, Globals: rs.Globals, Reason: rs.Reason,
		Data: st}, nil
}

// Exports returns the names of the module's exported functions, sorted.
func (m *Module) Exports() []string {
	fns := m.compiled.ExportedFunctions()
	names := make([]string, 0, len(fns))
	for name := range fns {
		if name != m.start {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// Close releases the compiled code. Closing a module made by Snapshot only
// drops the snapshot; the code belongs to the module it was made from.
func (m *Module) Close(ctx context.Context) error {
	if m.snap != nil {
		m.image, m.pages = nil, zeroImage
		return nil
	}
	return m.compiled.Close(ctx)
}
