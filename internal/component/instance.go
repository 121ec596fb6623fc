package component

import (
	"context"
	"errors"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
)

// Instance is one instantiation of a component: its core instances (one per
// slot of the plan) and its resource handle table. It is used by one
// goroutine at a time, like the request it serves.
type Instance struct {
	c       *Component
	insts   []*engine.Instance
	handles *cabi.HandleTable
	opts    []optState
	call    Call
	// ctx is the context of the call in progress, for cabi_realloc calls
	// made on the guest's behalf.
	ctx    context.Context
	failed error // the trap that made the instance unusable
	closed bool
}

// optState is a canonical option set bound to this instance's memory and
// realloc, built on first use.
type optState struct {
	ready   bool
	mem     cabi.Memory
	realloc cabi.Realloc
}

type instanceKey struct{}

// instanceFrom returns the component instance whose call led to ctx.
func instanceFrom(ctx context.Context) *Instance {
	i, _ := ctx.Value(instanceKey{}).(*Instance)
	return i
}

var errNoInstance = errors.New("component: host function called outside a component instance")

// Instantiate creates a fresh instance (one per request).
func (c *Component) Instantiate(ctx context.Context) (*Instance, error) {
	if c.hostMod == nil {
		return nil, errors.New("component: instantiating a closed component")
	}
	i := &Instance{
		c:       c,
		insts:   make([]*engine.Instance, len(c.slots)),
		handles: cabi.NewHandleTable(),
		opts:    make([]optState, len(c.opts)),
	}
	i.call.Instance = i
	i.handles.OnDrop = dropHost
	ctx = context.WithValue(ctx, instanceKey{}, i)
	i.ctx = ctx
	for k, m := range c.slots {
		inst, err := m.Instantiate(ctx, i.resolve)
		if err != nil {
			engine.Group(i.insts[:k]).Close(ctx)
			return nil, fmt.Errorf("component: instantiating core instance %d: %w", k, err)
		}
		i.insts[k] = inst
	}
	if c.initFunc != "" {
		f := i.insts[0].Func(c.initFunc)
		if f != nil && f.NumParams() == 0 {
			stack := make([]uint64, f.StackSize())
			if err := f.Call(ctx, stack); err != nil {
				i.Close(ctx)
				return nil, fmt.Errorf("component: %s: %w", c.initFunc, err)
			}
		}
	}
	return i, nil
}

// resolve is the engine's import resolver: "#k" is slot k, the host
// module's name the component's host module.
func (i *Instance) resolve(name string) engine.Importable {
	if name == hostModuleName {
		return i.c.hostMod
	}
	if len(name) < 2 || name[0] != '#' {
		return nil
	}
	k := 0
	for _, ch := range name[1:] {
		if ch < '0' || ch > '9' || k > len(i.insts) {
			return nil
		}
		k = k*10 + int(ch-'0')
	}
	if k >= len(i.insts) || i.insts[k] == nil {
		return nil
	}
	return i.insts[k]
}

func dropHost(_ *cabi.Resource, rep any) {
	if d, ok := rep.(Dropper); ok {
		d.Drop()
	}
}

// Component returns the component this is an instance of.
func (i *Instance) Component() *Component { return i.c }

// context returns the canonical ABI context of option set idx.
func (i *Instance) context(idx int) cabi.Context {
	st := &i.opts[idx]
	if !st.ready {
		spec := i.c.opts[idx]
		if spec.memSlot >= 0 && i.insts[spec.memSlot] != nil {
			if m := i.insts[spec.memSlot].Memory(spec.memName); m != nil {
				st.mem = m
			}
		}
		if spec.reallocSlot >= 0 && i.insts[spec.reallocSlot] != nil {
			// Looked up on first use: wazero gives each exported function
			// it hands out a call stack (~10 KiB of Go heap), and many
			// calls never allocate in the guest.
			inst, name := i.insts[spec.reallocSlot], spec.reallocName
			var f *engine.Func
			st.realloc = func(oldPtr, oldSize, align, newSize uint32) (uint32, error) {
				if f == nil {
					if f = inst.Func(name); f == nil || f.NumParams() != 4 || f.NumResults() != 1 {
						f = nil
						return 0, fmt.Errorf("component: realloc %q is not an exported (i32, i32, i32, i32) -> i32 function", name)
					}
				}
				stack := []uint64{uint64(oldPtr), uint64(oldSize), uint64(align), uint64(newSize)}
				if err := f.Call(i.ctx, stack); err != nil {
					return 0, err
				}
				return uint32(stack[0]), nil
			}
		}
		// Cache only once every slot involved exists (a start function
		// may call the host before later slots are instantiated).
		st.ready = (spec.memSlot < 0 || i.insts[spec.memSlot] != nil) &&
			(spec.reallocSlot < 0 || i.insts[spec.reallocSlot] != nil)
	}
	return cabi.Context{
		Memory:   st.mem,
		Realloc:  st.realloc,
		Encoding: i.c.opts[idx].enc,
		Handles:  i.handles,
		Layouts:  i.c.layouts,
	}
}

// Call calls function fn of the exported interface iface (as returned by
// Export) with args in the Go representation of cabi; own<R> arguments of
// host resources are Go values handed to the guest.
//
// A trap (in the guest, in a host function it called, or in lifting or
// lowering a value) makes the instance unusable: later calls fail.
// Errors a host function returned are in the chain (errors.As).
func (i *Instance) Call(ctx context.Context, iface, fn string, args ...any) ([]any, error) {
	if i.closed {
		return nil, errors.New("component: call on a closed instance")
	}
	if i.failed != nil {
		return nil, fmt.Errorf("component: instance is unusable after an earlier trap: %w", i.failed)
	}
	ef := i.c.exports[iface][fn]
	if ef == nil {
		return nil, fmt.Errorf("component: no exported function %s#%s", iface, fn)
	}
	f := i.insts[ef.slot].Func(ef.name)
	if f == nil {
		return nil, fmt.Errorf("component: core export %q missing", ef.name)
	}
	ctx = context.WithValue(ctx, instanceKey{}, i)
	prev := i.ctx
	i.ctx = ctx
	defer func() { i.ctx = prev }()

	cx := i.context(ef.opts)
	call := i.handles.BeginCall()
	cx.Call = call
	flat, err := cabi.LowerParams(&cx, ef.typ, args)
	if err != nil {
		var ve *cabi.ValueError
		if errors.As(err, &ve) || len(args) != len(ef.typ.Params) {
			i.handles.EndCall(call)
			return nil, fmt.Errorf("component: %s#%s: arguments: %w", iface, fn, err)
		}
		return nil, i.fail(fmt.Errorf("component: %s#%s: lowering arguments: %w", iface, fn, err))
	}
	stack := make([]uint64, max(f.StackSize(), len(flat), ef.nResults))
	copy(stack, flat)
	if err := f.Call(ctx, stack); err != nil {
		return nil, i.fail(fmt.Errorf("component: %s#%s: %w", iface, fn, err))
	}
	var saved [1]uint64
	core := saved[:copy(saved[:], stack[:ef.nResults])]
	results, err := cabi.LiftResults(&cx, ef.typ, core)
	if err != nil {
		return nil, i.fail(fmt.Errorf("component: %s#%s: results: %w", iface, fn, err))
	}
	if ef.postSlot >= 0 {
		pf := i.insts[ef.postSlot].Func(ef.postName)
		if pf == nil {
			return nil, i.fail(fmt.Errorf("component: %s#%s: post-return %q missing", iface, fn, ef.postName))
		}
		pstack := make([]uint64, max(pf.StackSize(), len(core)))
		copy(pstack, core)
		if err := pf.Call(ctx, pstack); err != nil {
			return nil, i.fail(fmt.Errorf("component: %s#%s: post-return: %w", iface, fn, err))
		}
	}
	if err := i.handles.EndCall(call); err != nil {
		return nil, i.fail(fmt.Errorf("component: %s#%s: %w", iface, fn, err))
	}
	return results, nil
}

func (i *Instance) fail(err error) error {
	if i.failed == nil {
		i.failed = err
	}
	return err
}

// Close releases the instance's memory and drops every resource it still
// holds (host resources implementing Dropper get Drop).
func (i *Instance) Close(ctx context.Context) error {
	if i.closed {
		return nil
	}
	i.closed = true
	i.handles.DropAll()
	return engine.Group(i.insts).Close(ctx)
}

// lowered returns the host module function of an imported host function:
// lift the guest's arguments, call impl, lower its results.
func lowered(label string, ft *cabi.FuncType, opts int, impl HostFunc, nParams int) func(context.Context, *engine.Instance, []uint64) {
	return func(ctx context.Context, _ *engine.Instance, stack []uint64) {
		i := instanceFrom(ctx)
		if i == nil {
			panic(errNoInstance)
		}
		prev := i.ctx
		i.ctx = ctx
		defer func() { i.ctx = prev }()
		cx := i.context(opts)
		call := i.handles.BeginCall()
		cx.Call = call
		args, err := cabi.LiftParams(&cx, ft, stack[:nParams])
		if err != nil {
			panic(fmt.Errorf("%s: arguments: %w", label, err))
		}
		results, err := impl(ctx, &i.call, args)
		if err != nil {
			panic(err)
		}
		out, err := cabi.LowerResults(&cx, ft, results, stack[:nParams])
		if err != nil {
			panic(fmt.Errorf("%s: results: %w", label, err))
		}
		copy(stack, out)
		if err := i.handles.EndCall(call); err != nil {
			panic(fmt.Errorf("%s: %w", label, err))
		}
	}
}

func resourceNew(r *cabi.Resource) func(context.Context, *engine.Instance, []uint64) {
	return func(ctx context.Context, _ *engine.Instance, stack []uint64) {
		i := instanceFrom(ctx)
		if i == nil {
			panic(errNoInstance)
		}
		h, err := i.handles.New(r, uint32(stack[0]), true)
		if err != nil {
			panic(err)
		}
		stack[0] = uint64(h)
	}
}

func resourceRep(r *cabi.Resource) func(context.Context, *engine.Instance, []uint64) {
	return func(ctx context.Context, _ *engine.Instance, stack []uint64) {
		i := instanceFrom(ctx)
		if i == nil {
			panic(errNoInstance)
		}
		rep, err := i.handles.Rep(r, uint32(stack[0]))
		if err != nil {
			panic(err)
		}
		v, ok := rep.(uint32)
		if !ok {
			panic(&cabi.Trap{Msg: "resource.rep of a handle without a guest representation"})
		}
		stack[0] = uint64(v)
	}
}

func resourceDrop(r *cabi.Resource, dtor *coreItem) func(context.Context, *engine.Instance, []uint64) {
	return func(ctx context.Context, _ *engine.Instance, stack []uint64) {
		i := instanceFrom(ctx)
		if i == nil {
			panic(errNoInstance)
		}
		rep, own, err := i.handles.Drop(r, uint32(stack[0]))
		if err != nil {
			panic(err)
		}
		if !own || r.Host || dtor == nil {
			return
		}
		v, _ := rep.(uint32)
		f := i.insts[dtor.slot].Func(dtor.name)
		if f == nil || f.NumParams() != 1 {
			panic(fmt.Errorf("resource destructor %q is not a function of one parameter", dtor.name))
		}
		st := make([]uint64, max(1, f.StackSize()))
		st[0] = uint64(v)
		if err := f.Call(ctx, st); err != nil {
			panic(err)
		}
	}
}
