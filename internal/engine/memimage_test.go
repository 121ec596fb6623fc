package engine

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// TestPageImageRestore: whatever a memory held, restore leaves exactly the
// image (later segments winning) and zeros, compared with a plain
// byte-by-byte layout of the same segments.
func TestPageImageRestore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		size := uint64(1+r.IntN(40)) * osPage
		var segs []rewrite.Segment
		for range r.IntN(6) {
			off := r.Uint64N(size)
			n := r.Uint64N(min(size-off, 3*osPage) + 1)
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(r.IntN(3)) // zeros too: whole zero pages must come out nil
			}
			if r.IntN(4) == 0 { // page-aligned runs, as snapshots make
				off &^= osPage - 1
				data = data[:min(uint64(len(data)), size-off)&^(osPage-1)]
			}
			segs = append(segs, rewrite.Segment{Offset: uint32(off), Data: data})
		}
		want := make([]byte, size)
		for _, s := range segs {
			copy(want[s.Offset:], s.Data)
		}
		im := newPageImage(segs)

		// A memory in some earlier state: another image, then an
		// instance's writes within used.
		mem := make([]byte, size)
		used := r.Uint64N(size + 1)
		for i := uint64(0); i < used; i++ {
			if r.IntN(3) == 0 {
				mem[i] = byte(r.Uint32())
			}
		}
		im.restore(mem, used)
		if !bytes.Equal(mem, want) {
			t.Fatalf("round %d: memory differs from the image after restore", round)
		}
		for p, page := range im.pages {
			if page != nil && bytes.Equal(page, zeroPage[:]) {
				t.Fatalf("round %d: zero page %d kept", round, p)
			}
		}
	}
}

// TestPageImageAliasesWholePages: a snapshot's page-aligned runs cost no
// copy.
func TestPageImageAliasesWholePages(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 3*osPage)
	im := newPageImage([]rewrite.Segment{{Offset: osPage, Data: data}})
	if len(im.pages) != 4 || im.pages[0] != nil || &im.pages[1][0] != &data[0] || &im.pages[3][0] != &data[2*osPage] {
		t.Fatal("whole pages are not aliased")
	}
}
