package rewrite

import (
	"fmt"
	"sort"
)

// mergeGap is the largest run of bytes no segment writes that MergeData
// fills with zeros to join two segments of a module-defined memory: a fresh
// memory is zero there anyway, and copying a few zero bytes is cheaper than
// wazero's per-segment work (a constant expression and a bounds check).
const mergeGap = 4096

// maxImageSpan bounds the image MergeData builds in memory.
const maxImageSpan = 512 << 20

// DataStats describes what MergeData did.
type DataStats struct {
	Before, After int // active data segments
	// Reason says why the module was left unchanged ("" if merged).
	Reason string
}

// segment is an active data segment with a constant offset.
type segment struct {
	off  uint32
	data []byte
}

// MergeData rewrites the module's active data segments into as few
// segments as give the same initial memory: standard Go binaries have tens
// of thousands of small segments, and wazero's instantiation spends time and
// allocations on each. The result is byte for byte the input, apart from
// the data section (and the data count section).
//
// A module is left unchanged (with Reason set) unless every active segment
// writes memory 0 at an i32.const offset, every segment fits the memory's
// declared minimum, and no function uses a data index (memory.init,
// data.drop), since merging renumbers segments. Gaps between segments are
// zero-filled only for a memory the module defines itself (fresh, so
// already zero); into an imported memory only touching or overlapping
// segments are joined, so bytes another instance wrote stay untouched.
// Passive segments are kept, after the merged ones.
func MergeData(wasm []byte) ([]byte, DataStats, error) {
	var st DataStats
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, st, err
	}
	di := find(secs, secData)
	if di < 0 {
		st.Reason = "no data section"
		return wasm, st, nil
	}
	active, passive, err := parseData(secs[di].body)
	if err != nil {
		return nil, st, fmt.Errorf("data section: %w", err)
	}
	st.Before, st.After = len(active), len(active)
	if len(active) < 2 {
		st.Reason = "fewer than two active segments"
		return wasm, st, nil
	}
	if reason := unmergeable(active); reason != "" {
		st.Reason = reason
		return wasm, st, nil
	}
	memMin, defined, err := memoryShape(secs)
	if err != nil {
		return nil, st, err
	}
	if memMin == 0 && !defined {
		st.Reason = "no usable memory declaration"
		return wasm, st, nil
	}
	if find(secs, secDataCount) >= 0 {
		if ci := find(secs, secCode); ci >= 0 {
			bodies, err := parseCode(secs[ci].body)
			if err != nil {
				st.Reason = "code not decodable: " + err.Error()
				return wasm, st, nil
			}
			for _, b := range bodies {
				if b.usesDataIndex {
					st.Reason = "code uses data indices (memory.init/data.drop)"
					return wasm, st, nil
				}
			}
		}
	}
	segs := make([]segment, len(active))
	lo, hi := uint64(1<<32), uint64(0)
	for i, a := range active {
		segs[i] = segment{off: a.off, data: a.data}
		end := uint64(a.off) + uint64(len(a.data))
		if end > memMin*65536 {
			st.Reason = "a segment lies beyond the memory's minimum size"
			return wasm, st, nil
		}
		if len(a.data) > 0 {
			lo, hi = min(lo, uint64(a.off)), max(hi, end)
		}
	}
	if hi <= lo {
		lo, hi = 0, 0
	}
	if hi-lo > maxImageSpan {
		st.Reason = "data spans too much memory"
		return wasm, st, nil
	}
	merged := mergeSegments(segs, lo, hi, defined)
	st.After = len(merged)

	body := appendU32(nil, uint32(len(merged)+len(passive)))
	for _, s := range merged {
		body = append(body, 0, opI32Const)
		body = appendS32(body, int32(s.off))
		body = append(body, opEnd)
		body = appendU32(body, uint32(len(s.data)))
		body = append(body, s.data...)
	}
	for _, p := range passive {
		body = append(body, p...)
	}
	out := make([]section, len(secs))
	copy(out, secs)
	out[di].body = body
	if ci := find(out, secDataCount); ci >= 0 {
		out[ci].body = appendU32(nil, uint32(len(merged)+len(passive)))
	}
	return joinSections(out), st, nil
}

// activeSeg is a decoded active segment; constant is false if its offset
// is not a plain i32.const or it targets a memory other than 0.
type activeSeg struct {
	off      uint32
	data     []byte
	constant bool
}

// parseData splits the data section into active segments and the raw
// encodings of passive ones.
func parseData(body []byte) (active []activeSeg, passive [][]byte, err error) {
	r := reader{b: body}
	n, err := r.u32()
	if err != nil {
		return nil, nil, err
	}
	for i := uint32(0); i < n; i++ {
		start := r.off
		flags, err := r.u32()
		if err != nil {
			return nil, nil, err
		}
		switch flags {
		case 1:
			if _, err := r.bytes(); err != nil {
				return nil, nil, err
			}
			passive = append(passive, body[start:r.off])
			continue
		case 0, 2:
		default:
			return nil, nil, fmt.Errorf("segment %d: unknown flags %d", i, flags)
		}
		seg := activeSeg{constant: true}
		if flags == 2 {
			mem, err := r.u32()
			if err != nil {
				return nil, nil, err
			}
			seg.constant = mem == 0
		}
		// Offset expression: accept exactly "i32.const n end".
		exprStart := r.off
		if op, err := r.byte(); err == nil && op == opI32Const {
			v, err := r.s32()
			if err != nil {
				return nil, nil, err
			}
			seg.off = uint32(v)
			if end, err := r.byte(); err != nil || end != opEnd {
				seg.constant = false
				r.off = exprStart
			}
		} else {
			seg.constant = false
			r.off = exprStart
		}
		if !seg.constant {
			if err := skipConstExpr(&r); err != nil {
				return nil, nil, err
			}
		}
		if seg.data, err = r.bytes(); err != nil {
			return nil, nil, err
		}
		active = append(active, seg)
	}
	if !r.done() {
		return nil, nil, fmt.Errorf("%d trailing bytes", len(r.b)-r.off)
	}
	return active, passive, nil
}

// skipConstExpr skips a constant expression up to and including its end.
func skipConstExpr(r *reader) error {
	var fb funcBody
	for {
		op, err := r.byte()
		if err != nil {
			return err
		}
		if op == opEnd {
			return nil
		}
		if err := skipImmediates(r, op, &fb); err != nil {
			return err
		}
	}
}

func unmergeable(active []activeSeg) string {
	for _, a := range active {
		if !a.constant {
			return "a segment has a non-constant offset or another memory"
		}
	}
	return ""
}

// memoryShape returns memory 0's declared minimum in pages and whether the
// module defines it (true) or imports it.
func memoryShape(secs []section) (minPages uint64, defined bool, err error) {
	if ii := find(secs, secImport); ii >= 0 {
		r := reader{b: secs[ii].body}
		count, err := r.u32()
		if err != nil {
			return 0, false, err
		}
		for i := uint32(0); i < count; i++ {
			if _, err := r.bytes(); err != nil {
				return 0, false, err
			}
			if _, err := r.bytes(); err != nil {
				return 0, false, err
			}
			kind, err := r.byte()
			if err != nil {
				return 0, false, err
			}
			switch kind {
			case 0:
				_, err = r.u32()
			case 1:
				if err = r.valType(); err == nil {
					_, _, err = r.limits()
				}
			case 2:
				m, _, err := r.limits()
				return m, false, err
			case 3:
				if err = r.valType(); err == nil {
					_, err = r.byte()
				}
			case 4:
				if _, err = r.byte(); err == nil {
					_, err = r.u32()
				}
			default:
				return 0, false, fmt.Errorf("unknown import kind %#x", kind)
			}
			if err != nil {
				return 0, false, err
			}
		}
	}
	if mi := find(secs, secMemory); mi >= 0 {
		r := reader{b: secs[mi].body}
		n, err := r.u32()
		if err != nil || n == 0 {
			return 0, false, err
		}
		m, _, err := r.limits()
		return m, true, err
	}
	return 0, false, nil
}

// mergeSegments applies segs in order to an image of [lo, hi) and returns
// the covered runs, joining runs separated by at most mergeGap unwritten
// bytes when the memory is fresh (zeroGaps).
func mergeSegments(segs []segment, lo, hi uint64, zeroGaps bool) []segment {
	if hi == lo {
		return nil
	}
	img := make([]byte, hi-lo)
	// Intervals written, to find the runs without a per-byte bitmap.
	type span struct{ a, b uint64 }
	spans := make([]span, 0, len(segs))
	for _, s := range segs {
		if len(s.data) == 0 {
			continue
		}
		a := uint64(s.off) - lo
		copy(img[a:], s.data)
		spans = append(spans, span{a, a + uint64(len(s.data))})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	gap := uint64(0)
	if zeroGaps {
		gap = mergeGap
	}
	var runs []span
	for _, s := range spans {
		if n := len(runs); n > 0 && s.a <= runs[n-1].b+gap {
			runs[n-1].b = max(runs[n-1].b, s.b)
			continue
		}
		runs = append(runs, s)
	}
	out := make([]segment, len(runs))
	for i, r := range runs {
		out[i] = segment{off: uint32(lo + r.a), data: img[r.a:r.b]}
	}
	return out
}
