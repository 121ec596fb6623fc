package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// Importable is something a module can import from: an *Instance (any of its
// exports: functions, memories, tables, globals) or a *HostModule.
type Importable interface {
	apiModule() api.Module
	// hasExport reports whether name is exported with kind k, and
	// otherwise the kind it has (for "is a function, not a memory").
	hasExport(name string, k externKind) (ok bool, actual externKind)
}

var (
	_ Importable = (*Instance)(nil)
	_ Importable = (*HostModule)(nil)
)

// Imports maps an import's module name to what satisfies it. A linker
// rewrites import module names so that each names exactly one source, for
// example "#3" for the fourth instance of a request, or a host module's
// name. It returns nil for names it does not know; those fall back to the
// engine's built-in modules (wasi_snapshot_preview1) and otherwise fail.
// It is called during Instantiate only, from the calling goroutine.
type Imports func(moduleName string) Importable

// ImportMap is the simplest Imports: a fixed map.
func ImportMap(m map[string]Importable) Imports {
	return func(name string) Importable { return m[name] }
}

// Instance is one instantiation of a Module. The instances of one request
// import from each other, so they are closed together when the request ends
// (Group). An Instance must be used by one goroutine at a time, which is what
// a request does; host functions it calls run on that goroutine.
type Instance struct {
	mod    api.Module
	module *Module
	funcs  []*Func // by Module.funcIndex; allocated on the first Func call
	memory *Memory // the instance's memory (wasm has at most one), lazily wrapped
	closed bool
	// flag is the instance's interrupt global and dom the instances it
	// is linked with (see interrupt.go).
	flag api.MutableGlobal
	dom  *domain
}

// Instantiate creates a fresh, anonymous instance of m, resolving its
// imports through imports (nil: only the built-in modules), and runs the
// module's start function if it has one. It does not call _start or
// _initialize: the caller decides. Instantiation compiles nothing and builds
// no maps. The instance's linear memory comes from the engine's pool of
// mappings outside the Go heap (zeroed, returned on Close).
//
// Errors name the failing import: `import "#3"."memory": no such export`,
// `import "#3"."f": is a memory, not a function`, or wazero's description of
// a type mismatch. A start function's exit or trap is reported as by Call.
func (m *Module) Instantiate(ctx context.Context, imports Imports) (inst *Instance, err error) {
	defer func() {
		if r := recover(); r != nil {
			inst, err = nil, fmt.Errorf("engine: internal error instantiating module: %v", r)
		}
	}()
	ictx := ctx
	if imports != nil && len(m.shape.imports) > 0 {
		ictx = experimental.WithImportResolver(ctx, func(name string) api.Module {
			if name == rewrite.YieldModule {
				return nil // the engine's own, instantiated by name
			}
			if src := imports(name); src != nil && !isNil(src) {
				return src.apiModule()
			}
			return nil
		})
	}
	cfg := m.eng.instCfg
	var env [][]byte
	if rc, ok := ctx.Value(wasiKey{}).(*RunConfig); ok && m.importsWASI() {
		// The instance's WASI preview1 view (args, environment, stdio,
		// files) for this request; building it allocates, so only callers
		// that set one pay for it.
		if cfg, env, err = moduleConfig(*rc); err != nil {
			return nil, err
		}
	}
	mod, alloc, err := m.instantiate(ictx, cfg)
	if err != nil {
		alloc.release()
		return nil, m.instantiateError(ctx, imports, err)
	}
	m.eng.setEnviron(mod, env)
	inst = &Instance{mod: mod, module: m}
	inst.flag, _ = mod.ExportedGlobal(m.interrupt).(api.MutableGlobal)
	inst.joinDomain(imports)
	m.eng.callers.Store(mod, inst)
	if m.start != "" && m.snap == nil {
		// The start function, which Compile took out of the start section
		// so that it runs with the deadline armed (a snapshot ran it
		// already).
		f := inst.mod.ExportedFunction(m.start)
		stop := inst.dom.arm(ctx)
		_, err := f.Call(ctx)
		stop()
		if err != nil {
			err = callError(ctx, inst, err)
			inst.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("instantiating module: start function: %w", err)
		}
	}
	return inst, nil
}

// instantiate instantiates m's code with a pooled memory holding m's
// image, and for a snapshot module restores the captured globals and memory
// size. The memory comes from the pool, or, where there is none, from the
// Go heap when the image has to be written (otherwise wazero allocates it).
func (m *Module) instantiate(ctx context.Context, cfg wazero.ModuleConfig) (api.Module, *instAlloc, error) {
	e := m.eng
	var alloc *instAlloc
	if e.mems != nil || (m.stripped && len(m.image) > 0) {
		alloc = &instAlloc{pool: e.mems, image: m.image, pages: m.pages}
		ctx = experimental.WithMemoryAllocator(ctx, alloc)
	}
	mod, err := e.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err == nil && m.snap != nil {
		if err = m.snap.restore(m, mod); err != nil {
			mod.Close(ctx)
			return nil, nil, err
		}
	}
	return mod, alloc, err
}

// isNil catches a typed nil (*Instance)(nil) returned as an Importable.
func isNil(src Importable) bool {
	switch s := src.(type) {
	case *Instance:
		return s == nil
	case *HostModule:
		return s == nil
	}
	return false
}

// caller maps the api.Module wazero passes to a host function to our
// *Instance. callers is a sync.Map (a lock-free hash trie since Go 1.24):
// a load neither locks nor allocates, and the per-instance store/delete is
// small next to instantiation itself.
func (e *Engine) caller(mod api.Module) *Instance {
	if v, ok := e.callers.Load(mod); ok {
		return v.(*Instance)
	}
	return nil
}

// instantiateError explains a failed instantiation. The common failures are
// diagnosed from the module's import list, because wazero's messages name
// the anonymous exporting instance as "" ("\"memory\" is not exported in
// module \"\""). This runs on the error path only.
func (m *Module) instantiateError(ctx context.Context, imports Imports, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) || ctx.Err() != nil {
		return fmt.Errorf("instantiating module: start function: %w", callError(ctx, nil, err))
	}
	for _, imp := range m.shape.imports {
		var src Importable
		if imports != nil {
			src = imports(imp.module)
		}
		if src == nil || isNil(src) {
			if m.eng.rt.Module(imp.module) != nil {
				continue // a built-in module; wazero checked it
			}
			return fmt.Errorf("import %q.%q: no module %q is provided", imp.module, imp.name, imp.module)
		}
		ok, actual := src.hasExport(imp.name, imp.kind)
		if ok {
			continue
		}
		if actual != imp.kind {
			return fmt.Errorf("import %q.%q: is a %s, not a %s", imp.module, imp.name, actual, imp.kind)
		}
		return fmt.Errorf("import %q.%q: no such export", imp.module, imp.name)
	}
	if strings.HasPrefix(err.Error(), "start ") {
		return fmt.Errorf("instantiating module: start function: %w", callError(ctx, nil, err))
	}
	// Type mismatches ("import func[#0.f]: signature mismatch: i32 != i64"),
	// table/memory limits, out-of-bounds segments.
	return fmt.Errorf("instantiating module: %w", err)
}

func (i *Instance) apiModule() api.Module { return i.mod }

func (i *Instance) hasExport(name string, k externKind) (bool, externKind) {
	actual := externKind(0xff)
	for _, e := range i.module.shape.exports {
		if e.name == name {
			if e.kind == k {
				return true, k
			}
			actual = e.kind
		}
	}
	if actual == 0xff {
		actual = k // not exported at all
	}
	return false, actual
}

// Module returns the compiled module this is an instance of.
func (i *Instance) Module() *Module { return i.module }

// ExportedFunctionNames returns the names of the exported functions, sorted.
func (i *Instance) ExportedFunctionNames() []string { return slices.Clone(i.module.funcNames) }

// ExportedMemoryNames returns the names under which the instance's memory
// is exported, sorted.
func (i *Instance) ExportedMemoryNames() []string { return slices.Clone(i.module.memNames) }

// Func returns the exported function name, or nil. The *Func is cached: a
// second call returns the same value without allocating.
func (i *Instance) Func(name string) *Func {
	idx, ok := i.module.funcIndex[name]
	if !ok || i.closed {
		return nil
	}
	if i.funcs == nil {
		i.funcs = make([]*Func, len(i.module.funcNames))
	}
	if f := i.funcs[idx]; f != nil {
		return f
	}
	fn := i.mod.ExportedFunction(name)
	if fn == nil {
		return nil
	}
	def := fn.Definition()
	f := &Func{inst: i, name: name, fn: fn, nParams: len(def.ParamTypes()), nResults: len(def.ResultTypes())}
	i.funcs[idx] = f
	return f
}

// Call calls the exported function name with params and returns its
// results. It allocates the results; use Func for the allocation-free path.
func (i *Instance) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	f := i.Func(name)
	if f == nil {
		return nil, fmt.Errorf("instance has no exported function %q", name)
	}
	if len(params) != f.nParams {
		return nil, fmt.Errorf("function %q takes %d parameters, got %d", name, f.nParams, len(params))
	}
	stack := make([]uint64, f.StackSize())
	copy(stack, params)
	if err := f.Call(ctx, stack); err != nil {
		return nil, err
	}
	return stack[:f.nResults], nil
}

// Memory returns the instance's memory if it is exported as name, or nil.
func (i *Instance) Memory(name string) *Memory {
	if i.closed || !slices.Contains(i.module.memNames, name) {
		return nil
	}
	return i.mainMemory()
}

// DefaultMemory returns the instance's memory, exported or not (a module
// may also have imported it), or nil if it has none.
func (i *Instance) DefaultMemory() *Memory {
	if i.closed {
		return nil
	}
	return i.mainMemory()
}

func (i *Instance) mainMemory() *Memory {
	if i.memory == nil {
		mem := memoryOf(i.mod)
		if mem == nil {
			return nil
		}
		i.memory = &Memory{mem: mem, inst: i}
	}
	return i.memory
}

// Close releases the instance and its memory. Closing twice is fine. Other
// instances that imported its memory, tables or functions must not be
// called afterwards: close a request's instances together (Group).
func (i *Instance) Close(ctx context.Context) error {
	if i.closed {
		return nil
	}
	i.closed = true
	i.module.eng.callers.Delete(i.mod)
	i.module.eng.environs.Delete(i.mod)
	return i.mod.Close(ctx)
}

// Group is the instances of one request, in instantiation order. They import
// from each other, so they live and die together: Close closes them in
// reverse order (importers before exporters), once the request is done.
type Group []*Instance

// Close closes every instance and returns the first error.
func (g Group) Close(ctx context.Context) error {
	var first error
	for k := len(g) - 1; k >= 0; k-- {
		if g[k] == nil {
			continue
		}
		if err := g[k].Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Func is an exported function of an Instance, for calls that allocate
// nothing beyond what the guest does.
type Func struct {
	inst              *Instance
	name              string
	fn                api.Function
	nParams, nResults int
	// busy is set while fn runs. wazero's api.Function owns one call stack
	// and is not re-entrant, so a nested call of the same export (guest →
	// host → same export) uses a fresh api.Function.
	busy bool
}

// Name returns the export name.
func (f *Func) Name() string { return f.name }

// NumParams and NumResults give the function's arity.
func (f *Func) NumParams() int  { return f.nParams }
func (f *Func) NumResults() int { return f.nResults }

// StackSize is the length Call needs: max(NumParams, NumResults).
func (f *Func) StackSize() int { return max(f.nParams, f.nResults) }

// Call calls the function with its parameters in stack[:NumParams] and
// leaves its results in stack[:NumResults].
//
// Errors: a guest trap or a host function's abort is a *TrapError; an exit
// (proc_exit, wasi:cli/exit) is an *ExitError; ctx's deadline wraps
// ErrTimeout and context.DeadlineExceeded; cancellation wraps
// context.Canceled. After any of these the instance's state is undefined:
// discard the request's instances.
func (f *Func) Call(ctx context.Context, stack []uint64) error {
	if len(stack) < f.StackSize() {
		return fmt.Errorf("function %q needs a stack of %d values, got %d", f.name, f.StackSize(), len(stack))
	}
	if f.inst.closed {
		return fmt.Errorf("function %q: instance is closed", f.name)
	}
	fn := f.fn
	if f.busy {
		if fn = f.inst.mod.ExportedFunction(f.name); fn == nil {
			return fmt.Errorf("function %q: instance is closed", f.name)
		}
	} else {
		f.busy = true
		defer func() { f.busy = false }()
	}
	if ctx.Err() != nil {
		return callError(ctx, f.inst, ctx.Err())
	}
	stop := f.inst.dom.arm(ctx)
	err := fn.CallWithStack(ctx, stack)
	stop()
	if err != nil {
		return callError(ctx, f.inst, err)
	}
	return nil
}

// callError turns wazero's error from a call (or a start function) into
// ours. inst, if not nil, is used to note an out-of-memory condition.
func callError(ctx context.Context, inst *Instance, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		// wazero reports a deadline or cancellation as an exit with a
		// reserved code; a guest could exit with that code too, so trust
		// it only if the context agrees.
		switch {
		case exit.ExitCode() == sys.ExitCodeDeadlineExceeded && ctx.Err() != nil:
			return timeoutError()
		case exit.ExitCode() == sys.ExitCodeContextCanceled && ctx.Err() != nil:
			return fmt.Errorf("guest call canceled: %w", context.Canceled)
		}
		return &ExitError{Code: exit.ExitCode()}
	}
	if errors.Is(err, ErrTimeout) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return timeoutError()
	}
	if errors.Is(err, context.Canceled) || (errors.Is(ctx.Err(), context.Canceled) && inst.interrupted()) {
		return fmt.Errorf("guest call canceled: %w", context.Canceled)
	}
	// From a nested call, re-panicked by a host function.
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee
	}
	var te *TrapError
	if errors.As(err, &te) {
		return te
	}
	var hp *hostPanic
	if errors.As(err, &hp) {
		_, trace, _ := strings.Cut(err.Error(), "\n")
		return &TrapError{Message: hp.Error(), Trace: trace, Err: hp.err}
	}
	trap := newTrapError(err)
	if inst != nil && inst.mod != nil {
		if mem := memoryOf(inst.mod); mem != nil {
			trap.noteMemory(uint64(mem.Size()), inst.module.eng.memLimit)
		}
	}
	return trap
}

// interrupted reports whether the instance's domain was interrupted.
func (i *Instance) interrupted() bool {
	if i == nil || i.dom == nil {
		return false
	}
	i.dom.mu.Lock()
	defer i.dom.mu.Unlock()
	return i.dom.fired
}

// memoryOf returns mod's memory or nil. wazero returns a module without
// memory's missing memory as a typed nil inside api.Memory.
func memoryOf(mod api.Module) api.Memory {
	mem := mod.Memory()
	if mem == nil || reflect.ValueOf(mem).IsNil() {
		return nil
	}
	return mem
}

func timeoutError() error { return fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded) }

// Memory is an instance's linear memory. Every access is bounds-checked.
// Slices returned by Read alias the memory: they are valid until the guest
// runs again (which may grow, and so move, the memory) and only while the
// instance is open. A nil *Memory behaves as an empty memory, so a missing
// export stored in an interface (cabi.Memory) fails accesses instead of
// panicking.
type Memory struct {
	mem  api.Memory
	inst *Instance // nil for a memory not owned by an Instance
}

// gone reports whether the memory's instance was closed: its pages may
// already belong to another instance.
func (m *Memory) gone() bool { return m == nil || (m.inst != nil && m.inst.closed) }

// Read returns n bytes at off, or false if [off, off+n) is out of bounds.
func (m *Memory) Read(off, n uint32) ([]byte, bool) {
	if m.gone() {
		return nil, false
	}
	return m.mem.Read(off, n)
}

// Write copies b to off, or returns false if it does not fit.
func (m *Memory) Write(off uint32, b []byte) bool {
	if m.gone() {
		return false
	}
	return m.mem.Write(off, b)
}

// Size returns the size in bytes.
func (m *Memory) Size() uint32 {
	if m.gone() {
		return 0
	}
	return m.mem.Size()
}

// Grow adds pages 64 KiB pages and returns the previous size in pages, or
// false if that would pass the memory's maximum or the engine's limit.
func (m *Memory) Grow(pages uint32) (previous uint32, ok bool) {
	if m.gone() {
		return 0, false
	}
	return m.mem.Grow(pages)
}

type wasiKey struct{}

// WithWASI returns a context under which Instantiate gives new instances
// rc's WASI preview1 view: arguments, environment, stdin/stdout/stderr and
// files (rc.Entrypoint is ignored). Without it, instances see no arguments,
// no environment and no stdio. Executors set it per request for guests that
// use preview1 beside the canonical ABI, such as the Go runtime inside a
// Wisp Go SDK module.
func WithWASI(ctx context.Context, rc RunConfig) context.Context {
	return context.WithValue(ctx, wasiKey{}, &rc)
}

// importsWASI reports whether the module imports WASI preview1.
func (m *Module) importsWASI() bool {
	for _, imp := range m.shape.imports {
		if imp.module == "wasi_snapshot_preview1" {
			return true
		}
	}
	return false
}
