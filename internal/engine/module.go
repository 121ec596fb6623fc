package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/tetratelabs/wazero"
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
	compiled, err := e.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("invalid WebAssembly module: %w", err)
	}
	m = &Module{eng: e, compiled: compiled}
	// A shape we cannot parse (an encoding newer than this parser) only
	// costs import diagnostics and start-function caller lookup, so it is
	// not an error; hasStart errs on the safe side.
	if m.shape, err = parseShape(wasm); err != nil {
		m.shape = moduleShape{hasStart: true}
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

// Exports returns the names of the module's exported functions, sorted.
func (m *Module) Exports() []string {
	fns := m.compiled.ExportedFunctions()
	names := make([]string, 0, len(fns))
	for name := range fns {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close releases the compiled code.
func (m *Module) Close(ctx context.Context) error {
	return m.compiled.Close(ctx)
}
