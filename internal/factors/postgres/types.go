package postgres

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
)

// Case indices of spin:postgres@4.2.0 db-value, parameter-value and
// db-data-type (the first 24 are shared; then db-null/unsupported for
// values, other(string) for data types). Version 3 has the first 13 and
// then db-null, unsupported / other; version 2 (rdbms-types) is mapped by
// v2Case.
const (
	cBoolean uint32 = iota
	cInt8
	cInt16
	cInt32
	cInt64
	cFloating32
	cFloating64
	cStr
	cBinary
	cDate
	cTime
	cDatetime
	cTimestamp
	cUUID
	cJSONB
	cDecimal
	cRangeInt32
	cRangeInt64
	cRangeDecimal
	cArrayInt32
	cArrayInt64
	cArrayDecimal
	cArrayStr
	cInterval
	cDbNull      // db-value, parameter-value
	cUnsupported // db-value: unsupported(list<u8>)
)

// cOther is db-data-type's other(string) in version 4.
const cOther = cDbNull

// Range bound kinds (enum range-bound-kind).
const (
	boundInclusive uint32 = 0
	boundExclusive uint32 = 1
)

// paramError is a parameter the host cannot send. Spin reports it as
// value-conversion-failed from execute and bad-parameter from query.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

func paramErrorf(format string, args ...any) error {
	return &paramError{msg: fmt.Sprintf(format, args...)}
}

// pgParam converts a version-4 parameter-value into the Go value pgx
// encodes for the statement's parameter type.
func pgParam(v any) (any, error) {
	pv, ok := v.(cabi.Variant)
	if !ok {
		return nil, rdbms.ErrBadArgs
	}
	bad := func() (any, error) { return nil, rdbms.ErrBadArgs }
	switch pv.Case {
	case cDbNull:
		return nil, nil
	case cBoolean, cInt8, cInt16, cInt32, cInt64, cFloating32, cFloating64, cStr:
		var ok bool
		switch pv.Case {
		case cBoolean:
			_, ok = pv.Value.(bool)
		case cInt8:
			_, ok = pv.Value.(int8)
		case cInt16:
			_, ok = pv.Value.(int16)
		case cInt32:
			_, ok = pv.Value.(int32)
		case cInt64:
			_, ok = pv.Value.(int64)
		case cFloating32:
			_, ok = pv.Value.(float32)
		case cFloating64:
			_, ok = pv.Value.(float64)
		case cStr:
			_, ok = pv.Value.(string)
		}
		if !ok {
			return bad()
		}
		return pv.Value, nil
	case cBinary:
		if pv.Value == nil {
			return []byte{}, nil
		}
		if b, ok := pv.Value.([]byte); ok {
			return b, nil
		}
		return bad()
	case cDate:
		t, ok := tuple(pv.Value, 3)
		if !ok {
			return bad()
		}
		y, m, d := i32(t[0]), u8(t[1]), u8(t[2])
		tm, err := civilDate(y, m, d)
		if err != nil {
			return nil, err
		}
		return pgtype.Date{Time: tm, Valid: true}, nil
	case cTime:
		t, ok := tuple(pv.Value, 4)
		if !ok {
			return bad()
		}
		us, err := civilTime(u8(t[0]), u8(t[1]), u8(t[2]), u32(t[3]))
		if err != nil {
			return nil, err
		}
		return pgtype.Time{Microseconds: us, Valid: true}, nil
	case cDatetime:
		t, ok := tuple(pv.Value, 7)
		if !ok {
			return bad()
		}
		d, err := civilDate(i32(t[0]), u8(t[1]), u8(t[2]))
		if err != nil {
			return nil, err
		}
		h, mi, s, ns := u8(t[3]), u8(t[4]), u8(t[5]), u32(t[6])
		if _, err := civilTime(h, mi, s, ns); err != nil {
			return nil, err
		}
		return d.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(ns)), nil
	case cTimestamp:
		// Seconds since the Unix epoch, as Spin.
		n, ok := pv.Value.(int64)
		if !ok {
			return bad()
		}
		return time.Unix(n, 0).UTC(), nil
	case cUUID:
		s, ok := pv.Value.(string)
		if !ok {
			return bad()
		}
		var u pgtype.UUID
		if err := u.Scan(s); err != nil {
			return nil, paramErrorf("invalid UUID %s", s)
		}
		return u, nil
	case cJSONB:
		b, _ := pv.Value.([]byte)
		if !json.Valid(b) {
			return nil, paramErrorf("invalid JSON %s", strings.ToValidUTF8(string(b), "\uFFFD"))
		}
		return json.RawMessage(b), nil
	case cDecimal:
		s, ok := pv.Value.(string)
		if !ok {
			return bad()
		}
		return decimal(s)
	case cRangeInt32, cRangeInt64, cRangeDecimal:
		return rangeParam(pv.Case, pv.Value)
	case cArrayInt32:
		if out, ok := optionList[int32](pv.Value); ok {
			return out, nil
		}
		return bad()
	case cArrayInt64:
		if out, ok := optionList[int64](pv.Value); ok {
			return out, nil
		}
		return bad()
	case cArrayStr:
		if out, ok := optionList[string](pv.Value); ok {
			return out, nil
		}
		return bad()
	case cArrayDecimal:
		strs, ok := optionList[string](pv.Value)
		if !ok {
			return bad()
		}
		nums := make([]pgtype.Numeric, len(strs))
		for i, s := range strs {
			if s == nil {
				continue
			}
			n, err := decimal(*s)
			if err != nil {
				return nil, err
			}
			nums[i] = n
		}
		return nums, nil
	case cInterval:
		t, ok := tuple(pv.Value, 3)
		if !ok {
			return bad()
		}
		us, ok1 := t[0].(int64)
		days, ok2 := t[1].(int32)
		months, ok3 := t[2].(int32)
		if !ok1 || !ok2 || !ok3 {
			return bad()
		}
		return pgtype.Interval{Microseconds: us, Days: days, Months: months, Valid: true}, nil
	}
	return bad()
}

func tuple(v any, n int) ([]any, bool) {
	t, ok := v.([]any)
	return t, ok && len(t) == n
}

func list(v any) ([]any, bool) {
	if v == nil {
		return nil, true
	}
	l, ok := v.([]any)
	return l, ok
}

// optionList is a list<option<T>> parameter as the []*T pgx encodes as
// an array (nil elements are NULLs); false if v is not one.
func optionList[T any](v any) ([]*T, bool) {
	l, ok := list(v)
	if !ok {
		return nil, false
	}
	out := make([]*T, len(l))
	for i, e := range l {
		o, ok := e.(cabi.Option)
		if !ok {
			return nil, false
		}
		if o.Some {
			x, ok := o.Value.(T)
			if !ok {
				return nil, false
			}
			out[i] = &x
		}
	}
	return out, true
}

// Integer payloads of tuples; a wrong type (a host bug) reads as an
// invalid value, which the range checks then reject.
func i32(v any) int32 { n, _ := v.(int32); return n }
func u8(v any) uint8  { n, _ := v.(uint8); return n }
func u32(v any) uint32 {
	n, _ := v.(uint32)
	return n
}

// civilDate is y-m-d at midnight UTC, or an error if it is not a date.
func civilDate(y int32, m, d uint8) (time.Time, error) {
	t := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
	if t.Year() != int(y) || t.Month() != time.Month(m) || t.Day() != int(d) {
		return time.Time{}, paramErrorf("invalid date y=%d, m=%d, d=%d", y, m, d)
	}
	return t, nil
}

// civilTime is h:m:s.ns as microseconds since midnight (PostgreSQL's
// precision), or an error if it is not a time of day.
func civilTime(h, m, s uint8, ns uint32) (int64, error) {
	if h > 23 || m > 59 || s > 59 || ns > 999_999_999 {
		return 0, paramErrorf("invalid time %d:%d:%d:%d", h, m, s, ns)
	}
	return (int64(h)*3600+int64(m)*60+int64(s))*1_000_000 + int64(ns)/1000, nil
}

var decimalSyntax = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// decimal parses a decimal string as Spin does (no exponent, no NaN).
func decimal(s string) (pgtype.Numeric, error) {
	var n pgtype.Numeric
	if !decimalSyntax.MatchString(s) || n.Scan(s) != nil {
		return n, paramErrorf("invalid decimal %s", s)
	}
	return n, nil
}

func rangeParam(c uint32, v any) (any, error) {
	t, ok := tuple(v, 2)
	if !ok {
		return nil, rdbms.ErrBadArgs
	}
	type bound struct {
		kind  pgtype.BoundType
		value any
	}
	var b [2]bound
	for i := range 2 {
		o, ok := t[i].(cabi.Option)
		if !ok {
			return nil, rdbms.ErrBadArgs
		}
		if !o.Some {
			b[i].kind = pgtype.Unbounded
			continue
		}
		bt, ok := tuple(o.Value, 2)
		if !ok {
			return nil, rdbms.ErrBadArgs
		}
		switch k, _ := bt[1].(uint32); k {
		case boundInclusive:
			b[i].kind = pgtype.Inclusive
		case boundExclusive:
			b[i].kind = pgtype.Exclusive
		default:
			return nil, rdbms.ErrBadArgs
		}
		b[i].value = bt[0]
	}
	switch c {
	case cRangeInt32:
		r := pgtype.Range[pgtype.Int4]{LowerType: b[0].kind, UpperType: b[1].kind, Valid: true}
		for i, p := range []*pgtype.Int4{&r.Lower, &r.Upper} {
			if b[i].kind != pgtype.Unbounded {
				n, ok := b[i].value.(int32)
				if !ok {
					return nil, rdbms.ErrBadArgs
				}
				*p = pgtype.Int4{Int32: n, Valid: true}
			}
		}
		return r, nil
	case cRangeInt64:
		r := pgtype.Range[pgtype.Int8]{LowerType: b[0].kind, UpperType: b[1].kind, Valid: true}
		for i, p := range []*pgtype.Int8{&r.Lower, &r.Upper} {
			if b[i].kind != pgtype.Unbounded {
				n, ok := b[i].value.(int64)
				if !ok {
					return nil, rdbms.ErrBadArgs
				}
				*p = pgtype.Int8{Int64: n, Valid: true}
			}
		}
		return r, nil
	default:
		r := pgtype.Range[pgtype.Numeric]{LowerType: b[0].kind, UpperType: b[1].kind, Valid: true}
		for i, p := range []*pgtype.Numeric{&r.Lower, &r.Upper} {
			if b[i].kind != pgtype.Unbounded {
				s, ok := b[i].value.(string)
				if !ok {
					return nil, rdbms.ErrBadArgs
				}
				n, err := decimal(s)
				if err != nil {
					return nil, err
				}
				*p = n
			}
		}
		return r, nil
	}
}

// dataType is the version-4 db-data-type of a column of type oid (name:
// the type's name, for other).
func dataType(oid uint32, name string) cabi.Variant {
	switch oid {
	case pgtype.BoolOID:
		return cabi.Variant{Case: cBoolean}
	case pgtype.ByteaOID:
		return cabi.Variant{Case: cBinary}
	case pgtype.Float4OID:
		return cabi.Variant{Case: cFloating32}
	case pgtype.Float8OID:
		return cabi.Variant{Case: cFloating64}
	case pgtype.Int2OID:
		return cabi.Variant{Case: cInt16}
	case pgtype.Int4OID:
		return cabi.Variant{Case: cInt32}
	case pgtype.Int8OID:
		return cabi.Variant{Case: cInt64}
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
		return cabi.Variant{Case: cStr}
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		return cabi.Variant{Case: cDatetime}
	case pgtype.DateOID:
		return cabi.Variant{Case: cDate}
	case pgtype.TimeOID:
		return cabi.Variant{Case: cTime}
	case pgtype.UUIDOID:
		return cabi.Variant{Case: cUUID}
	case pgtype.JSONBOID:
		return cabi.Variant{Case: cJSONB}
	case pgtype.NumericOID:
		return cabi.Variant{Case: cDecimal}
	case pgtype.Int4rangeOID:
		return cabi.Variant{Case: cRangeInt32}
	case pgtype.Int8rangeOID:
		return cabi.Variant{Case: cRangeInt64}
	case pgtype.NumrangeOID:
		return cabi.Variant{Case: cRangeDecimal}
	case pgtype.Int4ArrayOID:
		return cabi.Variant{Case: cArrayInt32}
	case pgtype.Int8ArrayOID:
		return cabi.Variant{Case: cArrayInt64}
	case pgtype.NumericArrayOID:
		return cabi.Variant{Case: cArrayDecimal}
	case pgtype.TextArrayOID, pgtype.VarcharArrayOID, pgtype.BPCharArrayOID:
		return cabi.Variant{Case: cArrayStr}
	case pgtype.IntervalOID:
		return cabi.Variant{Case: cInterval}
	}
	return cabi.Variant{Case: cOther, Value: name}
}

// dbValue decodes one non-NULL column value (raw, in format) of type oid
// into a version-4 db-value. Types without a WIT case are
// unsupported(raw bytes as the server sent them).
func dbValue(m *pgtype.Map, oid uint32, format int16, raw []byte) (cabi.Variant, error) {
	scan := func(dst any) error { return m.Scan(oid, format, raw, dst) }
	c := dataType(oid, "").Case
	switch c {
	case cBoolean:
		var v bool
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cBinary:
		var v []byte
		err := scan(&v)
		if v == nil {
			v = []byte{}
		}
		return cabi.Variant{Case: c, Value: v}, err
	case cFloating32:
		var v float32
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cFloating64:
		var v float64
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cInt16:
		var v int16
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cInt32:
		var v int32
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cInt64:
		var v int64
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cStr:
		var v string
		err := scan(&v)
		return cabi.Variant{Case: c, Value: v}, err
	case cDatetime:
		var v pgtype.Timestamptz
		if oid == pgtype.TimestampOID {
			var ts pgtype.Timestamp
			if err := scan(&ts); err != nil {
				return cabi.Variant{}, err
			}
			v = pgtype.Timestamptz{Time: ts.Time, InfinityModifier: ts.InfinityModifier, Valid: ts.Valid}
		} else if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		if v.InfinityModifier != pgtype.Finite {
			return cabi.Variant{}, fmt.Errorf("cannot convert timestamp %s", v.InfinityModifier)
		}
		t := v.Time.UTC()
		return cabi.Variant{Case: c, Value: []any{int32(t.Year()), uint8(t.Month()), uint8(t.Day()),
			uint8(t.Hour()), uint8(t.Minute()), uint8(t.Second()), uint32(t.Nanosecond())}}, nil
	case cDate:
		var v pgtype.Date
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		if v.InfinityModifier != pgtype.Finite {
			return cabi.Variant{}, fmt.Errorf("cannot convert date %s", v.InfinityModifier)
		}
		return cabi.Variant{Case: c, Value: []any{int32(v.Time.Year()), uint8(v.Time.Month()), uint8(v.Time.Day())}}, nil
	case cTime:
		var v pgtype.Time
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		us := v.Microseconds
		if us >= 24*3600*1_000_000 { // 24:00:00, which PostgreSQL allows
			return cabi.Variant{}, fmt.Errorf("cannot convert time 24:00:00")
		}
		return cabi.Variant{Case: c, Value: []any{uint8(us / 3_600_000_000), uint8(us / 60_000_000 % 60),
			uint8(us / 1_000_000 % 60), uint32(us%1_000_000) * 1000}}, nil
	case cUUID:
		var v pgtype.UUID
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		b := v.Bytes
		return cabi.Variant{Case: c, Value: fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])}, nil
	case cJSONB:
		var v []byte
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		// Spin re-serializes the document compactly.
		var out bytes.Buffer
		if err := json.Compact(&out, v); err != nil {
			return cabi.Variant{}, fmt.Errorf("invalid JSON from database: %w", err)
		}
		return cabi.Variant{Case: c, Value: out.Bytes()}, nil
	case cDecimal:
		var v pgtype.Numeric
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		s, err := numericString(v)
		return cabi.Variant{Case: c, Value: s}, err
	case cRangeInt32:
		var v pgtype.Range[pgtype.Int4]
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: rangeValue(v.LowerType, v.UpperType,
			func() any { return v.Lower.Int32 }, func() any { return v.Upper.Int32 })}, nil
	case cRangeInt64:
		var v pgtype.Range[pgtype.Int8]
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: rangeValue(v.LowerType, v.UpperType,
			func() any { return v.Lower.Int64 }, func() any { return v.Upper.Int64 })}, nil
	case cRangeDecimal:
		var v pgtype.Range[pgtype.Numeric]
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		lo, err := numericString(v.Lower)
		if err != nil && v.LowerType != pgtype.Unbounded && v.LowerType != pgtype.Empty {
			return cabi.Variant{}, err
		}
		hi, err := numericString(v.Upper)
		if err != nil && v.UpperType != pgtype.Unbounded && v.UpperType != pgtype.Empty {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: rangeValue(v.LowerType, v.UpperType,
			func() any { return lo }, func() any { return hi })}, nil
	case cArrayInt32:
		var v []*int32
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: options(v)}, nil
	case cArrayInt64:
		var v []*int64
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: options(v)}, nil
	case cArrayDecimal:
		var v []pgtype.Numeric
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		out := make([]any, len(v))
		for i, n := range v {
			out[i] = cabi.None
			if n.Valid {
				s, err := numericString(n)
				if err != nil {
					return cabi.Variant{}, err
				}
				out[i] = cabi.Some(s)
			}
		}
		return cabi.Variant{Case: c, Value: out}, nil
	case cArrayStr:
		var v []*string
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: options(v)}, nil
	case cInterval:
		var v pgtype.Interval
		if err := scan(&v); err != nil {
			return cabi.Variant{}, err
		}
		return cabi.Variant{Case: c, Value: []any{v.Microseconds, v.Days, v.Months}}, nil
	}
	b := append([]byte{}, raw...)
	return cabi.Variant{Case: cUnsupported, Value: b}, nil
}

// options is an array scanned with NULLs (nil elements) as
// list<option<T>>.
func options[T any](v []*T) []any {
	out := make([]any, len(v))
	for i, p := range v {
		out[i] = cabi.None
		if p != nil {
			out[i] = cabi.Some(*p)
		}
	}
	return out
}

// rangeValue is a range's WIT tuple. An empty range has no bounds, as in
// Spin (indistinguishable from an unbounded one).
func rangeValue(lt, ut pgtype.BoundType, lo, hi func() any) []any {
	b := func(t pgtype.BoundType, v func() any) any {
		switch t {
		case pgtype.Inclusive:
			return cabi.Some([]any{v(), boundInclusive})
		case pgtype.Exclusive:
			return cabi.Some([]any{v(), boundExclusive})
		}
		return cabi.None
	}
	return []any{b(lt, lo), b(ut, hi)}
}

// numericString formats a numeric with its scale ("1.50"), as Spin's
// rust_decimal does; NaN and infinities have no decimal form in Spin and
// are spelled as PostgreSQL spells them.
func numericString(n pgtype.Numeric) (string, error) {
	switch {
	case !n.Valid:
		return "", fmt.Errorf("NULL numeric")
	case n.NaN:
		return "NaN", nil
	case n.InfinityModifier == pgtype.Infinity:
		return "Infinity", nil
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return "-Infinity", nil
	}
	i := n.Int
	if i == nil {
		i = new(big.Int)
	}
	neg := i.Sign() < 0
	digits := new(big.Int).Abs(i).String()
	if n.Exp >= 0 {
		if i.Sign() != 0 {
			digits += strings.Repeat("0", int(n.Exp))
		}
	} else {
		scale := int(-n.Exp)
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits, nil
}

// v3Value maps a version-4 db-value to version 3, as Spin does: the cases
// version 3 lacks become unsupported.
func v3Value(v cabi.Variant) cabi.Variant {
	switch {
	case v.Case <= cTimestamp:
		return v
	case v.Case == cDbNull:
		return cabi.Variant{Case: 13}
	}
	return cabi.Variant{Case: 14}
}

// v3DataType maps a version-4 db-data-type to version 3's enum.
func v3DataType(v cabi.Variant) uint32 {
	if v.Case <= cTimestamp {
		return v.Case
	}
	return 13
}

// v2Case maps a version-4 case of the types rdbms-types shares to its
// rdbms-types index, ok false for cases rdbms-types lacks.
func v2Case(c uint32) (uint32, bool) {
	switch {
	case c <= cInt64:
		return c, true
	case c <= cBinary:
		return c - cFloating32 + rdbms.Floating32, true
	}
	return 0, false
}

// v2Value maps a version-4 db-value to rdbms-types.
func v2Value(v cabi.Variant) cabi.Variant {
	if c, ok := v2Case(v.Case); ok {
		return cabi.Variant{Case: c, Value: v.Value}
	}
	if v.Case == cDbNull {
		return cabi.Variant{Case: rdbms.DbNull}
	}
	return cabi.Variant{Case: rdbms.Unsupported}
}

// v2DataType maps a version-4 db-data-type to rdbms-types.
func v2DataType(v cabi.Variant) uint32 {
	if c, ok := v2Case(v.Case); ok {
		return c
	}
	return rdbms.TypeOther
}

// v3Param maps a version-3 parameter-value to version 4.
func v3Param(v any) (any, error) {
	pv, ok := v.(cabi.Variant)
	if !ok || pv.Case > 13 {
		return nil, rdbms.ErrBadArgs
	}
	if pv.Case == 13 {
		pv.Case = cDbNull
	}
	return pv, nil
}

// v2Param maps an rdbms-types parameter-value to version 4; PostgreSQL
// has no unsigned integers (value-conversion-failed, as Spin).
func v2Param(v any) (any, *rdbms.Error) {
	pv, ok := v.(cabi.Variant)
	if !ok {
		return v, nil // pgParam reports it
	}
	switch {
	case pv.Case <= rdbms.Int64:
	case pv.Case <= rdbms.Uint64:
		return nil, rdbms.Errorf(rdbms.ValueConversionFailed, "Postgres does not support unsigned integers")
	case pv.Case <= rdbms.Binary:
		pv.Case = pv.Case - rdbms.Floating32 + cFloating32
	case pv.Case == rdbms.DbNull:
		pv.Case = cDbNull
	}
	return pv, nil
}
