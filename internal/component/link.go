package component

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/wisp-dev/wisp/internal/component/binary"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
)

// The linker evaluates a component statically, like an interpreter over its
// index spaces: every definition becomes a value, nested components are
// evaluated with their instantiation arguments substituted, and what comes
// out is a flat plan (see Component): the core module instantiations in
// order, each with its imports renamed to exactly one source ("#<slot>" or
// the component's host module), the host module's functions (lowered
// imports and canonical builtins), and the export table.

type engineValueType = engine.ValueType

const (
	vtI32 = engine.I32
	vtI64 = engine.I64
	vtF32 = engine.F32
	vtF64 = engine.F64
)

// hostModuleName is the import module name of a component's host module.
// It cannot collide with "#<slot>" names nor with a real import.
const hostModuleName = "wisp:component"

// Limits that keep a hostile binary from making the linker work forever.
const (
	maxNesting     = 64
	maxDefinitions = 1 << 20 // evaluated definitions, nested instantiations included
	maxSlots       = 4096    // core module instantiations
	maxSlotBytes   = 1 << 30 // their module bytes, summed
)

// coreItem is a core function, table, memory or global: export name of a
// slot, or (slot == -1) a function of the component's host module.
type coreItem struct {
	kind binary.CoreExternKind
	slot int
	name string
}

// coreInst is a core instance: a slot's exports or an inline bag.
type coreInst struct {
	exports map[string]coreItem
}

// modVal is a core module definition, parsed once.
type modVal struct {
	bytes   []byte
	imports []binary.CoreImport
	exports []binary.CoreExport
}

// funcVal is a component function: an import the host provides, or a core
// function lifted with canonical options.
type funcVal struct {
	typ *cabi.FuncType
	// import
	iface, name string
	// canon lift
	lifted bool
	core   coreItem
	opts   int
	post   *coreItem
}

// typeVal is an entry of a type index space.
type typeVal struct {
	val  *cabi.Type
	fn   *cabi.FuncType
	res  *cabi.Resource
	inst *binary.InstanceType
	comp *binary.ComponentType
	sc   *scope // where inst/comp was defined
}

// instVal is a component instance: its exports by name.
type instVal struct {
	exports map[string]value
	order   []string
}

// compVal is a component definition with the scope it was defined in.
type compVal struct {
	bin    *binary.Component
	parent *scope
}

// value is one entry of an index space.
type value struct {
	sort  binary.Sort
	item  coreItem // core func, table, memory, global
	mod   *modVal
	cinst *coreInst
	fn    *funcVal
	typ   *typeVal
	inst  *instVal
	comp  *compVal
}

// scope is a component (or a type declarator's) set of index spaces.
type scope struct {
	parent  *scope
	spaces  [binary.SortInstance + 1][]value
	args    map[string]value // nested component: its instantiation arguments
	exports *instVal
}

func (sc *scope) push(v value) { sc.spaces[v.sort] = append(sc.spaces[v.sort], v) }

func (sc *scope) get(s binary.Sort, idx uint32) (value, error) {
	if int(s) >= len(sc.spaces) {
		return value{}, fmt.Errorf("bad sort %d", s)
	}
	sp := sc.spaces[s]
	if uint64(idx) >= uint64(len(sp)) {
		return value{}, fmt.Errorf("%s index %d out of range (%d defined)", s, idx, len(sp))
	}
	return sp[idx], nil
}

func (sc *scope) typ(idx uint32) (*typeVal, error) {
	v, err := sc.get(binary.SortType, idx)
	if err != nil {
		return nil, err
	}
	if v.typ == nil {
		return nil, fmt.Errorf("type %d is not usable here", idx)
	}
	return v.typ, nil
}

func (sc *scope) coreFunc(idx uint32) (coreItem, error) {
	v, err := sc.get(binary.SortCoreFunc, idx)
	return v.item, err
}

// slotPlan is one core module instantiation of the plan.
type slotPlan struct {
	bytes   []byte // imports rewritten
	exports []binary.CoreExport
}

type linker struct {
	ctx   context.Context
	eng   *engine.Engine
	host  *Host
	c     *Component
	slots []slotPlan

	hostFuncs []engine.HostFunc
	hostNames map[string]int            // label → highest suffix used
	hostIndex map[string]int            // name → index in hostFuncs
	fresh     map[string]*cabi.Resource // host resources without a WIT definition
	dtors     map[*cabi.Resource]*coreItem
	mods      map[*binary.CoreModule]*modVal
	optsIndex map[optsSpec]int
	warned    map[string]bool
	budget    int
	slotBytes int
	guestRes  int
}

func newLinker(ctx context.Context, eng *engine.Engine, host *Host) *linker {
	return &linker{
		ctx:  ctx,
		eng:  eng,
		host: host,
		c: &Component{
			eng:     eng,
			exports: make(map[string]map[string]*exportFunc),
			layouts: cabi.NewLayouts(),
		},
		hostNames: make(map[string]int),
		hostIndex: make(map[string]int),
		fresh:     make(map[string]*cabi.Resource),
		dtors:     make(map[*cabi.Resource]*coreItem),
		mods:      make(map[*binary.CoreModule]*modVal),
		optsIndex: make(map[optsSpec]int),
		warned:    make(map[string]bool),
	}
}

func (l *linker) warn(key, msg string) {
	if !l.warned[key] {
		l.warned[key] = true
		l.c.warnings = append(l.c.warnings, msg)
	}
}

// addHostFunc adds a function to the host module under a unique name.
func (l *linker) addHostFunc(label string, params, results []engineValueType, fn func(context.Context, *engine.Instance, []uint64)) coreItem {
	name := label
	if n := l.hostNames[label]; n > 0 {
		for {
			n++
			name = label + "/" + strconv.Itoa(n)
			if l.hostNames[name] == 0 {
				break
			}
		}
		l.hostNames[label] = n
	}
	l.hostNames[name] = max(l.hostNames[name], 1)
	l.hostIndex[name] = len(l.hostFuncs)
	l.hostFuncs = append(l.hostFuncs, engine.HostFunc{Name: name, Params: params, Results: results, Fn: fn})
	return coreItem{kind: binary.CoreExternFunc, slot: -1, name: name}
}

func (l *linker) hostFuncSig(name string) ([]engineValueType, []engineValueType) {
	i, ok := l.hostIndex[name]
	if !ok {
		return nil, nil
	}
	return l.hostFuncs[i].Params, l.hostFuncs[i].Results
}

// hostResource maps resource name of imported interface iface to the
// host's resource type: the WIT definition's when there is one (so that
// every version of an interface shares it), else one made for this link.
func (l *linker) hostResource(iface, name string) *cabi.Resource {
	key := iface + "#" + name
	if wi, ok := l.host.lookupInterface(iface); ok {
		if r := wi.Resources[name]; r != nil {
			return r
		}
		key = wi.Name + "#" + name
	}
	r := l.fresh[key]
	if r == nil {
		r = &cabi.Resource{Name: key, Host: true}
		l.fresh[key] = r
	}
	return r
}

func (l *linker) module(cm *binary.CoreModule) (*modVal, error) {
	if m := l.mods[cm]; m != nil {
		return m, nil
	}
	imps, err := binary.CoreImports(cm.Bytes)
	if err != nil {
		return nil, fmt.Errorf("core module at offset %#x: %w", cm.Offset, err)
	}
	exps, err := binary.CoreExports(cm.Bytes)
	if err != nil {
		return nil, fmt.Errorf("core module at offset %#x: %w", cm.Offset, err)
	}
	m := &modVal{bytes: cm.Bytes, imports: imps, exports: exps}
	l.mods[cm] = m
	return m, nil
}

// evalComponent evaluates bin in a new scope under parent. args is nil for
// the top-level component, whose imports come from the host.
func (l *linker) evalComponent(bin *binary.Component, parent *scope, args map[string]value, depth int) (*scope, error) {
	if depth > maxNesting {
		return nil, errors.New("components nested too deeply")
	}
	sc := &scope{parent: parent, args: args, exports: &instVal{exports: make(map[string]value)}}
	for _, sec := range bin.Sections {
		for k := sec.First; k < sec.First+sec.Count; k++ {
			if l.budget++; l.budget > maxDefinitions {
				return nil, errors.New("component too large to link (definition budget exhausted)")
			}
			if err := l.define(bin, sc, sec.ID, k, depth); err != nil {
				return nil, fmt.Errorf("%s section at offset %#x: %w", sec.ID, sec.Offset, err)
			}
		}
	}
	return sc, nil
}

func (l *linker) define(bin *binary.Component, sc *scope, id binary.SectionID, k, depth int) error {
	switch id {
	case binary.SectionCustom:
		return nil
	case binary.SectionCoreModule:
		m, err := l.module(&bin.CoreModules[k])
		if err != nil {
			return err
		}
		sc.push(value{sort: binary.SortCoreModule, mod: m})
	case binary.SectionCoreInstance:
		ci, err := l.coreInstance(sc, &bin.CoreInstances[k])
		if err != nil {
			return fmt.Errorf("core instance %d: %w", len(sc.spaces[binary.SortCoreInstance]), err)
		}
		sc.push(value{sort: binary.SortCoreInstance, cinst: ci})
	case binary.SectionCoreType:
		sc.push(value{sort: binary.SortCoreType})
	case binary.SectionComponent:
		sc.push(value{sort: binary.SortComponent, comp: &compVal{bin: bin.Components[k], parent: sc}})
	case binary.SectionInstance:
		iv, err := l.instance(sc, &bin.Instances[k], depth)
		if err != nil {
			return fmt.Errorf("instance %d: %w", len(sc.spaces[binary.SortInstance]), err)
		}
		sc.push(value{sort: binary.SortInstance, inst: iv})
	case binary.SectionAlias:
		v, err := l.alias(sc, &bin.Aliases[k])
		if err != nil {
			return err
		}
		sc.push(v)
	case binary.SectionType:
		tv, err := l.defineType(sc, bin.Types[k].Def, true)
		if err != nil {
			return fmt.Errorf("type %d: %w", len(sc.spaces[binary.SortType]), err)
		}
		sc.push(value{sort: binary.SortType, typ: tv})
	case binary.SectionCanon:
		v, err := l.canon(sc, &bin.Canons[k])
		if err != nil {
			return err
		}
		sc.push(v)
	case binary.SectionStart:
		return errors.New("component start functions are not supported")
	case binary.SectionImport:
		imp := &bin.Imports[k]
		v, err := l.importValue(sc, imp)
		if err != nil {
			return fmt.Errorf("import %q: %w", imp.Name.Name, err)
		}
		sc.push(v)
	case binary.SectionExport:
		exp := &bin.Exports[k]
		v, err := sc.get(exp.Ref.Sort, exp.Ref.Index)
		if err != nil {
			return fmt.Errorf("export %q: %w", exp.Name.Name, err)
		}
		if v.typ != nil && v.typ.res != nil && !v.typ.res.Host && v.typ.res.Name == "" {
			v.typ.res.Name = exp.Name.Name
		}
		sc.push(v)
		if _, dup := sc.exports.exports[exp.Name.Name]; !dup {
			sc.exports.order = append(sc.exports.order, exp.Name.Name)
		}
		sc.exports.exports[exp.Name.Name] = v
	default:
		return fmt.Errorf("section %s is not supported", id)
	}
	return nil
}

func (l *linker) importValue(sc *scope, imp *binary.Import) (value, error) {
	name := imp.Name.Name
	want := imp.Type.Kind.Sort()
	if sc.args != nil {
		v, ok := sc.args[name]
		if !ok {
			return value{}, errors.New("no instantiation argument supplies it")
		}
		if v.sort != want {
			return value{}, fmt.Errorf("argument is a %s, not a %s", v.sort, want)
		}
		return v, nil
	}
	switch imp.Type.Kind {
	case binary.ExternInstance:
		tv, err := sc.typ(imp.Type.TypeIndex)
		if err != nil {
			return value{}, err
		}
		if tv.inst == nil {
			return value{}, fmt.Errorf("type %d is not an instance type", imp.Type.TypeIndex)
		}
		iv, err := l.hostInstance(tv.inst, tv.sc, name)
		if err != nil {
			return value{}, err
		}
		return value{sort: binary.SortInstance, inst: iv}, nil
	case binary.ExternFunc:
		tv, err := sc.typ(imp.Type.TypeIndex)
		if err != nil {
			return value{}, err
		}
		if tv.fn == nil {
			return value{}, fmt.Errorf("type %d is not a function type", imp.Type.TypeIndex)
		}
		return value{sort: binary.SortFunc, fn: &funcVal{typ: tv.fn, name: name}}, nil
	case binary.ExternType:
		if imp.Type.SubResource {
			return value{sort: binary.SortType, typ: &typeVal{res: l.hostResource("", name)}}, nil
		}
		tv, err := sc.typ(imp.Type.TypeIndex)
		if err != nil {
			return value{}, err
		}
		return value{sort: binary.SortType, typ: tv}, nil
	}
	return value{}, fmt.Errorf("importing a %s is not supported", imp.Type.Kind)
}

// hostInstance evaluates the instance type of an imported interface: its
// functions are bound to the host (by name, at canon lower) and its
// abstract resource types to the host's resource types.
func (l *linker) hostInstance(it *binary.InstanceType, parent *scope, iface string) (*instVal, error) {
	sc := &scope{parent: parent}
	iv := &instVal{exports: make(map[string]value)}
	for _, d := range it.Decls {
		if l.budget++; l.budget > maxDefinitions {
			return nil, errors.New("component too large to link (definition budget exhausted)")
		}
		switch d.Kind {
		case binary.DeclCoreType:
			sc.push(value{sort: binary.SortCoreType})
		case binary.DeclType:
			tv, err := l.defineType(sc, d.Type, false)
			if err != nil {
				return nil, err
			}
			sc.push(value{sort: binary.SortType, typ: tv})
		case binary.DeclAlias:
			v, err := l.alias(sc, d.Alias)
			if err != nil {
				return nil, err
			}
			sc.push(v)
		case binary.DeclExport:
			var v value
			name := d.Name.Name
			switch d.Desc.Kind {
			case binary.ExternType:
				if d.Desc.SubResource {
					v = value{sort: binary.SortType, typ: &typeVal{res: l.hostResource(iface, name)}}
				} else {
					tv, err := sc.typ(d.Desc.TypeIndex)
					if err != nil {
						return nil, fmt.Errorf("export %q: %w", name, err)
					}
					v = value{sort: binary.SortType, typ: tv}
				}
			case binary.ExternFunc:
				tv, err := sc.typ(d.Desc.TypeIndex)
				if err != nil {
					return nil, fmt.Errorf("export %q: %w", name, err)
				}
				if tv.fn == nil {
					return nil, fmt.Errorf("export %q: type %d is not a function type", name, d.Desc.TypeIndex)
				}
				v = value{sort: binary.SortFunc, fn: &funcVal{typ: tv.fn, iface: iface, name: name}}
			case binary.ExternInstance:
				tv, err := sc.typ(d.Desc.TypeIndex)
				if err != nil || tv.inst == nil {
					return nil, fmt.Errorf("export %q: not an instance type", name)
				}
				sub, err := l.hostInstance(tv.inst, tv.sc, iface+"/"+name)
				if err != nil {
					return nil, err
				}
				v = value{sort: binary.SortInstance, inst: sub}
			default:
				v = value{sort: d.Desc.Kind.Sort()}
			}
			sc.push(v)
			iv.exports[name] = v
			iv.order = append(iv.order, name)
		default:
			return nil, errors.New("import declarator inside an instance type")
		}
	}
	return iv, nil
}

func (l *linker) defineType(sc *scope, def binary.TypeDef, allowResource bool) (*typeVal, error) {
	switch d := def.(type) {
	case *binary.DefValType:
		t, err := sc.defValType(d)
		if err != nil {
			return nil, err
		}
		return &typeVal{val: t}, nil
	case *binary.FuncType:
		ft, err := sc.funcType(d)
		if err != nil {
			return nil, err
		}
		return &typeVal{fn: ft}, nil
	case *binary.InstanceType:
		return &typeVal{inst: d, sc: sc}, nil
	case *binary.ComponentType:
		return &typeVal{comp: d, sc: sc}, nil
	case *binary.ResourceType:
		if !allowResource {
			return nil, errors.New("resource type definition inside a type")
		}
		if d.Rep.Code != binary.CoreI32 {
			return nil, fmt.Errorf("resource representation %s is not supported", d.Rep)
		}
		l.guestRes++
		r := &cabi.Resource{}
		if d.Dtor != nil {
			it, err := sc.coreFunc(*d.Dtor)
			if err != nil {
				return nil, fmt.Errorf("resource destructor: %w", err)
			}
			if it.slot < 0 {
				return nil, errors.New("resource destructor is not a core module function")
			}
			l.dtors[r] = &it
		}
		return &typeVal{res: r}, nil
	}
	return nil, fmt.Errorf("unknown type definition %T", def)
}

func (l *linker) alias(sc *scope, a *binary.Alias) (value, error) {
	switch a.Kind {
	case binary.AliasCoreInstanceExport:
		v, err := sc.get(binary.SortCoreInstance, a.Instance)
		if err != nil {
			return value{}, err
		}
		it, ok := v.cinst.exports[a.Name]
		if !ok {
			return value{}, fmt.Errorf("alias: core instance %d has no export %q", a.Instance, a.Name)
		}
		if it.kind.Sort() != a.Sort {
			return value{}, fmt.Errorf("alias: export %q of core instance %d is a %s, not a %s", a.Name, a.Instance, it.kind.Sort(), a.Sort)
		}
		return value{sort: a.Sort, item: it}, nil
	case binary.AliasInstanceExport:
		v, err := sc.get(binary.SortInstance, a.Instance)
		if err != nil {
			return value{}, err
		}
		e, ok := v.inst.exports[a.Name]
		if !ok {
			return value{}, fmt.Errorf("alias: instance %d has no export %q", a.Instance, a.Name)
		}
		if e.sort != a.Sort {
			return value{}, fmt.Errorf("alias: export %q of instance %d is a %s, not a %s", a.Name, a.Instance, e.sort, a.Sort)
		}
		return e, nil
	case binary.AliasOuter:
		target := sc
		for n := a.Count; n > 0 && target != nil; n-- {
			target = target.parent
		}
		if target == nil {
			return value{}, fmt.Errorf("alias outer %d: no such enclosing scope", a.Count)
		}
		v, err := target.get(a.Sort, a.Index)
		if err != nil {
			return value{}, fmt.Errorf("alias outer %d: %w", a.Count, err)
		}
		return v, nil
	}
	return value{}, fmt.Errorf("unknown alias kind %d", a.Kind)
}

func (l *linker) coreInstance(sc *scope, ci *binary.CoreInstance) (*coreInst, error) {
	if ci.Inline {
		out := &coreInst{exports: make(map[string]coreItem, len(ci.Exports))}
		for _, e := range ci.Exports {
			v, err := sc.get(e.Ref.Sort, e.Ref.Index)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", e.Name, err)
			}
			switch e.Ref.Sort {
			case binary.SortCoreFunc, binary.SortCoreTable, binary.SortCoreMemory, binary.SortCoreGlobal:
			default:
				return nil, fmt.Errorf("export %q: a %s cannot be exported by a core instance", e.Name, e.Ref.Sort)
			}
			out.exports[e.Name] = v.item
		}
		return out, nil
	}
	mv, err := sc.get(binary.SortCoreModule, ci.Module)
	if err != nil {
		return nil, err
	}
	args := make(map[string]*coreInst, len(ci.Args))
	for _, a := range ci.Args {
		v, err := sc.get(binary.SortCoreInstance, a.Instance)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a.Name, err)
		}
		args[a.Name] = v.cinst
	}
	return l.instantiateCore(mv.mod, func(imp binary.CoreImport) (coreItem, error) {
		src, ok := args[imp.Module]
		if !ok {
			return coreItem{}, fmt.Errorf("no instantiation argument %q", imp.Module)
		}
		it, ok := src.exports[imp.Name]
		if !ok {
			return coreItem{}, fmt.Errorf("argument %q has no export %q", imp.Module, imp.Name)
		}
		return it, nil
	})
}

// instantiateCore adds a slot for module m whose imports resolve to the
// items source returns (slot == -2 keeps the import as it is).
func (l *linker) instantiateCore(m *modVal, source func(binary.CoreImport) (coreItem, error)) (*coreInst, error) {
	k := len(l.slots)
	if k >= maxSlots || l.slotBytes+len(m.bytes) > maxSlotBytes {
		return nil, errors.New("component instantiates too many core modules")
	}
	l.slotBytes += len(m.bytes)
	type rename struct{ module, name string }
	renames := make([]rename, len(m.imports))
	for i, imp := range m.imports {
		it, err := source(imp)
		if err != nil {
			return nil, fmt.Errorf("import %q.%q: %w", imp.Module, imp.Name, err)
		}
		if it.slot == -2 {
			renames[i] = rename{imp.Module, imp.Name}
			continue
		}
		if it.kind != imp.Type.Kind {
			return nil, fmt.Errorf("import %q.%q: is a %s, given a %s", imp.Module, imp.Name, imp.Type.Kind, it.kind)
		}
		if it.slot < 0 {
			p, r := l.hostFuncSig(it.name)
			if !sameCoreSig(imp.Func, p, r) {
				return nil, fmt.Errorf("import %q.%q: core type %s does not match %s of %s", imp.Module, imp.Name, funcSig(imp.Func), sigString(p, r), it.name)
			}
			renames[i] = rename{hostModuleName, it.name}
			continue
		}
		if it.slot >= k {
			return nil, fmt.Errorf("import %q.%q: refers to a later instance", imp.Module, imp.Name)
		}
		renames[i] = rename{"#" + strconv.Itoa(it.slot), it.name}
	}
	b, err := binary.RewriteImports(m.bytes, func(i int, _ binary.CoreImport) (string, string) {
		return renames[i].module, renames[i].name
	})
	if err != nil {
		return nil, err
	}
	l.slots = append(l.slots, slotPlan{bytes: b, exports: m.exports})
	out := &coreInst{exports: make(map[string]coreItem, len(m.exports))}
	for _, e := range m.exports {
		out.exports[e.Name] = coreItem{kind: e.Kind, slot: k, name: e.Name}
	}
	return out, nil
}

func funcSig(f *binary.CoreFuncType) string {
	if f == nil {
		return "<not a function>"
	}
	return f.String()
}

func (l *linker) instance(sc *scope, in *binary.Instance, depth int) (*instVal, error) {
	if in.Inline {
		iv := &instVal{exports: make(map[string]value, len(in.Exports))}
		for _, e := range in.Exports {
			v, err := sc.get(e.Ref.Sort, e.Ref.Index)
			if err != nil {
				return nil, fmt.Errorf("export %q: %w", e.Name.Name, err)
			}
			iv.exports[e.Name.Name] = v
			iv.order = append(iv.order, e.Name.Name)
		}
		return iv, nil
	}
	cv, err := sc.get(binary.SortComponent, in.Component)
	if err != nil {
		return nil, err
	}
	args := make(map[string]value, len(in.Args))
	for _, a := range in.Args {
		v, err := sc.get(a.Ref.Sort, a.Ref.Index)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a.Name, err)
		}
		args[a.Name] = v
	}
	child, err := l.evalComponent(cv.comp.bin, cv.comp.parent, args, depth+1)
	if err != nil {
		return nil, fmt.Errorf("instantiating component %d: %w", in.Component, err)
	}
	return child.exports, nil
}

// optsSpec is a resolved set of canonical options.
type optsSpec struct {
	enc                  cabi.StringEncoding
	memSlot, reallocSlot int // -1: absent
	memName, reallocName string
}

func (l *linker) options(sc *scope, o binary.CanonOptions) (int, *coreItem, error) {
	spec := optsSpec{enc: cabi.StringEncoding(o.StringEncoding), memSlot: -1, reallocSlot: -1}
	if o.Memory != nil {
		v, err := sc.get(binary.SortCoreMemory, *o.Memory)
		if err != nil {
			return 0, nil, fmt.Errorf("memory option: %w", err)
		}
		if v.item.slot < 0 {
			return 0, nil, errors.New("memory option: not a core instance's memory")
		}
		spec.memSlot, spec.memName = v.item.slot, v.item.name
	}
	if o.Realloc != nil {
		it, err := sc.coreFunc(*o.Realloc)
		if err != nil {
			return 0, nil, fmt.Errorf("realloc option: %w", err)
		}
		if it.slot < 0 {
			return 0, nil, errors.New("realloc option: not a core module function")
		}
		spec.reallocSlot, spec.reallocName = it.slot, it.name
	}
	var post *coreItem
	if o.PostReturn != nil {
		it, err := sc.coreFunc(*o.PostReturn)
		if err != nil {
			return 0, nil, fmt.Errorf("post-return option: %w", err)
		}
		if it.slot < 0 {
			return 0, nil, errors.New("post-return option: not a core module function")
		}
		post = &it
	}
	return l.optsFor(spec), post, nil
}

func (l *linker) optsFor(spec optsSpec) int {
	idx, ok := l.optsIndex[spec]
	if !ok {
		idx = len(l.c.opts)
		l.c.opts = append(l.c.opts, spec)
		l.optsIndex[spec] = idx
	}
	return idx
}

func (l *linker) canon(sc *scope, c *binary.Canon) (value, error) {
	switch c.Kind {
	case binary.CanonLift:
		it, err := sc.coreFunc(c.Func)
		if err != nil {
			return value{}, fmt.Errorf("canon lift: %w", err)
		}
		tv, err := sc.typ(c.Type)
		if err != nil || tv.fn == nil {
			return value{}, fmt.Errorf("canon lift: type %d is not a function type", c.Type)
		}
		opts, post, err := l.options(sc, c.Options)
		if err != nil {
			return value{}, fmt.Errorf("canon lift: %w", err)
		}
		return value{sort: binary.SortFunc, fn: &funcVal{typ: tv.fn, lifted: true, core: it, opts: opts, post: post}}, nil
	case binary.CanonLower:
		v, err := sc.get(binary.SortFunc, c.Func)
		if err != nil {
			return value{}, fmt.Errorf("canon lower: %w", err)
		}
		if v.fn == nil {
			return value{}, fmt.Errorf("canon lower: func %d is not usable", c.Func)
		}
		if v.fn.lifted {
			return value{}, errors.New("canon lower of a lifted function (calls between components) is not supported")
		}
		opts, _, err := l.options(sc, c.Options)
		if err != nil {
			return value{}, fmt.Errorf("canon lower: %w", err)
		}
		it, err := l.lower(v.fn, opts)
		if err != nil {
			return value{}, err
		}
		return value{sort: binary.SortCoreFunc, item: it}, nil
	case binary.CanonResourceNew, binary.CanonResourceRep, binary.CanonResourceDrop:
		tv, err := sc.typ(c.Type)
		if err != nil || tv.res == nil {
			return value{}, fmt.Errorf("canon %s: type %d is not a resource", c.Kind, c.Type)
		}
		it, err := l.resourceBuiltin(c.Kind, tv.res)
		if err != nil {
			return value{}, err
		}
		return value{sort: binary.SortCoreFunc, item: it}, nil
	}
	return value{}, fmt.Errorf("canon %s is not supported", c.Kind)
}

// lower binds an imported function to its host implementation (or to a
// trapping stub) as a host module function.
func (l *linker) lower(fv *funcVal, opts int) (coreItem, error) {
	params, results, err := cabi.FlattenFunc(fv.typ, cabi.CanonLower)
	if err != nil {
		return coreItem{}, fmt.Errorf("canon lower %s#%s: %w", fv.iface, fv.name, err)
	}
	label := fv.name
	if fv.iface != "" {
		label = fv.iface + "#" + fv.name
	}
	impl, wf, wi := l.host.lookupFunc(fv.iface, fv.name)
	if wf != nil {
		if d := compareFunc(fv.typ, wf.Type); d != "" {
			return coreItem{}, fmt.Errorf("import %s: the component's type disagrees with the WIT definition %s#%s: %s", label, wi.Name, fv.name, d)
		}
	}
	var fn func(context.Context, *engine.Instance, []uint64)
	if impl == nil {
		ue := &UnimplementedError{Interface: fv.iface, Func: fv.name}
		l.warn(label, label+": not implemented by the host; calling it traps")
		fn = func(context.Context, *engine.Instance, []uint64) { panic(ue) }
	} else {
		fn = lowered(label, fv.typ, opts, impl, len(params))
	}
	return l.addHostFunc(label, coreTypesOf(params), coreTypesOf(results), fn), nil
}

func (l *linker) resourceBuiltin(kind binary.CanonKind, r *cabi.Resource) (coreItem, error) {
	i32 := []engineValueType{vtI32}
	label := "[resource-" + map[binary.CanonKind]string{
		binary.CanonResourceNew: "new", binary.CanonResourceRep: "rep", binary.CanonResourceDrop: "drop",
	}[kind] + "]"
	if r.Name != "" {
		label += r.Name
	} else {
		label += "guest-resource"
	}
	switch kind {
	case binary.CanonResourceNew, binary.CanonResourceRep:
		if r.Host {
			return coreItem{}, fmt.Errorf("canon %s of host resource %s", kind, r.Name)
		}
		if kind == binary.CanonResourceNew {
			return l.addHostFunc(label, i32, i32, resourceNew(r)), nil
		}
		return l.addHostFunc(label, i32, i32, resourceRep(r)), nil
	default:
		return l.addHostFunc(label, i32, nil, resourceDrop(r, l.dtors[r])), nil
	}
}
