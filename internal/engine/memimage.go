package engine

import (
	"bytes"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// pageImage is a module's initial memory content cut into pages: what a
// pooled memory must hold before an instance of the module starts.
//
// Resetting a memory by zeroing everything an instance used and then
// copying the image in writes both in full, for every instance: for a
// standard-Go snapshot that is megabytes of writes, most of them putting
// back bytes that never changed (the Go runtime's read-only data lives in
// linear memory). Comparing costs reads only, so restore compares page by
// page and writes just the pages that differ.
type pageImage struct {
	// pages[p] is page p's content; nil means all zero. Pages past the
	// end are zero.
	pages [][]byte
}

// zeroImage is the image of an empty memory.
var zeroImage = &pageImage{}

// osPage is the unit of comparison: the kernel's page size here.
const osPage = 4096

var zeroPage [osPage]byte

// newPageImage lays segments out as pages, later segments overwriting
// earlier ones. A page one segment covers whole aliases the segment's
// bytes; others get their own buffer.
func newPageImage(segs []rewrite.Segment) *pageImage {
	var end uint64
	for _, s := range segs {
		if len(s.Data) > 0 {
			end = max(end, uint64(s.Offset)+uint64(len(s.Data)))
		}
	}
	if end == 0 {
		return zeroImage
	}
	im := &pageImage{pages: make([][]byte, (end+osPage-1)/osPage)}
	owned := make([]bool, len(im.pages))
	for _, s := range segs {
		off, data := uint64(s.Offset), s.Data
		for len(data) > 0 {
			p := off / osPage
			in := off % osPage
			n := min(uint64(len(data)), osPage-in)
			if in == 0 && n == osPage {
				im.pages[p], owned[p] = data[:osPage:osPage], false
			} else {
				if !owned[p] {
					buf := make([]byte, osPage)
					copy(buf, im.pages[p]) // nil: stays zero
					im.pages[p], owned[p] = buf, true
				}
				copy(im.pages[p][in:], data[:n])
			}
			off += n
			data = data[n:]
		}
	}
	for p, b := range im.pages {
		if b != nil && bytes.Equal(b, zeroPage[:]) {
			im.pages[p] = nil
		}
	}
	return im
}

// size is the extent of the image in bytes (whole pages).
func (im *pageImage) size() uint64 { return uint64(len(im.pages)) * osPage }

// restore makes mem hold the image, writing only the pages that differ.
// The caller knows that mem is zero past n (the most of it any instance
// was given since it last held a known image). Each page is compared and
// copied on its own, so a large restore never holds off the scheduler.
func (im *pageImage) restore(mem []byte, n uint64) {
	n = min(max(n, im.size()), uint64(len(mem)))
	for off := uint64(0); off < n; off += osPage {
		page := mem[off:min(off+osPage, n)]
		want := zeroPage[:len(page)]
		if p := off / osPage; p < uint64(len(im.pages)) && im.pages[p] != nil {
			want = im.pages[p][:len(page)]
		}
		if !bytes.Equal(page, want) {
			copy(page, want)
		}
	}
}
