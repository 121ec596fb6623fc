//go:build wasip1

// Package cabi is the guest half of the canonical ABI for standard Go
// (GOOS=wasip1, -buildmode=c-shared): the exported cabi_realloc and the
// memory it hands out.
//
// # Memory and the Go garbage collector
//
// The host writes results into guest memory it gets from cabi_realloc while
// an imported function runs, then returns their addresses as plain i32s. The
// Go GC neither sees those addresses nor knows the memory is in use, so the
// memory must be kept alive and unmoving by other means:
//
//   - Every block comes from one static arena (a package-level array: never
//     freed, never moved). Callers bracket an import call with Save and
//     Release: what the host allocated during the call stays valid until the
//     caller has copied it out and released it.
//   - A block that does not fit the arena is a fresh heap allocation, kept in
//     a package-level slice until the matching Release, so the GC never frees
//     it while the host's pointer is the only reference. The Go GC does not
//     move heap objects.
//   - Return areas and the buffers the guest passes to the host are either
//     in the arena or are Go values whose pointers are passed as such to the
//     import (so they escape to the heap, never on a goroutine stack that
//     could move) and kept alive with runtime.KeepAlive for the call.
//
// Addresses the host returns are turned back into slices by looking them up
// in the arena or in the overflow blocks (Bytes), never by converting an
// integer to a pointer, so a bad address from the host panics instead of
// reading arbitrary memory.
//
// The arena is shared by the whole module: Go on wasm runs one thread, and
// an import call and the copy out of its results run without blocking, so
// no other goroutine can interleave.
//
// # Before the Go runtime is initialised
//
// The exported cabi_realloc is Go code, and the Go runtime traps an export
// called before _initialize. Wisp's LoadCore calls _initialize first, so a
// module run as a canonical-ABI core module never has the problem. A
// component made with the WASI preview1 adapter (wisp build --component)
// does: the adapter allocates its state through the main module's
// cabi_realloc during the first preview1 call, which the Go runtime makes
// inside _initialize. For that case the module carries preinit, a static
// region that starts with a 16-byte marker: the componentizer
// (internal/build) finds the marker in the data segments and replaces the
// cabi_realloc export with a small Wasm function that bump-allocates from
// that region until _initialize has returned and calls this package's
// cabi_realloc after. Bytes accepts addresses in the region, for
// parameters the host lowered before the first export ran.
package cabi

import (
	"encoding/binary"
	"unsafe"
)

const arenaSize = 128 << 10

var (
	arena    [arenaSize / 8]uint64 // static: 8-byte aligned, never moves
	top      uint32                // bytes in use
	overflow []block               // heap blocks, alive until Release
)

type block struct {
	base uint32
	mem  []uint64
}

// preinitSize is the size of preinit after the marker.
const preinitSize = 128 << 10

// preinit is the region cabi_realloc allocates from before the Go runtime
// is initialised, in a componentized module (see the package comment).
// Its initializer puts the marker (16 bytes that occur nowhere else in the
// module; internal/build has the same bytes) in the module's data; the
// rest is zero, which the linker leaves out of the binary.
var preinit = [16 + preinitSize]byte{
	0x77, 0x69, 0x73, 0x70, 0x2d, 0x70, 0x72, 0x65, 0x69, 0x6e, 0x69, 0x74, 0x9e, 0x3c, 0xd1, 0x5a,
}

func arenaBytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&arena[0])), arenaSize)
}

func arenaBase() uint32 { return uint32(uintptr(unsafe.Pointer(&arena[0]))) }

//go:wasmexport cabi_realloc
func cabiRealloc(old, oldSize, align, newSize uint32) uint32 {
	p := Alloc(newSize, align)
	if old != 0 && oldSize != 0 {
		copy(Bytes(p, min(oldSize, newSize)), Bytes(old, min(oldSize, newSize)))
	}
	return p
}

// Alloc returns the address of size bytes aligned to align (a power of two
// ≤ 8), valid until the Release of the enclosing Save.
func Alloc(size, align uint32) uint32 {
	if align == 0 {
		align = 1
	}
	start := (top + align - 1) &^ (align - 1)
	if size <= arenaSize && start <= arenaSize-size {
		top = start + size
		return arenaBase() + start
	}
	mem := make([]uint64, (size+7)/8+1)
	b := block{base: uint32(uintptr(unsafe.Pointer(&mem[0]))), mem: mem}
	overflow = append(overflow, b)
	return b.base
}

// Mark is an allocation state to return to with Release.
type Mark struct{ top, overflow uint32 }

// Save records the current allocation state.
func Save() Mark { return Mark{top, uint32(len(overflow))} }

// Release frees everything allocated since m.
func Release(m Mark) {
	top = m.top
	for i := m.overflow; i < uint32(len(overflow)); i++ {
		overflow[i] = block{}
	}
	overflow = overflow[:m.overflow]
}

// Bytes returns the n bytes at address p, which must lie in a block Alloc
// returned and that is not released. The slice aliases that memory: copy
// what must outlive the Release.
func Bytes(p, n uint32) []byte {
	if n == 0 {
		return nil
	}
	if base := arenaBase(); p >= base && p-base <= arenaSize && n <= arenaSize-(p-base) {
		return arenaBytes()[p-base : p-base+n : p-base+n]
	}
	if base := uint32(uintptr(unsafe.Pointer(&preinit[16]))); p >= base && p-base <= preinitSize && n <= preinitSize-(p-base) {
		return preinit[16+p-base : 16+p-base+n : 16+p-base+n]
	}
	for _, b := range overflow {
		size := uint32(len(b.mem)) * 8
		if p >= b.base && p-b.base <= size && n <= size-(p-b.base) {
			all := unsafe.Slice((*byte)(unsafe.Pointer(&b.mem[0])), size)
			return all[p-b.base : p-b.base+n : p-b.base+n]
		}
	}
	panic("cabi: the host returned an address outside the memory it was given")
}

// String copies the string at (p, n).
func String(p, n uint32) string { return string(Bytes(p, n)) }

// U8 reads a byte at address p+off.
func U8(p, off uint32) uint8 { return Bytes(p+off, 1)[0] }

// U32 reads a little-endian u32 at address p+off.
func U32(p, off uint32) uint32 { return binary.LittleEndian.Uint32(Bytes(p+off, 4)) }

// U64 reads a little-endian u64 at address p+off.
func U64(p, off uint32) uint64 { return binary.LittleEndian.Uint64(Bytes(p+off, 8)) }

// PutU8 writes a byte at address p+off.
func PutU8(p, off uint32, v uint8) { Bytes(p+off, 1)[0] = v }

// PutU32 writes a little-endian u32 at address p+off.
func PutU32(p, off, v uint32) { binary.LittleEndian.PutUint32(Bytes(p+off, 4), v) }

// PutU64 writes a little-endian u64 at address p+off.
func PutU64(p, off uint32, v uint64) { binary.LittleEndian.PutUint64(Bytes(p+off, 8), v) }

// PutString copies s into memory from Alloc and returns its address and
// length, for a string the host reads inside a list or record: only the
// arena and the overflow blocks are known to stay put and alive for the
// call, whatever s's own storage is.
func PutString(s string) (uint32, uint32) {
	if len(s) == 0 {
		return 0, 0
	}
	p := Alloc(uint32(len(s)), 1)
	copy(Bytes(p, uint32(len(s))), s)
	return p, uint32(len(s))
}

// PutBytes is PutString for a byte slice.
func PutBytes(b []byte) (uint32, uint32) {
	if len(b) == 0 {
		return 0, 0
	}
	p := Alloc(uint32(len(b)), 1)
	copy(Bytes(p, uint32(len(b))), b)
	return p, uint32(len(b))
}

// CopyBytes copies the n bytes at address p into a new slice.
func CopyBytes(p, n uint32) []byte {
	if n == 0 {
		return []byte{}
	}
	return append([]byte(nil), Bytes(p, n)...)
}

// Strings copies a list<string> at (p, n).
func Strings(p, n uint32) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = String(U32(p, 8*i), U32(p, 8*i+4))
	}
	return out
}
