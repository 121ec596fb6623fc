//go:build !linux

package engine

// memPool is Linux-only (it relies on MADV_DONTNEED zeroing private
// anonymous pages); elsewhere guest memory stays on the Go heap.
type memPool struct{}

type pooledMemory struct{}

func newMemPool(uint64) *memPool { return nil }

func (p *memPool) get(*pageImage) *pooledMemory { return nil }

func (m *pooledMemory) Reallocate(uint64) []byte { return nil }

func (m *pooledMemory) Free() {}

func (p *memPool) close() {}
