//go:build !linux

package engine

import "github.com/wisp-dev/wisp/internal/engine/rewrite"

// memPool is Linux-only (it relies on MADV_DONTNEED zeroing private
// anonymous pages); elsewhere guest memory stays on the Go heap.
type memPool struct{}

type pooledMemory struct{}

func newMemPool(uint64) *memPool { return nil }

func (p *memPool) get() *pooledMemory { return nil }

func (m *pooledMemory) write([]rewrite.Segment) {}

func (m *pooledMemory) Reallocate(uint64) []byte { return nil }

func (m *pooledMemory) Free() {}

func (p *memPool) close() {}
