package engine

import (
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// memPool keeps guest linear memories off the Go heap: each memory is a
// private anonymous mapping reserving the engine's per-instance limit of
// address space (MAP_NORESERVE: nothing is committed until touched). A
// closed instance's memory is reset, zeroed in place when small (no page
// faults for the next user) or with madvise(MADV_DONTNEED) when large
// (the kernel drops the pages; the next user sees zeros, as wasm requires,
// and pays page faults only for the pages it touches), and goes back to
// the pool. No Go allocation happens per instance, and the Go
// garbage collector never scans or zeroes guest memory.
type memPool struct {
	reserve uint64 // bytes of address space per memory (the instance limit)
	mu      sync.Mutex
	free    []*pooledMemory
}

// maxIdleMemories bounds the idle memories kept mapped; beyond it a freed
// memory is unmapped. An idle memory holds at most clearLimit bytes of RAM
// (see Free), so idle memories hold at most 8 × 64 MiB.
const maxIdleMemories = 8

// clearLimit is the largest used size Free resets by zeroing in place;
// larger memories are returned to the kernel with MADV_DONTNEED.
const clearLimit = 64 << 20

func newMemPool(limit uint64) *memPool { return &memPool{reserve: limit} }

// pooledMemory implements experimental.LinearMemory.
type pooledMemory struct {
	pool   *memPool
	region []byte // the whole mapping
	used   uint64 // the most bytes handed out since the last reset
	inUse  bool
}

// get returns a zeroed memory, or nil if mapping failed (the caller then
// falls back to the Go heap).
func (p *memPool) get() *pooledMemory {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		m := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		m.inUse = true
		return m
	}
	p.mu.Unlock()
	region, err := syscall.Mmap(-1, 0, int(p.reserve), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &pooledMemory{pool: p, region: region, inUse: true}
}

// write copies an image into the (zeroed) memory. The image fits: it is
// a module's data within its minimum size, or a snapshot of a memory that
// was within the same limit.
func (m *pooledMemory) write(image []rewrite.Segment) {
	for _, s := range image {
		end := min(uint64(s.Offset)+uint64(len(s.Data)), uint64(len(m.region)))
		if uint64(s.Offset) >= end {
			continue
		}
		copy(m.region[s.Offset:end], s.Data)
		m.used = max(m.used, end)
	}
}

// Reallocate implements experimental.LinearMemory. The mapping never
// moves; growing past the reservation (the instance memory limit) fails.
func (m *pooledMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.region)) {
		return nil
	}
	m.used = max(m.used, size)
	return m.region[:size:size]
}

// Free implements experimental.LinearMemory: reset and return to the pool.
// It is idempotent.
func (m *pooledMemory) Free() {
	if !m.inUse {
		return
	}
	m.inUse = false
	p := m.pool
	switch {
	case m.used == 0:
	case m.used <= clearLimit:
		// Zero in place: the pages stay mapped, so the next instance takes
		// no page faults (on virtualised hosts a fault costs microseconds,
		// so refaulting a Go guest's megabytes costs milliseconds).
		zero(m.region[:m.used])
	default:
		if err := syscall.Madvise(m.region[:pageAlign(m.used)], syscall.MADV_DONTNEED); err != nil {
			// Never hand out memory that may hold another instance's data.
			syscall.Munmap(m.region)
			return
		}
	}
	m.used = 0
	p.mu.Lock()
	if len(p.free) < maxIdleMemories {
		p.free = append(p.free, m)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	syscall.Munmap(m.region)
}

// close unmaps the idle memories.
func (p *memPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.free {
		syscall.Munmap(m.region)
	}
	p.free = nil
}

// zeroChunk bounds one uninterrupted memclr: the runtime's memclr cannot
// be preempted, so zeroing tens of MiB in one call would hold back every
// stop-the-world of the garbage collector (and so every goroutine of the
// process) for milliseconds. 256 KiB takes tens of microseconds.
const zeroChunk = 256 << 10

// zero clears b in zeroChunk pieces, each a call that the scheduler can
// preempt before it starts.
func zero(b []byte) {
	for len(b) > 0 {
		n := min(len(b), zeroChunk)
		zeroPiece(b[:n])
		b = b[n:]
	}
}

// zeroPiece is a real call (not inlined) so that its prologue is a
// preemption point between two pieces.
//
//go:noinline
func zeroPiece(b []byte) { clear(b) }

func pageAlign(n uint64) uint64 {
	const ps = 4096
	return (n + ps - 1) &^ (ps - 1)
}

var _ experimental.LinearMemory = (*pooledMemory)(nil)
