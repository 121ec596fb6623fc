package binary

// This file holds the component-level AST. Type definitions live in types.go,
// core types in coretypes.go, canonical definitions in canon.go.

// Component is one decoded component (the top-level one or a nested one).
// Every definition is kept in the order it appeared, in a slice per
// definition kind; Sections records which slice range each section filled,
// and the index spaces (index.go) map "sort + index" back to those slices.
//
// Byte slices (CoreModule.Bytes, Custom.Data) alias the input given to Decode:
// a 12 MB component is not copied. Do not modify the input afterwards.
type Component struct {
	Sections []SectionInfo

	Customs       []Custom
	CoreModules   []CoreModule
	CoreInstances []CoreInstance
	CoreTypes     []CoreType
	Components    []*Component
	Instances     []Instance
	Aliases       []Alias
	Types         []Type
	Canons        []Canon
	Starts        []Start
	Imports       []Import
	Exports       []Export

	spaces [numSorts][]Def
}

// SectionID is a component section id (Binary.md "section").
type SectionID byte

const (
	SectionCustom       SectionID = 0
	SectionCoreModule   SectionID = 1
	SectionCoreInstance SectionID = 2
	SectionCoreType     SectionID = 3
	SectionComponent    SectionID = 4
	SectionInstance     SectionID = 5
	SectionAlias        SectionID = 6
	SectionType         SectionID = 7
	SectionCanon        SectionID = 8
	SectionStart        SectionID = 9
	SectionImport       SectionID = 10
	SectionExport       SectionID = 11
	SectionValue        SectionID = 12
)

var sectionNames = [...]string{
	"custom", "core module", "core instance", "core type", "component", "instance",
	"alias", "type", "canon", "start", "import", "export", "value",
}

func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return "unknown"
}

// SectionInfo locates one section in the input and names the definitions it
// produced: items First..First+Count-1 of the slice for its kind (Customs for
// a custom section, CoreModules for a core module section, and so on).
type SectionInfo struct {
	ID     SectionID
	Offset int // absolute offset of the section payload
	Size   int // payload size in bytes
	First  int
	Count  int
}

// Custom is a custom section, kept verbatim (e.g. "producers",
// "component-name", "component-type:*").
type Custom struct {
	Name   string
	Offset int // absolute offset of Data
	Data   []byte
}

// CoreModule is an embedded core wasm module, kept as raw bytes: the engine
// compiles it, CoreImports/CoreExports inspect it, RewriteImports renames it.
type CoreModule struct {
	Offset int // absolute offset of the module's first byte (its magic)
	Bytes  []byte
}

// Sort names an index space. Core sorts and component sorts share one
// enumeration so that a SortIdx is self-describing.
type Sort uint8

const (
	SortCoreFunc Sort = iota
	SortCoreTable
	SortCoreMemory
	SortCoreGlobal
	SortCoreTag
	SortCoreType
	SortCoreModule
	SortCoreInstance
	SortFunc
	SortValue
	SortType
	SortComponent
	SortInstance
	numSorts
)

var sortNames = [numSorts]string{
	"core func", "core table", "core memory", "core global", "core tag", "core type",
	"core module", "core instance", "func", "value", "type", "component", "instance",
}

func (s Sort) String() string {
	if s < numSorts {
		return sortNames[s]
	}
	return "unknown sort"
}

// IsCore reports whether s is one of the core sorts.
func (s Sort) IsCore() bool { return s <= SortCoreInstance }

// SortIdx is a reference into an index space ("(func 3)", "(core memory 0)").
type SortIdx struct {
	Sort  Sort
	Index uint32
}

// CoreInstance is a core instance definition: either an instantiation of a
// core module with named argument instances, or a bag of inline exports.
type CoreInstance struct {
	Offset int
	// Instantiate form (Inline == false).
	Module uint32
	Args   []CoreInstantiateArg
	// Inline-exports form (Inline == true).
	Inline  bool
	Exports []CoreInlineExport
}

// CoreInstantiateArg is "(with name (instance i))": the core module's
// imports whose module name is Name resolve against core instance Instance.
type CoreInstantiateArg struct {
	Name     string
	Instance uint32
}

// CoreInlineExport is "(export name (sort idx))" in an inline core instance.
type CoreInlineExport struct {
	Name string
	Ref  SortIdx // always a core sort
}

// Instance is a component instance definition: instantiate a component with
// arguments, or a bag of inline exports.
type Instance struct {
	Offset    int
	Component uint32
	Args      []InstantiateArg
	Inline    bool
	Exports   []InlineExport
}

// InstantiateArg is "(with name (sort idx))".
type InstantiateArg struct {
	Name string
	Ref  SortIdx
}

// InlineExport is one export of an inline component instance.
type InlineExport struct {
	Name ExternName
	Ref  SortIdx
}

// AliasKind says where an alias points.
type AliasKind uint8

const (
	AliasInstanceExport     AliasKind = iota // export Name of component instance Instance
	AliasCoreInstanceExport                  // export Name of core instance Instance
	AliasOuter                               // index Index of Sort in the scope Count levels out
)

// Alias is an alias definition (or declarator inside a type). It adds one
// entry to the index space of Sort.
type Alias struct {
	Offset   int
	Sort     Sort
	Kind     AliasKind
	Instance uint32 // export kinds
	Name     string // export kinds
	Count    uint32 // outer: number of enclosing scopes to go out
	Index    uint32 // outer: index in that scope
}

// Start is a start definition (🪙 value-level, decoded but rarely used).
type Start struct {
	Offset  int
	Func    uint32
	Args    []uint32 // value indices
	Results uint32
}

// ExternName is an import or export name as encoded. Name is the full
// string, version included ("wasi:http/types@0.2.3").
type ExternName struct {
	Name string
	// Form is the nameattributes discriminator: 0x00 or 0x01 (the same since
	// component-model#263; 0x01 used to flag interface names) or 0x02 (with
	// attributes).
	Form byte
	// Attributes (form 0x02 only; empty otherwise).
	Implements    string
	VersionSuffix string
	ExternalID    string
}

// Import is a component import: a name and the type the importer expects.
type Import struct {
	Offset int
	Name   ExternName
	Type   ExternDesc
}

// Export is a component export of an already defined item. Like an alias,
// it adds a new index to Ref.Sort's space (the export's own identity).
type Export struct {
	Offset int
	Name   ExternName
	Ref    SortIdx
	Type   *ExternDesc // optional ascribed type
}

// ExternKind is the kind of an externtype.
type ExternKind uint8

const (
	ExternCoreModule ExternKind = iota
	ExternFunc
	ExternValue
	ExternType
	ExternComponent
	ExternInstance
)

var externKindNames = [...]string{"core module", "func", "value", "type", "component", "instance"}

func (k ExternKind) String() string {
	if int(k) < len(externKindNames) {
		return externKindNames[k]
	}
	return "unknown"
}

// Sort returns the index space an import or export of this kind extends.
func (k ExternKind) Sort() Sort {
	switch k {
	case ExternCoreModule:
		return SortCoreModule
	case ExternFunc:
		return SortFunc
	case ExternValue:
		return SortValue
	case ExternType:
		return SortType
	case ExternComponent:
		return SortComponent
	default:
		return SortInstance
	}
}

// ExternDesc is an externtype: what an import expects or an export provides.
type ExternDesc struct {
	Kind ExternKind
	// TypeIndex is the core type index (core module) or type index (func,
	// component, instance, and type with an Eq bound).
	TypeIndex uint32
	// For ExternType: SubResource is true for "(sub resource)", i.e. a fresh
	// abstract resource type; otherwise the bound is "(eq TypeIndex)".
	SubResource bool
	// For ExternValue (🪙): either "(eq ValueIndex)" or a value type.
	ValueEq    bool
	ValueIndex uint32
	ValueType  ValType
}
