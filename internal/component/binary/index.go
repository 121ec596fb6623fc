package binary

import "fmt"

// Origin says which kind of definition created an index-space entry.
type Origin uint8

const (
	OriginImport       Origin = iota // Component.Imports[Index]
	OriginExport                     // Component.Exports[Index] (exports re-index)
	OriginAlias                      // Component.Aliases[Index]
	OriginCanon                      // Component.Canons[Index]
	OriginCoreModule                 // Component.CoreModules[Index]
	OriginCoreInstance               // Component.CoreInstances[Index]
	OriginCoreType                   // Component.CoreTypes[Index]
	OriginType                       // Component.Types[Index]
	OriginComponent                  // Component.Components[Index]
	OriginInstance                   // Component.Instances[Index]
	OriginStart                      // Component.Starts[Index] (one entry per result)
)

var originNames = [...]string{"import", "export", "alias", "canon", "core module", "core instance",
	"core type", "type", "component", "instance", "start"}

func (o Origin) String() string {
	if int(o) < len(originNames) {
		return originNames[o]
	}
	return "unknown"
}

// Def identifies the definition behind one index-space entry: the entry was
// created by the Index'th element of the Component slice named by Origin.
// For example "core func 17" may be Def{OriginCanon, 4} (a canon lower, see
// Component.Canons[4]) or Def{OriginAlias, 9} (Component.Aliases[9], e.g.
// export "foo" of core instance 3).
type Def struct {
	Origin Origin
	Index  int
}

// Space returns the index space of sort s, in index order: Space(s)[i] is
// the definition behind "(s i)". The slice is shared; do not modify it.
func (c *Component) Space(s Sort) []Def {
	if s >= numSorts {
		return nil
	}
	return c.spaces[s]
}

// Resolve returns the definition behind index idx of sort s.
func (c *Component) Resolve(s Sort, idx uint32) (Def, error) {
	sp := c.Space(s)
	if uint64(idx) >= uint64(len(sp)) {
		return Def{}, fmt.Errorf("%s index %d out of range (%d %s)", s, idx, len(sp), s.plural())
	}
	return sp[idx], nil
}

// scope tracks index-space sizes while decoding, for range validation and
// outer aliases. Components, component types and instance types are scopes
// (Binary.md "alias outer"); module types are too, for core type aliases.
type scope struct {
	parent       *scope
	counts       [numSorts]uint32
	inModuleType bool
	comp         *Component // non-nil for component scopes
}

func (s *scope) add(sort Sort) { s.counts[sort]++ }

// define records a new entry in a component scope's index space.
func (s *scope) define(sort Sort, o Origin, i int) {
	s.counts[sort]++
	if s.comp != nil {
		s.comp.spaces[sort] = append(s.comp.spaces[sort], Def{Origin: o, Index: i})
	}
}

func (s *scope) check(r *reader, sort Sort, idx uint32, what string) error {
	if n := s.counts[sort]; idx >= n {
		return r.errorf("%s index %d out of range (%d %s)", what, idx, n, sort.plural())
	}
	return nil
}

func (s *scope) checkOuter(r *reader, count uint32, sort Sort, idx uint32) error {
	t := s
	for i := uint32(0); i < count; i++ {
		t = t.parent
		if t == nil {
			return r.errorf("outer alias count %d exceeds the %d enclosing scopes", count, i)
		}
	}
	return t.check(r, sort, idx, fmt.Sprintf("outer alias (count %d) %s", count, sort))
}

func (s Sort) plural() string {
	if s == SortCoreMemory {
		return "core memories"
	}
	return s.String() + "s"
}
