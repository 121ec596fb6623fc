package engine

import (
	"slices"
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// memPool keeps guest linear memories off the Go heap: each memory is a
// private anonymous mapping reserving the engine's per-instance limit of
// address space (MAP_NORESERVE: nothing is committed until touched). A
// closed instance's memory is reset to its module's initial image in
// place when small (pageImage.restore: only the pages that differ are
// written, and the next user takes no page faults) or with
// madvise(MADV_DONTNEED) when large (the kernel drops the pages; the next
// user sees zeros and pays page faults only for the pages it touches), and
// goes back to the pool, where the next instance of the same module finds
// it ready. No Go allocation happens per instance, and the Go garbage
// collector never scans or zeroes guest memory.
type memPool struct {
	reserve uint64 // bytes of address space per memory (the instance limit)
	mu      sync.Mutex
	free    []*pooledMemory
}

// maxIdleMemories bounds the idle memories kept mapped; beyond it a freed
// memory is unmapped. An idle memory holds at most clearLimit bytes of RAM
// (see Free), so idle memories hold at most 8 × 64 MiB.
const maxIdleMemories = 8

// clearLimit is the largest used size Free resets in place; larger
// memories are returned to the kernel with MADV_DONTNEED.
const clearLimit = 64 << 20

func newMemPool(limit uint64) *memPool { return &memPool{reserve: limit} }

// pooledMemory implements experimental.LinearMemory.
type pooledMemory struct {
	pool   *memPool
	region []byte // the whole mapping
	used   uint64 // the most bytes handed out since the last reset
	inUse  bool
	// holds is the image the memory held when it was handed out (and
	// holds again once freed): past used and the image, it is all zeros.
	holds *pageImage
}

// get returns a memory holding img, or nil if mapping failed (the caller
// then falls back to the Go heap). An idle memory that holds img already
// (its last instance was of the same module) is preferred: it is ready
// as it is.
func (p *memPool) get(img *pageImage) *pooledMemory {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		pick := n - 1
		for i := n - 1; i >= 0; i-- {
			if p.free[i].holds == img {
				pick = i
				break
			}
		}
		m := p.free[pick]
		p.free = slices.Delete(p.free, pick, pick+1)
		p.mu.Unlock()
		if m.holds != img {
			img.restore(m.region, m.holds.size())
			m.holds = img
		}
		m.inUse = true
		return m
	}
	p.mu.Unlock()
	region, err := syscall.Mmap(-1, 0, int(p.reserve), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	img.restore(region, 0)
	return &pooledMemory{pool: p, region: region, holds: img, inUse: true}
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
		// Back to the image in place, page by page, writing only the pages
		// that differ: the pages stay mapped, so the next instance takes
		// no page faults (on virtualised hosts a fault costs microseconds,
		// so refaulting a Go guest's megabytes costs milliseconds), and
		// pages the instance never changed (most of a Go runtime's) cost
		// a comparison only. Each page is its own small step, so a large
		// reset never holds off the garbage collector's stop-the-world.
		m.holds.restore(m.region, m.used)
	default:
		if err := syscall.Madvise(m.region[:pageAlign(m.used)], syscall.MADV_DONTNEED); err != nil {
			// Never hand out memory that may hold another instance's data.
			syscall.Munmap(m.region)
			return
		}
		m.holds = zeroImage
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

func pageAlign(n uint64) uint64 {
	const ps = 4096
	return (n + ps - 1) &^ (ps - 1)
}

var _ experimental.LinearMemory = (*pooledMemory)(nil)
