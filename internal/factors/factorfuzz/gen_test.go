package factorfuzz

import (
	"math"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// source is where the generator's choices come from: a seeded PRNG for the
// test, the fuzzer's bytes for FuzzHostFuncs.
type source interface {
	// IntN returns a value in [0, n); n > 0.
	IntN(n int) int
	Uint64() uint64
}

// byteSource reads choices from fuzz input; once exhausted every choice is
// zero, so any input is a complete (if dull) program.
type byteSource struct{ b []byte }

func (s *byteSource) Uint64() uint64 {
	var v uint64
	for i := 0; i < 8 && len(s.b) > 0; i++ {
		v = v<<8 | uint64(s.b[0])
		s.b = s.b[1:]
	}
	return v
}

func (s *byteSource) IntN(n int) int {
	if n <= 1 {
		return 0
	}
	var v uint64
	if n <= 256 {
		if len(s.b) == 0 {
			return 0
		}
		v = uint64(s.b[0])
		s.b = s.b[1:]
	} else {
		v = s.Uint64()
	}
	return int(v % uint64(n))
}

var _ source = (*rand.Rand)(nil)

// gen builds values of WIT types in the canonical-ABI Go representation.
type gen struct {
	src source
	// maxLen bounds lists and ordinary strings; big allows an occasional
	// value just over the factors' limits (1 MiB values, 255-byte keys).
	maxLen int
	big    bool
	// hint, if set, may supply a top-level string parameter by name
	// (addresses, labels, SQL statements, keys with the test's prefix).
	hint func(g *gen, param string) (any, bool)
	// pool holds live handles by resource type.
	pool map[*cabi.Resource][]any
}

func (g *gen) chance(n int) bool { return g.src.IntN(n) == 0 }

// params returns arguments for ft, or false when a parameter needs a
// resource handle the pool does not have.
func (g *gen) params(ft *cabi.FuncType) ([]any, bool) {
	args := make([]any, len(ft.Params))
	for i, p := range ft.Params {
		if g.hint != nil {
			if s, ok := g.hint(g, p.Name); ok {
				args[i] = s
				continue
			}
		}
		v, ok := g.value(p.Type, 0)
		if !ok {
			return nil, false
		}
		args[i] = v
	}
	return args, true
}

func (g *gen) value(t *cabi.Type, depth int) (any, bool) {
	switch t.Kind {
	case cabi.KindBool:
		return g.chance(2), true
	case cabi.KindS8:
		return int8(g.int(8)), true
	case cabi.KindU8:
		return uint8(g.int(8)), true
	case cabi.KindS16:
		return int16(g.int(16)), true
	case cabi.KindU16:
		return uint16(g.int(16)), true
	case cabi.KindS32:
		return int32(g.int(32)), true
	case cabi.KindU32:
		return uint32(g.int(32)), true
	case cabi.KindS64:
		return int64(g.int(64)), true
	case cabi.KindU64:
		return g.int(64), true
	case cabi.KindF32:
		return float32(g.float()), true
	case cabi.KindF64:
		return g.float(), true
	case cabi.KindChar:
		return g.rune(), true
	case cabi.KindString:
		return g.string(), true
	case cabi.KindList:
		n := g.length()
		if t.Elem.Kind == cabi.KindU8 {
			if g.big && g.chance(200) {
				n = 1<<20 + 1
			}
			b := make([]byte, n)
			for i := range b {
				if i >= 64 { // past a random head, a cheap pattern
					b[i] = byte(i)
					continue
				}
				b[i] = byte(g.src.IntN(256))
			}
			return b, true
		}
		if depth > 4 {
			n = 0
		}
		l := make([]any, n)
		for i := range l {
			v, ok := g.value(t.Elem, depth+1)
			if !ok {
				return nil, false
			}
			l[i] = v
		}
		return l, true
	case cabi.KindRecord:
		vs := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			v, ok := g.value(f.Type, depth+1)
			if !ok {
				return nil, false
			}
			vs[i] = v
		}
		return vs, true
	case cabi.KindTuple:
		vs := make([]any, len(t.Types))
		for i, et := range t.Types {
			v, ok := g.value(et, depth+1)
			if !ok {
				return nil, false
			}
			vs[i] = v
		}
		return vs, true
	case cabi.KindVariant:
		c := g.src.IntN(len(t.Cases))
		var v any
		if ct := t.Cases[c].Type; ct != nil {
			var ok bool
			if v, ok = g.value(ct, depth+1); !ok {
				return nil, false
			}
		}
		return cabi.Variant{Case: uint32(c), Value: v}, true
	case cabi.KindEnum:
		return uint32(g.src.IntN(len(t.Labels))), true
	case cabi.KindOption:
		if g.chance(2) {
			return cabi.None, true
		}
		v, ok := g.value(t.Elem, depth+1)
		return cabi.Some(v), ok
	case cabi.KindResult:
		isErr := g.chance(2)
		pt := t.Ok
		if isErr {
			pt = t.Err
		}
		var v any
		if pt != nil {
			var ok bool
			if v, ok = g.value(pt, depth+1); !ok {
				return nil, false
			}
		}
		return cabi.Result{IsErr: isErr, Value: v}, true
	case cabi.KindFlags:
		mask := uint64(1)<<len(t.Labels) - 1
		return uint32(g.src.Uint64() & mask), true
	case cabi.KindOwn, cabi.KindBorrow:
		hs := g.pool[t.Resource]
		if len(hs) == 0 {
			return nil, false
		}
		return hs[g.src.IntN(len(hs))], true
	}
	panic("factorfuzz: generator does not know kind " + t.Kind.String())
}

// int returns bits random bits, often a boundary value.
func (g *gen) int(bits int) uint64 {
	mask := uint64(math.MaxUint64)
	if bits < 64 {
		mask = 1<<bits - 1
	}
	switch g.src.IntN(8) {
	case 0:
		return 0
	case 1:
		return 1
	case 2:
		return mask // -1 when signed
	case 3:
		return mask >> 1 // max signed
	case 4:
		return (mask >> 1) + 1 // min signed
	case 5:
		return uint64(g.src.IntN(300))
	}
	return g.src.Uint64() & mask
}

func (g *gen) float() float64 {
	switch g.src.IntN(10) {
	case 0:
		return 0
	case 1:
		return math.Copysign(0, -1)
	case 2:
		return math.NaN()
	case 3:
		return math.Inf(1)
	case 4:
		return math.Inf(-1)
	case 5:
		return math.MaxFloat64
	case 6:
		return math.SmallestNonzeroFloat64
	}
	return math.Float64frombits(g.src.Uint64())
}

func (g *gen) rune() rune {
	for {
		var r rune
		switch g.src.IntN(4) {
		case 0:
			r = rune(g.src.IntN(0x80))
		case 1:
			r = rune(g.src.IntN(0x800))
		default:
			r = rune(g.src.IntN(utf8.MaxRune + 1))
		}
		if utf8.ValidRune(r) {
			return r
		}
		if g.src.IntN(2) == 0 { // a byte source stuck on an invalid rune
			return 'x'
		}
	}
}

func (g *gen) length() int {
	switch g.src.IntN(6) {
	case 0:
		return 0
	case 1:
		return g.maxLen
	}
	return g.src.IntN(g.maxLen + 1)
}

// interesting strings guests are likely to get wrong or servers to choke on.
var interesting = []string{
	"", " ", "\x00", "a\x00b", "%s%d%n", "'; --", "\"", "\\", "../../etc/passwd", ":memory:",
	"\u00e9\u6f22\U0001F600", "\ufeff", "\u202e", "default", "DEFAULT", "*", "#", "+", "/", "a/+/#",
	"$1", "?", "null", "NaN", "-1", "18446744073709551616", "redis://", "mqtt://", "postgres://", "mysql://",
	"http://127.0.0.1:1", "redis://127.0.0.1:1", "{{ x }}",
}

func (g *gen) string() string {
	switch g.src.IntN(8) {
	case 0:
		return interesting[g.src.IntN(len(interesting))]
	case 1:
		if g.big && g.chance(4) {
			return strings.Repeat("k", 256) // over the key limit
		}
	}
	n := g.length()
	var b strings.Builder
	ascii := g.chance(2)
	for range n {
		if ascii {
			b.WriteByte(byte(0x20 + g.src.IntN(0x5f)))
		} else {
			b.WriteRune(g.rune())
		}
	}
	return b.String()
}
