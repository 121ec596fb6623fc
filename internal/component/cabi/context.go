package cabi

import "fmt"

// Context carries the canonical options of one call (memory, realloc,
// string-encoding) plus the component instance's handle table and the
// borrow scope of the call in progress: the spec's LiftLowerContext.
//
// A Context is used by one goroutine at a time, like the instance it
// belongs to.
type Context struct {
	// Memory is the guest's linear memory; required as soon as a value
	// touches memory (strings, lists, spilled parameters, return areas).
	Memory Memory
	// Realloc is the guest's cabi_realloc; required to lower strings and
	// lists into the guest and to spill parameters.
	Realloc Realloc
	// Encoding is the string-encoding canonical option.
	Encoding StringEncoding
	// Handles is the instance's resource table; required for own and
	// borrow values.
	Handles *HandleTable
	// Call is the borrow scope of the call in progress (from
	// Handles.BeginCall); required when a borrow is lifted or lowered.
	Call *Call
	// Layouts caches the layout of types; nil means the package-wide
	// cache. A component can own one so that its types' layouts are freed
	// with it.
	Layouts *Layouts
}

func (cx *Context) layouts() *Layouts {
	if cx.Layouts != nil {
		return cx.Layouts
	}
	return &defaultLayouts
}

// Trap is a guest fault found by the canonical ABI: an invalid value, a
// pointer outside memory or misaligned, a bad handle. The instance must not
// run again after a trap.
type Trap struct {
	Msg string
}

func (t *Trap) Error() string { return "cabi: trap: " + t.Msg }

func trapf(format string, args ...any) error {
	return &Trap{Msg: fmt.Sprintf(format, args...)}
}

// ValueError reports a host-side Go value that does not have the
// representation its component type requires (see the table in types.go):
// a host bug, not a guest fault.
type ValueError struct {
	Kind  Kind
	Value any
	Msg   string
}

func (e *ValueError) Error() string {
	if e.Msg != "" {
		return fmt.Sprintf("cabi: host value %T for %s: %s", e.Value, e.Kind, e.Msg)
	}
	return fmt.Sprintf("cabi: host value %T does not represent %s", e.Value, e.Kind)
}

func valueErr(k Kind, v any) error { return &ValueError{Kind: k, Value: v} }

// read returns a view of [ptr, ptr+n) after checking it lies in memory.
func (cx *Context) read(ptr, n uint32) ([]byte, error) {
	if cx.Memory == nil {
		return nil, trapf("no memory to read %d bytes at %#x", n, ptr)
	}
	if uint64(ptr)+uint64(n) > uint64(cx.Memory.Size()) {
		return nil, trapf("range [%#x, +%d) is out of memory bounds (%d bytes)", ptr, n, cx.Memory.Size())
	}
	b, ok := cx.Memory.Read(ptr, n)
	if !ok || uint32(len(b)) < n {
		return nil, trapf("range [%#x, +%d) is out of memory bounds", ptr, n)
	}
	return b[:n:n], nil
}

// write copies data into memory at ptr.
func (cx *Context) write(ptr uint32, data []byte) error {
	if cx.Memory == nil {
		return trapf("no memory to write %d bytes at %#x", len(data), ptr)
	}
	if uint64(ptr)+uint64(len(data)) > uint64(cx.Memory.Size()) || !cx.Memory.Write(ptr, data) {
		return trapf("range [%#x, +%d) is out of memory bounds", ptr, len(data))
	}
	return nil
}

// checkRange traps unless [ptr, ptr+n) is in memory and ptr is aligned.
func (cx *Context) checkRange(ptr, n, align uint32) error {
	if ptr&(align-1) != 0 {
		return trapf("pointer %#x is not %d-byte aligned", ptr, align)
	}
	if cx.Memory == nil {
		return trapf("no memory for pointer %#x", ptr)
	}
	if uint64(ptr)+uint64(n) > uint64(cx.Memory.Size()) {
		return trapf("range [%#x, +%d) is out of memory bounds (%d bytes)", ptr, n, cx.Memory.Size())
	}
	return nil
}

// reallocate is LiftLowerContext.reallocate; allocate is reallocate(0, 0, …).
func (cx *Context) reallocate(old, oldSize, align, newSize uint32) (uint32, error) {
	if cx.Realloc == nil {
		return 0, trapf("no realloc to allocate %d bytes in the guest", newSize)
	}
	p, err := cx.Realloc(old, oldSize, align, newSize)
	if err != nil {
		return 0, fmt.Errorf("cabi: realloc(%d, %d, %d, %d): %w", old, oldSize, align, newSize, err)
	}
	return p, nil
}

// allocate calls realloc for a new block and checks it: the common
// "ptr = allocate; trap_if(misaligned); trap_if(out of bounds)" sequence.
func (cx *Context) allocate(align, size uint32) (uint32, error) {
	p, err := cx.reallocate(0, 0, align, size)
	if err != nil {
		return 0, err
	}
	return p, cx.checkRange(p, size, align)
}
