package cabi

import "errors"

// testMem is an in-memory linear memory with a bump-allocator realloc, like
// run_tests.py's Heap.
type testMem struct {
	buf      []byte
	last     uint32
	reallocs int
}

func newTestMem(size int) *testMem { return &testMem{buf: make([]byte, size)} }

func (m *testMem) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.buf)) {
		return nil, false
	}
	return m.buf[off : off+n], true
}

func (m *testMem) Write(off uint32, data []byte) bool {
	if uint64(off)+uint64(len(data)) > uint64(len(m.buf)) {
		return false
	}
	copy(m.buf[off:], data)
	return true
}

func (m *testMem) Size() uint32 { return uint32(len(m.buf)) }

var errHeapFull = errors.New("heap full")

// realloc is Heap.realloc.
func (m *testMem) realloc(old, oldSize, align, newSize uint32) (uint32, error) {
	m.reallocs++
	if old != 0 && newSize < oldSize {
		return uint32(alignTo(uint64(old), uint64(align))), nil
	}
	ret := alignTo(uint64(m.last), uint64(align))
	if ret+uint64(newSize) > uint64(len(m.buf)) {
		return 0, errHeapFull
	}
	m.last = uint32(ret) + newSize
	if uint64(old)+uint64(oldSize) <= uint64(len(m.buf)) {
		copy(m.buf[ret:], m.buf[old:old+oldSize])
	}
	return uint32(ret), nil
}

func (m *testMem) cx(enc StringEncoding) *Context {
	return &Context{Memory: m, Realloc: m.realloc, Encoding: enc, Handles: NewHandleTable()}
}
