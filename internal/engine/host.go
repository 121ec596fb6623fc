package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// ValueType is a core WebAssembly value type, encoded as in the binary
// format.
type ValueType byte

const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	ExternRef ValueType = 0x6f // an opaque host value, as a uintptr
	FuncRef   ValueType = 0x70
)

func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case ExternRef:
		return "externref"
	case FuncRef:
		return "funcref"
	}
	return fmt.Sprintf("valtype(%#x)", byte(t))
}

// HostFunc is a Go function guests can import.
//
// Per-request state reaches Fn through ctx: it is the context the host passed
// to the export call (Instance.Call / Func.Call) that led to this import call,
// or to Instantiate for a start function. A HostModule is shared by every
// request, so Fn must keep no per-request state of its own: put it in ctx
// once per request (one context.WithValue) and read it back here.
//
// Fn receives the parameters in stack[:len(Params)] and writes the results to
// stack[:len(Results)] (wazero's api.GoModuleFunction convention), so a call
// allocates nothing. I32 and F32 values are in the low 32 bits; floats are
// their IEEE bit patterns.
//
// caller is the instance whose code executed the call instruction (for a
// call_indirect through a table another module filled, that is the instance
// doing the call_indirect, not the one that put the function there). It is
// nil only when the caller was not created by Module.Instantiate. Fn may call
// back into it (for example cabi_realloc through caller.Func): re-entrancy is
// supported.
//
// To abort the guest, Fn panics: with *ExitError to exit (the export call
// returns that *ExitError), with any other error or value to trap (the call
// returns a *TrapError naming this function, whose Err is the panicked error).
// An error returned by a nested Instance call (*TrapError, *ExitError, a
// timeout) may be re-panicked as is and reaches the outer caller unchanged.
// A panic never crashes the host.
type HostFunc struct {
	Name            string
	Params, Results []ValueType
	Fn              func(ctx context.Context, caller *Instance, stack []uint64)
}

// HostModule is a set of host functions, instantiated once and shared by all
// instances that import it (Importable). It is safe for concurrent use.
type HostModule struct {
	name  string
	mod   api.Module
	funcs map[string]struct{} // export names, for import diagnostics
}

// NewHostModule defines a host module. name appears in error messages and
// traces only: which import module name it satisfies is decided per
// Instantiate by the Imports function, so host modules never collide in the
// runtime's namespace and two apps can each have their own "wasi:io/streams".
func (e *Engine) NewHostModule(ctx context.Context, name string, funcs []HostFunc) (*HostModule, error) {
	h := &HostModule{name: name, funcs: make(map[string]struct{}, len(funcs))}
	b := e.rt.NewHostModuleBuilder(name)
	for _, f := range funcs {
		if _, dup := h.funcs[f.Name]; dup {
			return nil, fmt.Errorf("host module %q: function %q defined twice", name, f.Name)
		}
		if f.Fn == nil {
			return nil, fmt.Errorf("host module %q: function %q has no Fn", name, f.Name)
		}
		params, err := apiTypes(f.Params)
		if err != nil {
			return nil, fmt.Errorf("host module %q: function %q: %w", name, f.Name, err)
		}
		results, err := apiTypes(f.Results)
		if err != nil {
			return nil, fmt.Errorf("host module %q: function %q: %w", name, f.Name, err)
		}
		h.funcs[f.Name] = struct{}{}
		b = b.NewFunctionBuilder().
			WithGoModuleFunction(e.hostCall(name, f), params, results).
			WithName(f.Name).
			Export(f.Name)
	}
	compiled, err := b.Compile(ctx)
	if err != nil {
		return nil, fmt.Errorf("host module %q: %w", name, err)
	}
	// Anonymous: resolution goes through Instantiate's import resolver, not
	// the runtime's name table.
	mod, err := e.rt.InstantiateModule(ctx, compiled, e.hostCfg)
	if err != nil {
		return nil, fmt.Errorf("host module %q: %w", name, err)
	}
	h.mod = mod
	return h, nil
}

// Name returns the name given to NewHostModule.
func (h *HostModule) Name() string { return h.name }

// Close releases the host module. Instances importing it must be closed
// first.
func (h *HostModule) Close(ctx context.Context) error { return h.mod.Close(ctx) }

func (h *HostModule) apiModule() api.Module { return h.mod }

func (h *HostModule) hasExport(name string, k externKind) (bool, externKind) {
	_, ok := h.funcs[name]
	return ok && k == kindFunc, kindFunc
}

func apiTypes(ts []ValueType) ([]api.ValueType, error) {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		switch t {
		case I32, I64, F32, F64, ExternRef, FuncRef:
			out[i] = api.ValueType(t)
		default:
			return nil, fmt.Errorf("unsupported value type %s", t)
		}
	}
	return out, nil
}

// hostCall adapts f to wazero. The per-call work is one lock-free map load
// (caller lookup) and a deferred recover; nothing allocates.
func (e *Engine) hostCall(module string, f HostFunc) api.GoModuleFunc {
	fn := f.Fn
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		defer func() {
			if r := recover(); r != nil {
				panic(hostAbort(module, f.Name, r))
			}
		}()
		fn(ctx, e.caller(mod), stack)
	}
}

// hostPanic is what a host function's panic becomes on its way through
// wazero; callError turns it into a *TrapError.
type hostPanic struct {
	module, name string
	value        any
	err          error // value, if it is an error
}

func (p *hostPanic) Error() string {
	return fmt.Sprintf("host function %q.%q: %v", p.module, p.name, p.value)
}

func (p *hostPanic) Unwrap() error { return p.err }

// hostAbort decides what a host function's panic value is re-panicked as.
// wazero recovers it at the outermost call boundary and returns it as an
// error (wrapped with %w), except a *sys.ExitError, which it returns as is.
func hostAbort(module, name string, r any) any {
	err, isErr := r.(error)
	if !isErr {
		return &hostPanic{module: module, name: name, value: r}
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return sys.NewExitError(exit.Code)
	}
	var trap *TrapError
	var sysExit *sys.ExitError
	if errors.As(err, &trap) || errors.As(err, &sysExit) || errors.Is(err, ErrTimeout) || errors.Is(err, context.Canceled) {
		// The outcome of a nested guest call: pass it through so the outer
		// caller sees the innermost cause.
		return err
	}
	return &hostPanic{module: module, name: name, value: r, err: err}
}
