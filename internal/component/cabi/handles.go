package cabi

import "sync"

// HandleTable is the resource table of one component instance (the spec's
// ComponentInstance.handles holding ResourceHandles). Index 0 is never
// valid. Every misuse is a *Trap. Safe for concurrent use.
type HandleTable struct {
	// OnDrop, if set, is called when an owning handle of a host resource
	// is dropped (canon resource.drop): the host's destructor.
	OnDrop func(r *Resource, rep any)

	mu      sync.Mutex
	entries []handle // entries[0] is unused
	free    []uint32
	live    int
}

// handle is a ResourceHandle; res == nil marks a free slot.
type handle struct {
	res   *Resource
	rep   any
	own   bool
	scope *Call  // borrow_scope of a borrow handle
	lends uint32 // num_lends
}

// Call is the borrow scope of one cross-component call: as the spec's
// Subtask it records the handles lent to a callee (lift_borrow, released at
// EndCall); as the spec's Task it counts the borrow handles given to the
// guest (lower_borrow), which must all be dropped before EndCall.
type Call struct {
	t       *HandleTable
	lenders []uint32
	borrows int
	ended   bool
}

// NewHandleTable returns an empty table.
func NewHandleTable() *HandleTable { return &HandleTable{} }

// Len reports the number of live handles.
func (t *HandleTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.live
}

// BeginCall opens the borrow scope of a call; set it as Context.Call.
func (t *HandleTable) BeginCall() *Call { return &Call{t: t} }

// EndCall closes c: handles lent to the call are released
// (Subtask.deliver_resolve) and it traps if the guest still holds borrow
// handles lowered for the call (Task.return: trap_if(num_borrows > 0)).
func (t *HandleTable) EndCall(c *Call) error {
	if c == nil || c.t != t {
		return trapf("call scope ended on the wrong table")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.ended {
		return trapf("call scope ended twice")
	}
	c.ended = true
	for _, i := range c.lenders {
		if int(i) < len(t.entries) && t.entries[i].lends > 0 {
			t.entries[i].lends--
		}
	}
	c.lenders = nil
	if c.borrows > 0 {
		return trapf("%d borrowed handle(s) not dropped before the call returned", c.borrows)
	}
	return nil
}

// New adds a handle for rep (canon resource.new when own): for a host
// resource rep is the host's Go value, for a guest resource its uint32
// representation. A borrow added here has no call scope.
func (t *HandleTable) New(r *Resource, rep any, own bool) (uint32, error) {
	if r == nil {
		return 0, trapf("nil resource type")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.add(handle{res: r, rep: rep, own: own})
}

// Table.add
func (t *HandleTable) add(h handle) (uint32, error) {
	if len(t.entries) == 0 {
		t.entries = append(t.entries, handle{})
	}
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[i] = h
	} else {
		if len(t.entries) > maxHandleTableLength {
			return 0, trapf("handle table is full")
		}
		i = uint32(len(t.entries))
		t.entries = append(t.entries, h)
	}
	t.live++
	return i, nil
}

// get is Table.get plus the resource-type check every caller does.
func (t *HandleTable) get(r *Resource, i uint32) (*handle, error) {
	if i == 0 || int64(i) >= int64(len(t.entries)) || t.entries[i].res == nil {
		return nil, trapf("invalid handle index %d", i)
	}
	h := &t.entries[i]
	if h.res != r {
		return nil, trapf("handle %d is a %s, not a %s", i, h.res.Name, resName(r))
	}
	return h, nil
}

func resName(r *Resource) string {
	if r == nil {
		return "<nil resource>"
	}
	return r.Name
}

func (t *HandleTable) remove(i uint32) {
	t.entries[i] = handle{}
	t.free = append(t.free, i)
	t.live--
}

// Rep is canon resource.rep: the representation behind handle i.
func (t *HandleTable) Rep(r *Resource, i uint32) (any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.get(r, i)
	if err != nil {
		return nil, err
	}
	return h.rep, nil
}

// Drop is canon resource.drop. Dropping an owning handle of a host
// resource calls OnDrop; for a guest resource the caller must run the
// guest's destructor on the returned rep when own is true. Dropping a
// borrow releases it from its call scope.
func (t *HandleTable) Drop(r *Resource, i uint32) (rep any, own bool, err error) {
	t.mu.Lock()
	h, err := t.get(r, i)
	if err != nil {
		t.mu.Unlock()
		return nil, false, err
	}
	if h.lends != 0 {
		t.mu.Unlock()
		return nil, false, trapf("handle %d is dropped while lent to %d call(s)", i, h.lends)
	}
	rep, own, scope := h.rep, h.own, h.scope
	t.remove(i)
	if !own && scope != nil && scope.borrows > 0 {
		scope.borrows--
	}
	onDrop := t.OnDrop
	t.mu.Unlock()
	if own && r.Host && onDrop != nil {
		onDrop(r, rep)
	}
	return rep, own, nil
}

// lift_own: move the handle out of the table.
func (t *HandleTable) liftOwn(r *Resource, i uint32) (any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.get(r, i)
	if err != nil {
		return nil, err
	}
	if h.lends != 0 {
		return nil, trapf("own handle %d is transferred while lent to %d call(s)", i, h.lends)
	}
	if !h.own {
		return nil, trapf("handle %d is a borrow, not an own", i)
	}
	rep := h.rep
	t.remove(i)
	return rep, nil
}

// lift_borrow: lend the handle to the call c for its duration.
func (t *HandleTable) liftBorrow(c *Call, r *Resource, i uint32) (any, error) {
	if c == nil || c.t != t {
		return nil, trapf("borrow handle %d lifted outside a call", i)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.ended {
		return nil, trapf("borrow handle %d lifted after its call ended", i)
	}
	h, err := t.get(r, i)
	if err != nil {
		return nil, err
	}
	h.lends++
	c.lenders = append(c.lenders, i)
	return h.rep, nil
}

// lower_own
func (t *HandleTable) lowerOwn(r *Resource, rep any) (uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.add(handle{res: r, rep: rep, own: true})
}

// lower_borrow for a resource the instance does not implement: a borrow
// handle counted in the call's scope. (A guest resource is taken to be
// implemented by the instance that owns the table, so its borrow lowers to
// the rep itself; see lowerBorrow in lower.go.)
func (t *HandleTable) lowerBorrow(c *Call, r *Resource, rep any) (uint32, error) {
	if c == nil || c.t != t {
		return 0, trapf("borrow lowered outside a call")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.ended {
		return 0, trapf("borrow lowered after its call ended")
	}
	i, err := t.add(handle{res: r, rep: rep, scope: c})
	if err != nil {
		return 0, err
	}
	c.borrows++
	return i, nil
}

// DropAll empties the table when its instance ends: every owning handle of
// a host resource is passed to OnDrop (the host's destructor), every other
// handle is forgotten. Guest resources are not destroyed: their instance
// is going away with them.
func (t *HandleTable) DropAll() {
	t.mu.Lock()
	entries := t.entries
	t.entries, t.free, t.live = nil, nil, 0
	onDrop := t.OnDrop
	t.mu.Unlock()
	if onDrop == nil {
		return
	}
	for _, h := range entries {
		if h.res != nil && h.own && h.res.Host {
			onDrop(h.res, h.rep)
		}
	}
}
