// Package cabi is the Component Model's canonical ABI: the type model of
// component-level values and the rules that lift them from, and lower them
// into, a core instance's linear memory and flat core values.
//
// It does not know wazero: it reaches linear memory and the guest's realloc
// through the small Memory and Realloc interfaces, so the engine stays the
// only package that imports the runtime.
package cabi

// Kind is the kind of a component value type.
type Kind uint8

// The value type kinds of the Component Model (WIT's types).
const (
	KindBool Kind = iota + 1
	KindS8
	KindU8
	KindS16
	KindU16
	KindS32
	KindU32
	KindS64
	KindU64
	KindF32
	KindF64
	KindChar
	KindString
	KindList
	KindRecord
	KindTuple
	KindVariant
	KindEnum
	KindOption
	KindResult
	KindFlags
	KindOwn
	KindBorrow
)

// Type is a component value type. Which fields are set depends on Kind:
//
//	List, Option    Elem
//	Record          Fields
//	Tuple           Types
//	Variant         Cases
//	Enum, Flags     Labels
//	Result          Ok, Err (nil means no payload)
//	Own, Borrow     Resource
//
// Types are immutable once built and may be shared.
type Type struct {
	Kind     Kind
	Elem     *Type
	Fields   []Field
	Types    []*Type
	Cases    []Case
	Labels   []string
	Ok, Err  *Type
	Resource *Resource
	// Name is the WIT name of a named type (record, variant, enum, flags,
	// resource handle), for error messages only.
	Name string
}

// Field is a named record field.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *Type
}

// Resource is a resource type. Identity is by pointer: two resource types
// are the same only if they are the same *Resource.
type Resource struct {
	// Name is "<interface>#<resource>", e.g. "wasi:http/types@0.2.0#fields".
	Name string
	// Host reports that the host implements the resource (its
	// representations are Go values); otherwise a component defines it and
	// its representations are u32 chosen by the guest.
	Host bool
}

// FuncType is a component function type. Results has zero or one unnamed
// entry (Name == "") or any number of named ones.
type FuncType struct {
	Params  []Param
	Results []Param
}

// Param is a named function parameter or result.
type Param struct {
	Name string
	Type *Type
}

// Go representation of component values, used by lifting, lowering and host
// functions. The Type says which representation a value has:
//
//	bool                  bool
//	s8 u8 s16 u16         int8 uint8 int16 uint16
//	s32 u32 s64 u64       int32 uint32 int64 uint64
//	f32 f64               float32 float64
//	char                  rune
//	string                string
//	list<u8>              []byte
//	list<T>               []any
//	record, tuple         []any (fields in declaration order)
//	variant               Variant
//	enum                  uint32 (the case index)
//	option<T>             Option
//	result<T, E>          Result
//	flags                 uint32 (bit i set = label i); at most 32 labels
//	own<R>, borrow<R>     for a host resource: the Go value the host
//	                      registered; for a guest resource: its uint32 rep
type (
	// Variant is a variant value: the case index and its payload (nil when
	// the case has none).
	Variant struct {
		Case  uint32
		Value any
	}
	// Option is an option value.
	Option struct {
		Some  bool
		Value any
	}
	// Result is a result value; Value is the ok or error payload (nil when
	// that side has none).
	Result struct {
		IsErr bool
		Value any
	}
)

// Some returns option::some(v).
func Some(v any) Option { return Option{Some: true, Value: v} }

// None is option::none.
var None = Option{}

// Ok returns result::ok(v); Err returns result::err(v).
func Ok(v any) Result  { return Result{Value: v} }
func Err(v any) Result { return Result{IsErr: true, Value: v} }

// Memory is a core instance's linear memory as the canonical ABI needs it.
// Implementations must bounds-check: Read and Write report false when
// [offset, offset+len) is outside the memory.
type Memory interface {
	Read(offset, length uint32) ([]byte, bool)
	Write(offset uint32, data []byte) bool
	Size() uint32
}

// Realloc calls the guest's cabi_realloc(old_ptr, old_size, align, new_size).
type Realloc func(oldPtr, oldSize, align, newSize uint32) (uint32, error)

// StringEncoding is a canonical option: how strings cross the boundary.
type StringEncoding uint8

const (
	UTF8 StringEncoding = iota
	UTF16
	Latin1UTF16 // "latin1+utf16"
)
