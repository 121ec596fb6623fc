package component

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/component/binary"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/engine"
)

// This file is the package's contract with executors and host interface
// packages; the linker implements it.

// Component is a linked component: decoded, its core modules compiled with
// their imports redirected, its imports bound to the Host. It is immutable
// and shared by all instances; instantiating it costs no compilation.
//
// The plan it holds is flat: slots (core module instantiations, in order,
// each importing only from earlier slots, "#<k>", and from the component's
// host module), the host module (every lowered import and canonical
// builtin, defined once), the distinct canonical option sets, and the
// export table.
type Component struct {
	eng      *engine.Engine
	slots    []*engine.Module // by slot; the same *Module may serve several slots
	modules  []*engine.Module // distinct, for Close
	hostMod  *engine.HostModule
	opts     []optsSpec
	exports  map[string]map[string]*exportFunc // interface ("" for world-level funcs) → func
	names    []string                          // exported interfaces, sorted
	warnings []string
	layouts  *cabi.Layouts
	// initFunc is called once per instance after instantiation
	// (LoadCore: a reactor's "_initialize"), unless a snapshot taken
	// after it replaced slot 0 (snapshotInit); snapshotErr says why not.
	initFunc    string
	snapshotErr error
}

// exportFunc is one lifted export.
type exportFunc struct {
	slot     int
	name     string // core export
	typ      *cabi.FuncType
	opts     int
	postSlot int // -1: no post-return
	postName string
	nParams  int // core parameters
	nResults int // core results
}

// Load decodes and links a Component Model binary against host (nil: an
// empty host, every import traps when called).
func Load(ctx context.Context, eng *engine.Engine, wasm []byte, host *Host) (*Component, error) {
	l, err := link(ctx, eng, wasm, host)
	if err != nil {
		return nil, err
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// link decodes and evaluates a component into a plan, without compiling.
func link(ctx context.Context, eng *engine.Engine, wasm []byte, host *Host) (l *linker, err error) {
	if !binary.IsComponent(wasm) {
		if len(wasm) >= 8 && string(wasm[:4]) == "\x00asm" && wasm[4] == 1 {
			return nil, errors.New("component: not a component but a core module (use LoadCore)")
		}
		return nil, errors.New("component: not a WebAssembly component binary")
	}
	bin, err := binary.Decode(wasm)
	if err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			l, err = nil, fmt.Errorf("component: internal error linking: %v", r)
		}
	}()
	l = newLinker(ctx, eng, host)
	root, err := l.evalComponent(bin, nil, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	for _, name := range root.exports.order {
		v := root.exports.exports[name]
		switch {
		case v.inst != nil:
			for _, fname := range v.inst.order {
				fv := v.inst.exports[fname]
				if fv.fn == nil {
					continue
				}
				if err := l.export(name, fname, fv.fn); err != nil {
					return nil, fmt.Errorf("component: %w", err)
				}
			}
		case v.fn != nil:
			if err := l.export("", name, v.fn); err != nil {
				return nil, fmt.Errorf("component: %w", err)
			}
		}
	}
	return l, nil
}

// export records a lifted function in the export table.
func (l *linker) export(iface, name string, fv *funcVal) error {
	label := name
	if iface != "" {
		label = iface + "#" + name
	}
	if !fv.lifted {
		return fmt.Errorf("export %s: re-exporting an imported function is not supported", label)
	}
	if fv.core.slot < 0 {
		return fmt.Errorf("export %s: lifts a host function", label)
	}
	params, results, err := cabi.FlattenFunc(fv.typ, cabi.CanonLift)
	if err != nil {
		return fmt.Errorf("export %s: %w", label, err)
	}
	ef := &exportFunc{slot: fv.core.slot, name: fv.core.name, typ: fv.typ, opts: fv.opts, postSlot: -1,
		nParams: len(params), nResults: len(results)}
	if err := l.checkCoreExport(ef.slot, ef.name, coreTypesOf(params), coreTypesOf(results)); err != nil {
		return fmt.Errorf("export %s: %w", label, err)
	}
	if fv.post != nil {
		ef.postSlot, ef.postName = fv.post.slot, fv.post.name
		if err := l.checkCoreExport(ef.postSlot, ef.postName, coreTypesOf(results), nil); err != nil {
			return fmt.Errorf("export %s: post-return: %w", label, err)
		}
	}
	m := l.c.exports[iface]
	if m == nil {
		m = make(map[string]*exportFunc)
		l.c.exports[iface] = m
		l.c.names = append(l.c.names, iface)
	}
	m[name] = ef
	return nil
}

func (l *linker) checkCoreExport(slot int, name string, params, results []engineValueType) error {
	for _, e := range l.slots[slot].exports {
		if e.Name != name {
			continue
		}
		if e.Kind != binary.CoreExternFunc {
			return fmt.Errorf("core export %q is a %s, not a function", name, e.Kind)
		}
		if !sameCoreSig(e.Func, params, results) {
			return fmt.Errorf("core export %q has type %s, the canonical ABI needs %s", name, funcSig(e.Func), sigString(params, results))
		}
		return nil
	}
	return fmt.Errorf("core module %d has no export %q", slot, name)
}

// finish compiles the slots and defines the host module.
func (l *linker) finish() (err error) {
	c := l.c
	sort.Strings(c.names)
	defer func() {
		if err != nil {
			c.Close(l.ctx)
		}
	}()
	byHash := make(map[[32]byte]*engine.Module)
	c.slots = make([]*engine.Module, len(l.slots))
	for k, s := range l.slots {
		sum := sha256.Sum256(s.bytes)
		m := byHash[sum]
		if m == nil {
			if m, err = l.eng.Compile(l.ctx, s.bytes); err != nil {
				return fmt.Errorf("component: core module instance %d: %w", k, err)
			}
			byHash[sum] = m
			c.modules = append(c.modules, m)
		}
		c.slots[k] = m
	}
	if c.hostMod, err = l.eng.NewHostModule(l.ctx, hostModuleName, l.hostFuncs); err != nil {
		return fmt.Errorf("component: %w", err)
	}
	return nil
}

// LoadCore links a core module that speaks the canonical ABI directly:
// it imports host interfaces by their canonical names (module
// "wasi:http/types@0.2.0", field "[method]fields.get"), exports "memory",
// "cabi_realloc" and functions named "<interface>#<func>" (for example
// "wasi:http/incoming-handler@0.2.0#handle"). The result behaves exactly
// like a component with the same imports and exports.
//
// Types come from the WIT definitions the Host knows (wit.Builtin and the
// packages given to NewHostWithWIT); strings are UTF-8. Imports of
// "wasi_snapshot_preview1" bind to the engine's built-in WASI (what the Go
// runtime itself needs). A module exporting "_initialize" (a reactor) has it
// called once per instance, after instantiation.
func LoadCore(ctx context.Context, eng *engine.Engine, wasm []byte, host *Host) (c *Component, err error) {
	if binary.IsComponent(wasm) {
		return nil, errors.New("component: LoadCore: is a component, not a core module (use Load)")
	}
	imps, err := binary.CoreImports(wasm)
	if err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	exps, err := binary.CoreExports(wasm)
	if err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("component: internal error linking: %v", r)
		}
	}()
	l := newLinker(ctx, eng, host)
	exported := make(map[string]binary.CoreExport, len(exps))
	for _, e := range exps {
		exported[e.Name] = e
	}
	spec := optsSpec{enc: cabi.UTF8, memSlot: -1, reallocSlot: -1}
	if e, ok := exported["memory"]; ok && e.Kind == binary.CoreExternMemory {
		spec.memSlot, spec.memName = 0, "memory"
	}
	if e, ok := exported["cabi_realloc"]; ok && e.Kind == binary.CoreExternFunc {
		spec.reallocSlot, spec.reallocName = 0, "cabi_realloc"
	}
	opts := l.optsFor(spec)
	_, err = l.instantiateCore(&modVal{bytes: wasm, imports: imps, exports: exps}, func(imp binary.CoreImport) (coreItem, error) {
		if imp.Module == "wasi_snapshot_preview1" {
			return coreItem{slot: -2}, nil
		}
		if imp.Type.Kind != binary.CoreExternFunc {
			return coreItem{}, fmt.Errorf("only functions can be imported from host interfaces, not a %s", imp.Type.Kind)
		}
		wi, ok := l.host.lookupInterface(imp.Module)
		if !ok {
			return coreItem{}, fmt.Errorf("unknown interface %q", imp.Module)
		}
		if rname, ok := strings.CutPrefix(imp.Name, "[resource-drop]"); ok {
			r := wi.Resources[rname]
			if r == nil {
				return coreItem{}, fmt.Errorf("interface %s has no resource %q", wi.Name, rname)
			}
			return l.resourceBuiltin(binary.CanonResourceDrop, r)
		}
		wf := wi.Funcs[imp.Name]
		if wf == nil {
			return coreItem{}, fmt.Errorf("interface %s has no function %q", wi.Name, imp.Name)
		}
		return l.lower(&funcVal{typ: wf.Type, iface: imp.Module, name: imp.Name}, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("component: %w", err)
	}
	for _, e := range exps {
		if e.Kind != binary.CoreExternFunc {
			continue
		}
		iface, fname, ok := strings.Cut(e.Name, "#")
		var wf *wit.Func
		if ok {
			wi, ok := l.host.lookupInterface(iface)
			if !ok {
				return nil, fmt.Errorf("component: export %q: unknown interface %q", e.Name, iface)
			}
			if wf = wi.Funcs[fname]; wf == nil {
				return nil, fmt.Errorf("component: export %q: interface %s has no function %q", e.Name, wi.Name, fname)
			}
		} else {
			// A world-level function (the MQTT trigger's handle-message,
			// cron's handle-cron-event): typed by the world that exports
			// it. Other plain exports (_initialize, cabi_*, a Go runtime's
			// own) are not canonical-ABI functions and stay unlinked.
			if wf, ok = l.host.worldExportFunc(e.Name); !ok {
				continue
			}
			iface, fname = "", e.Name
		}
		fv := &funcVal{typ: wf.Type, lifted: true, core: coreItem{kind: binary.CoreExternFunc, slot: 0, name: e.Name}, opts: opts}
		if p, ok := exported["cabi_post_"+e.Name]; ok && p.Kind == binary.CoreExternFunc {
			fv.post = &coreItem{kind: binary.CoreExternFunc, slot: 0, name: p.Name}
		}
		if err := l.export(iface, fname, fv); err != nil {
			return nil, fmt.Errorf("component: %w", err)
		}
	}
	if e, ok := exported["_initialize"]; ok && e.Kind == binary.CoreExternFunc {
		l.c.initFunc = "_initialize"
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	l.c.snapshotInit(ctx)
	return l.c, nil
}

// snapshotInit runs a reactor's initialisation once, now, and makes every
// instance start from its result (engine.Module.Snapshot) instead of
// running it per instance: for a standard-Go guest that is the Go runtime's
// start-up, most of a request's cost. The snapshot sees no environment, no
// files and no request (engine.Module.Snapshot says what is never
// captured); an initialisation that needs more (it calls a host interface,
// which fails without a request, or traps) or a module whose state cannot
// be captured keeps running _initialize per instance, as before.
func (c *Component) snapshotInit(ctx context.Context) {
	if c.initFunc == "" || len(c.slots) != 1 {
		return
	}
	resolve := func(name string) engine.Importable {
		if name == hostModuleName {
			return c.hostMod
		}
		return nil
	}
	// Bounded like a request would be: an initialisation that does not
	// finish is left to each instance's deadline.
	ctx, cancel := context.WithTimeout(ctx, snapshotTimeout)
	defer cancel()
	snap, err := c.slots[0].Snapshot(ctx, resolve, c.initFunc)
	if err != nil {
		c.snapshotErr = err
		return
	}
	c.slots[0] = snap
	c.initFunc = ""
}

// snapshotTimeout bounds the initialisation snapshotInit runs.
const snapshotTimeout = 30 * time.Second

// Snapshotted reports whether instances start from a snapshot taken after
// the module's initialisation, and if not, why (nil error: the module has
// no initialisation to snapshot).
func (c *Component) Snapshotted() (bool, error) {
	return c.initFunc == "" && c.snapshotErr == nil && len(c.slots) == 1 && c.slots[0].IsSnapshot(), c.snapshotErr
}

// Export returns the exact name of the exported interface that is
// semver-compatible with want ("wasi:http/incoming-handler@0.2.0" matches
// an export "wasi:http/incoming-handler@0.2.3").
func (c *Component) Export(want string) (name string, ok bool) {
	if _, ok := c.exports[want]; ok {
		return want, true
	}
	for _, n := range c.names {
		if semverCompatible(want, n) {
			return n, true
		}
	}
	return "", false
}

// Exports returns the exported interfaces, sorted; "" stands for functions
// the component exports directly (not in an interface).
func (c *Component) Exports() []string { return append([]string(nil), c.names...) }

// ExportFuncs returns the functions of exported interface iface, sorted.
func (c *Component) ExportFuncs(iface string) []string {
	out := make([]string, 0, len(c.exports[iface]))
	for name := range c.exports[iface] {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ExportType returns the type of function fn of exported interface iface.
func (c *Component) ExportType(iface, fn string) (*cabi.FuncType, bool) {
	ef := c.exports[iface][fn]
	if ef == nil {
		return nil, false
	}
	return ef.typ, true
}

// Warnings lists what linking let pass but a call may trip over: imported
// functions the host does not implement (they trap when called).
func (c *Component) Warnings() []string { return append([]string(nil), c.warnings...) }

// Close releases the compiled modules. Instances must be closed first.
func (c *Component) Close(ctx context.Context) error {
	var first error
	if c.hostMod != nil {
		first = c.hostMod.Close(ctx)
		c.hostMod = nil
	}
	for _, m := range c.modules {
		if err := m.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	c.modules, c.slots = nil, nil
	return first
}

// NewHost validates every interface against its WIT definition
// (internal/component/wit) and returns the registry.
func NewHost(ifaces ...Interface) (*Host, error) { return NewHostWithWIT(nil, ifaces...) }

// Host is the set of host interfaces components can import. It is built
// once at startup, then read concurrently by every link and call.
type Host struct {
	pkgs  *wit.Packages                  // extra definitions; nil: wit.Builtin only
	impls map[string]map[string]HostFunc // WIT interface name → function → implementation
}
