package cabi

// Flat core values travel as uint64 holding the value's bits, as wazero
// passes them: i32 in the low 32 bits (upper bits ignored when read, zero
// when written), i64 as is, f32 as math.Float32bits in the low 32 bits, f64
// as math.Float64bits. With this representation the variant coercions of
// lift_flat_variant (wrap_i64_to_i32, decode_i32_as_float, …) and of
// lower_flat_variant (encode_float_as_i32, i32 → i64, …) reduce to taking
// or zero-extending the low bits.

// FlatReader is the spec's CoreValueIter over flat core values.
type FlatReader struct {
	vals []uint64
	pos  int
}

// NewFlatReader returns a reader over vals.
func NewFlatReader(vals []uint64) *FlatReader { return &FlatReader{vals: vals} }

// Next returns the next value; it traps when the values run out.
func (r *FlatReader) Next() (uint64, error) {
	if r.pos >= len(r.vals) {
		return 0, trapf("too few flat values (%d)", len(r.vals))
	}
	v := r.vals[r.pos]
	r.pos++
	return v, nil
}

// next32 returns the next value as an i32.
func (r *FlatReader) next32() (uint32, error) {
	v, err := r.Next()
	return uint32(v), err
}

// skipTo moves to position p (after a variant's unused joined slots).
func (r *FlatReader) skipTo(p int) error {
	if p > len(r.vals) {
		return trapf("too few flat values (%d)", len(r.vals))
	}
	r.pos = p
	return nil
}

// Done reports whether every value was consumed (CoreValueIter.done).
func (r *FlatReader) Done() bool { return r.pos == len(r.vals) }

// Remaining returns the values not consumed yet.
func (r *FlatReader) Remaining() []uint64 { return r.vals[r.pos:] }
