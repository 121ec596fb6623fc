package engine

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// Deadlines. Every module is compiled with rewrite.Instrument, which adds an
// exported "interrupt" global and a tick the guest calls every
// rewrite.TickInterval loop iterations or non-leaf calls: the tick exits to
// the Go runtime (so that a garbage collection, and the timers, never wait
// on a busy guest) and traps when the global is non-zero. A call arms a
// context.AfterFunc that sets the global when the call's context ends, so a
// guest stuck in a loop traps at its next tick and the call returns
// ErrTimeout (or context.Canceled). Unlike wazero's CloseOnContextDone,
// which leaves compiled code for Go at every loop iteration, the per-
// iteration cost is a register decrement and a never-taken branch. The
// same ticks make long-running instances yield the CPU (yield.go).
//
// The instances of one request call each other directly (an import of
// another instance's function is a plain wasm call), so a guest can loop in
// an instance other than the one the host called: instances linked through
// imports share one domain, and interrupting it sets every member's flag.

// domain is a set of instances linked by imports.
type domain struct {
	mu      sync.Mutex
	members []api.MutableGlobal
	fired   bool
}

// interrupt sets every member's flag; later members get it on joining.
func (d *domain) interrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fired = true
	for _, g := range d.members {
		g.Set(1)
	}
}

// add makes g a member.
func (d *domain) add(g api.MutableGlobal) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.members = append(d.members, g)
	if d.fired {
		g.Set(1)
	}
}

// joinDomain puts inst into the domain of the instances it imports from
// (merging their domains if several), or into a new one.
func (inst *Instance) joinDomain(imports Imports) {
	var d *domain
	if imports != nil {
		for _, name := range inst.module.importModules {
			src, ok := imports(name).(*Instance)
			if !ok || src == nil || src.dom == nil || src.dom == d {
				continue
			}
			if d == nil {
				d = src.dom
				continue
			}
			// Two domains meet: move the other's members into d. Calls
			// already armed on the old domain still reach its members.
			old := src.dom
			old.mu.Lock()
			members := append([]api.MutableGlobal(nil), old.members...)
			old.mu.Unlock()
			for _, g := range members {
				d.add(g)
			}
			src.dom = d
		}
	}
	if d == nil {
		d = &domain{}
	}
	inst.dom = d
	if inst.flag != nil {
		d.add(inst.flag)
	}
}

// arm makes the end of ctx interrupt the domain, until the returned stop is
// called. A context that cannot end costs nothing.
func (d *domain) arm(ctx context.Context) (stop func() bool) {
	if ctx.Done() == nil || d == nil {
		return noStop
	}
	return context.AfterFunc(ctx, d.interrupt)
}

func noStop() bool { return false }

// instAlloc is the memory allocator of one instantiation: it hands out a
// pooled memory (or, failing that, one on the Go heap) with the module's
// image written into it. It remembers the memory, because wazero does not
// free the memory of a failed instantiation.
type instAlloc struct {
	pool  *memPool // nil: no pool on this platform
	image []rewrite.Segment
	pages *pageImage // the same image, for the pool
	mem   experimental.LinearMemory
}

func (a *instAlloc) Allocate(cap, max uint64) experimental.LinearMemory {
	if a.pool != nil {
		if m := a.pool.get(a.pages); m != nil {
			a.mem = m
			return m
		}
	}
	h := &heapMemory{}
	h.write(a.image)
	a.mem = h
	return h
}

// release frees the memory after a failed instantiation.
func (a *instAlloc) release() {
	if a != nil && a.mem != nil {
		a.mem.Free()
	}
}

// heapMemory is a memory on the Go heap, for when there is no pool or
// mapping a pooled memory fails.
type heapMemory struct{ b []byte }

// write sizes the buffer's capacity to the image and writes the image into
// it; Reallocate then reslices it without losing the bytes beyond the
// current length (a snapshot's memory is larger than the module's minimum
// and is grown after instantiation).
func (m *heapMemory) write(image []rewrite.Segment) {
	var end uint64
	for _, s := range image {
		end = max(end, uint64(s.Offset)+uint64(len(s.Data)))
	}
	if end == 0 {
		return
	}
	m.b = make([]byte, 0, end)
	full := m.b[:end]
	for _, s := range image {
		copy(full[s.Offset:], s.Data)
	}
}

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size <= uint64(cap(m.b)) {
		m.b = m.b[:size]
		return m.b
	}
	nb := make([]byte, size)
	copy(nb, m.b[:cap(m.b)])
	m.b = nb
	return nb
}

func (m *heapMemory) Free() { m.b = nil }
