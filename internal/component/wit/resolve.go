package wit

import (
	"errors"
	"fmt"
	"path"
	"reflect"
	"sort"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// Packages is a resolved set of WIT packages.
type Packages struct {
	interfaces map[string]*Interface // by "ns:pkg/iface@version"
	worlds     map[string]*World     // by "ns:pkg/world@version"
}

// Interface is a resolved interface.
type Interface struct {
	// Name is the qualified name, "ns:pkg/iface@version" (no "@version"
	// for an unversioned package; just the kebab name for a world's inline
	// interface).
	Name string
	// Types are the named value types, including those brought in by
	// "use": they are the same pointers as in the defining interface. An
	// alias of a resource is in Resources, not here.
	Types map[string]*cabi.Type
	// Resources are the resource types by their local name (aliases and
	// "use" included); identity is by pointer.
	Resources map[string]*cabi.Resource
	// Funcs are the functions by their component-model name: "f",
	// "[constructor]r", "[method]r.f", "[static]r.f", "[resource-drop]r".
	Funcs map[string]*Func
	// Unsupported lists functions left out of Funcs because their types
	// use stream<> or future<>, which the canonical ABI package does not
	// model yet.
	Unsupported []string
}

// Func is a resolved function.
type Func struct {
	Name string
	Type *cabi.FuncType
	// Async marks an "async func". Its type is the same; a caller may
	// lower it synchronously (the core import keeps the plain name).
	Async bool
	// Resource is the resource of a constructor, method, static function or
	// drop; nil for a freestanding function.
	Resource *cabi.Resource
}

// World is a resolved world; included worlds are flattened into it.
type World struct {
	Name    string
	Imports []WorldItem
	Exports []WorldItem
}

// WorldItem is one import or export: an interface (Name is its qualified
// name, or the kebab name of an inline interface) or a function.
type WorldItem struct {
	Name      string
	Interface *Interface
	Func      *Func
}

// Interface returns the interface with exactly this qualified name.
func (ps *Packages) Interface(name string) (*Interface, bool) {
	i, ok := ps.interfaces[name]
	return i, ok
}

// World returns the world with exactly this qualified name.
func (ps *Packages) World(name string) (*World, bool) {
	w, ok := ps.worlds[name]
	return w, ok
}

// InterfaceNames returns the qualified names of all interfaces, sorted.
func (ps *Packages) InterfaceNames() []string {
	names := make([]string, 0, len(ps.interfaces))
	for n := range ps.interfaces {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WorldExportFunc returns the function a world exports at world level
// (not in an interface) under name, from the worlds sorted by name. A core
// module has no world to say which it implements, so the name alone must
// identify the function: ok is false when no world exports one, or when
// worlds export different functions under the same name.
func (ps *Packages) WorldExportFunc(name string) (f *Func, ok bool) {
	worlds := make([]string, 0, len(ps.worlds))
	for n := range ps.worlds {
		worlds = append(worlds, n)
	}
	sort.Strings(worlds)
	for _, wn := range worlds {
		for _, it := range ps.worlds[wn].Exports {
			if it.Func == nil || it.Name != name {
				continue
			}
			if f != nil && !reflect.DeepEqual(f.Type, it.Func.Type) {
				return nil, false
			}
			f = it.Func
		}
	}
	return f, f != nil
}

// errUnsupported marks a type that uses stream<> or future<>.
var errUnsupported = errors.New("stream and future types are not supported")

// unsupportedType is the resolved value of a named type that uses them.
type unsupportedType struct{}

type pkgState struct {
	name   pkgName
	ifaces map[string]*scope
	worlds map[string]*worldDecl
}

// scope is an interface (or a world's type scope) being resolved. Items
// resolve lazily because WIT lets a type be used before its definition.
type scope struct {
	qname string
	pkg   *pkgState
	file  *file
	decls map[string]any // *typeDecl or useRef
	done  map[string]any // *cabi.Type, *cabi.Resource or unsupportedType
	busy  map[string]bool
	iface *Interface
	decl  *ifaceDecl
}

type useRef struct {
	use  *useDecl
	name useName
}

type resolver struct {
	pkgs  map[string]*pkgState
	out   *Packages
	incl  map[*worldDecl]bool
	built map[*worldDecl]*World
}

// Parse parses and resolves WIT files together; files maps a file name
// (used in error positions) to its text. A file without a package
// declaration belongs to the package declared by another file in the same
// directory, as in a WIT package directory.
func Parse(files map[string]string) (*Packages, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names) // deterministic errors
	var parsed []*file
	dirPkg := map[string]*pkgName{}
	for _, n := range names {
		f, err := parseFile(n, files[n])
		if err != nil {
			return nil, err
		}
		if f.pkg != nil {
			d := path.Dir(n)
			if prev := dirPkg[d]; prev != nil && *prev != *f.pkg {
				return nil, &Error{f.pkgPos, fmt.Sprintf("package %s in a directory of package %s", f.pkg, prev)}
			}
			dirPkg[d] = f.pkg
		}
		parsed = append(parsed, f)
	}
	r := &resolver{
		pkgs:  map[string]*pkgState{},
		out:   &Packages{interfaces: map[string]*Interface{}, worlds: map[string]*World{}},
		incl:  map[*worldDecl]bool{},
		built: map[*worldDecl]*World{},
	}
	for _, f := range parsed {
		if f.pkg == nil {
			f.pkg = dirPkg[path.Dir(f.name)]
			if f.pkg == nil {
				if len(f.ifaces)+len(f.worlds) == 0 {
					continue
				}
				return nil, &Error{Pos{f.name, 1, 1}, "no package declaration in this file or its directory"}
			}
		}
		key := f.pkg.String()
		ps := r.pkgs[key]
		if ps == nil {
			ps = &pkgState{name: *f.pkg, ifaces: map[string]*scope{}, worlds: map[string]*worldDecl{}}
			r.pkgs[key] = ps
		}
		for _, d := range f.ifaces {
			if _, dup := ps.ifaces[d.name]; dup || ps.worlds[d.name] != nil {
				return nil, &Error{d.pos, fmt.Sprintf("%s is defined twice in package %s", d.name, key)}
			}
			ps.ifaces[d.name] = newScope(qualify(ps.name, d.name), ps, f, d.uses, d.types)
			ps.ifaces[d.name].decl = d
		}
		for _, w := range f.worlds {
			if _, dup := ps.ifaces[w.name]; dup || ps.worlds[w.name] != nil {
				return nil, &Error{w.pos, fmt.Sprintf("%s is defined twice in package %s", w.name, key)}
			}
			ps.worlds[w.name] = w
		}
	}
	// Interfaces first (each resolves its "use" targets on demand), then
	// worlds, which only refer to interfaces.
	for _, key := range sortedKeys(r.pkgs) {
		ps := r.pkgs[key]
		for _, n := range sortedKeys(ps.ifaces) {
			s := ps.ifaces[n]
			if err := r.finish(s); err != nil {
				return nil, err
			}
			r.out.interfaces[s.qname] = s.iface
		}
	}
	for _, key := range sortedKeys(r.pkgs) {
		ps := r.pkgs[key]
		for _, n := range sortedKeys(ps.worlds) {
			w, err := r.world(ps, ps.worlds[n])
			if err != nil {
				return nil, err
			}
			r.out.worlds[w.Name] = w
		}
	}
	return r.out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func qualify(p pkgName, item string) string {
	s := p.ns + ":" + p.name + "/" + item
	if p.version != "" {
		s += "@" + p.version
	}
	return s
}

func newScope(qname string, ps *pkgState, f *file, uses []*useDecl, types []*typeDecl) *scope {
	s := &scope{
		qname: qname, pkg: ps, file: f,
		decls: map[string]any{}, done: map[string]any{}, busy: map[string]bool{},
		iface: &Interface{Name: qname, Types: map[string]*cabi.Type{}, Resources: map[string]*cabi.Resource{}, Funcs: map[string]*Func{}},
	}
	for _, u := range uses {
		for _, n := range u.names {
			s.decls[n.as] = useRef{u, n}
		}
	}
	for _, t := range types {
		s.decls[t.name] = t
	}
	return s
}

// checkDuplicates rejects names defined twice; it runs when a scope is finished so
// the error can point at the second definition.
func (s *scope) checkDuplicates(uses []*useDecl, types []*typeDecl) error {
	seen := map[string]bool{}
	for _, u := range uses {
		for _, n := range u.names {
			if seen[n.as] {
				return &Error{n.pos, fmt.Sprintf("%s is defined twice", n.as)}
			}
			seen[n.as] = true
		}
	}
	for _, t := range types {
		if seen[t.name] {
			return &Error{t.pos, fmt.Sprintf("%s is defined twice", t.name)}
		}
		seen[t.name] = true
	}
	return nil
}

// finish resolves every item and function of an interface scope.
func (r *resolver) finish(s *scope) error {
	d := s.decl
	if err := s.checkDuplicates(d.uses, d.types); err != nil {
		return err
	}
	if err := r.fillTypes(s); err != nil {
		return err
	}
	for _, t := range d.types {
		if t.kind != "resource" {
			continue
		}
		res := s.done[t.name].(*cabi.Resource)
		for _, fn := range t.resFuncs {
			if err := r.addFunc(s, fn, res, t.name); err != nil {
				return err
			}
		}
		// The drop is implicit: every resource has one, and its core
		// signature (one i32 handle) is exactly that of own<R>.
		drop := &Func{
			Name:     "[resource-drop]" + t.name,
			Type:     &cabi.FuncType{Params: []cabi.Param{{Name: "self", Type: handle(cabi.KindOwn, res, t.name)}}},
			Resource: res,
		}
		if err := r.put(s, drop, t.pos); err != nil {
			return err
		}
	}
	for _, fn := range d.funcs {
		if err := r.addFunc(s, fn, nil, ""); err != nil {
			return err
		}
	}
	return nil
}

// fillTypes resolves all named items of a scope into its Interface.
func (r *resolver) fillTypes(s *scope) error {
	for _, n := range sortedKeys(s.decls) {
		v, err := r.item(s, n, Pos{})
		if err != nil {
			return err
		}
		switch v := v.(type) {
		case *cabi.Type:
			s.iface.Types[n] = v
		case *cabi.Resource:
			s.iface.Resources[n] = v
		}
	}
	return nil
}

func (r *resolver) put(s *scope, f *Func, pos Pos) error {
	if _, dup := s.iface.Funcs[f.Name]; dup {
		return &Error{pos, fmt.Sprintf("function %s is defined twice", f.Name)}
	}
	s.iface.Funcs[f.Name] = f
	return nil
}

func (r *resolver) addFunc(s *scope, fn *funcDecl, res *cabi.Resource, resName string) error {
	f := &Func{Async: fn.async, Resource: res}
	ft := &cabi.FuncType{}
	switch {
	case res == nil:
		f.Name = fn.name
	case fn.member == "constructor":
		f.Name = "[constructor]" + resName
	case fn.member == "static":
		f.Name = "[static]" + resName + "." + fn.name
	default:
		f.Name = "[method]" + resName + "." + fn.name
		ft.Params = append(ft.Params, cabi.Param{Name: "self", Type: handle(cabi.KindBorrow, res, resName)})
	}
	unsupported := false
	conv := func(list []namedType) ([]cabi.Param, error) {
		var out []cabi.Param
		for _, p := range list {
			t, err := r.typeOf(s, p.typ)
			if errors.Is(err, errUnsupported) {
				unsupported = true
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, cabi.Param{Name: p.name, Type: t})
		}
		return out, nil
	}
	params, err := conv(fn.params)
	if err != nil {
		return err
	}
	ft.Params = append(ft.Params, params...)
	if ft.Results, err = conv(fn.results); err != nil {
		return err
	}
	if fn.member == "constructor" && len(fn.results) == 0 {
		ft.Results = []cabi.Param{{Type: handle(cabi.KindOwn, res, resName)}}
	}
	if unsupported {
		s.iface.Unsupported = append(s.iface.Unsupported, f.Name)
		return nil
	}
	f.Type = ft
	return r.put(s, f, fn.pos)
}

func handle(k cabi.Kind, res *cabi.Resource, name string) *cabi.Type {
	return &cabi.Type{Kind: k, Resource: res, Name: name}
}

// item resolves a named item of a scope: a *cabi.Type, a *cabi.Resource
// or unsupportedType.
func (r *resolver) item(s *scope, name string, at Pos) (any, error) {
	if v, ok := s.done[name]; ok {
		return v, nil
	}
	d, ok := s.decls[name]
	if !ok {
		return nil, &Error{at, fmt.Sprintf("undefined type %s in %s", name, s.qname)}
	}
	if s.busy[name] {
		return nil, &Error{at, fmt.Sprintf("type %s refers to itself", name)}
	}
	s.busy[name] = true
	defer delete(s.busy, name)
	var v any
	var err error
	switch d := d.(type) {
	case useRef:
		var target *scope
		if target, err = r.iface(s, d.use.path); err != nil {
			return nil, err
		}
		if v, err = r.item(target, d.name.name, d.name.pos); err != nil {
			return nil, err
		}
	case *typeDecl:
		if v, err = r.typeDecl(s, d); err != nil {
			return nil, err
		}
	}
	s.done[name] = v
	return v, nil
}

func (r *resolver) typeDecl(s *scope, d *typeDecl) (any, error) {
	var t *cabi.Type
	switch d.kind {
	case "resource":
		return &cabi.Resource{Name: s.qname + "#" + d.name, Host: true}, nil
	case "alias":
		// An alias shares the aliased type's pointer (or resource), so
		// "type headers = fields" is the very same resource.
		if d.alias.kind == "named" {
			return r.item(s, d.alias.name, d.alias.pos)
		}
		t, err := r.typeOf(s, d.alias)
		if errors.Is(err, errUnsupported) {
			return unsupportedType{}, nil
		}
		return t, err
	case "record", "variant":
		t = &cabi.Type{Kind: cabi.KindRecord, Name: d.name}
		if d.kind == "variant" {
			t.Kind = cabi.KindVariant
		}
		for _, f := range d.fields {
			var ft *cabi.Type
			if f.typ != nil {
				var err error
				ft, err = r.typeOf(s, f.typ)
				if errors.Is(err, errUnsupported) {
					return unsupportedType{}, nil
				}
				if err != nil {
					return nil, err
				}
			}
			if d.kind == "record" {
				t.Fields = append(t.Fields, cabi.Field{Name: f.name, Type: ft})
			} else {
				t.Cases = append(t.Cases, cabi.Case{Name: f.name, Type: ft})
			}
		}
	case "enum":
		t = &cabi.Type{Kind: cabi.KindEnum, Name: d.name, Labels: d.labels}
	case "flags":
		t = &cabi.Type{Kind: cabi.KindFlags, Name: d.name, Labels: d.labels}
	}
	return t, nil
}

var primKinds = map[string]cabi.Kind{
	"bool": cabi.KindBool, "s8": cabi.KindS8, "u8": cabi.KindU8, "s16": cabi.KindS16,
	"u16": cabi.KindU16, "s32": cabi.KindS32, "u32": cabi.KindU32, "s64": cabi.KindS64,
	"u64": cabi.KindU64, "f32": cabi.KindF32, "f64": cabi.KindF64, "float32": cabi.KindF32,
	"float64": cabi.KindF64, "char": cabi.KindChar, "string": cabi.KindString,
}

// prims are shared: types are immutable.
var prims = func() map[string]*cabi.Type {
	m := map[string]*cabi.Type{}
	for n, k := range primKinds {
		m[n] = &cabi.Type{Kind: k}
	}
	return m
}()

func (r *resolver) typeOf(s *scope, e *typeExpr) (*cabi.Type, error) {
	switch e.kind {
	case "prim":
		return prims[e.name], nil
	case "named":
		v, err := r.item(s, e.name, e.pos)
		if err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case *cabi.Type:
			return v, nil
		case *cabi.Resource:
			// A bare resource name in a type position means own<R>.
			return handle(cabi.KindOwn, v, e.name), nil
		}
		return nil, errUnsupported
	case "own", "borrow":
		v, err := r.item(s, e.args[0].name, e.args[0].pos)
		if err != nil {
			return nil, err
		}
		res, ok := v.(*cabi.Resource)
		if !ok {
			return nil, &Error{e.args[0].pos, fmt.Sprintf("%s<%s>: %s is not a resource", e.kind, e.args[0].name, e.args[0].name)}
		}
		k := cabi.KindOwn
		if e.kind == "borrow" {
			k = cabi.KindBorrow
		}
		return handle(k, res, e.args[0].name), nil
	case "list", "option":
		elem, err := r.typeOf(s, e.args[0])
		if err != nil {
			return nil, err
		}
		k := cabi.KindList
		if e.kind == "option" {
			k = cabi.KindOption
		}
		return &cabi.Type{Kind: k, Elem: elem}, nil
	case "tuple":
		t := &cabi.Type{Kind: cabi.KindTuple}
		for _, a := range e.args {
			at, err := r.typeOf(s, a)
			if err != nil {
				return nil, err
			}
			t.Types = append(t.Types, at)
		}
		return t, nil
	case "result":
		t := &cabi.Type{Kind: cabi.KindResult}
		var err error
		if e.args[0] != nil {
			if t.Ok, err = r.typeOf(s, e.args[0]); err != nil {
				return nil, err
			}
		}
		if e.args[1] != nil {
			if t.Err, err = r.typeOf(s, e.args[1]); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	return nil, errUnsupported // stream, future
}

// iface finds the interface a use path names, relative to scope s.
func (r *resolver) iface(s *scope, u usePath) (*scope, error) {
	if u.ns == "" {
		if s.file != nil {
			for _, tu := range s.file.uses {
				if tu.as == u.iface {
					return r.iface(s, tu.path)
				}
			}
		}
		if t := s.pkg.ifaces[u.iface]; t != nil {
			return t, nil
		}
		return nil, &Error{u.pos, fmt.Sprintf("no interface %s in package %s", u.iface, s.pkg.name)}
	}
	ps, err := r.pkg(u)
	if err != nil {
		return nil, err
	}
	t := ps.ifaces[u.iface]
	if t == nil {
		return nil, &Error{u.pos, fmt.Sprintf("no interface %s in package %s", u.iface, ps.name)}
	}
	return t, nil
}

// pkg finds a package; a reference without a version matches the only
// version present.
func (r *resolver) pkg(u usePath) (*pkgState, error) {
	want := pkgName{u.ns, u.pkg, u.version}
	if ps := r.pkgs[want.String()]; ps != nil {
		return ps, nil
	}
	if u.version == "" {
		var found *pkgState
		for _, ps := range r.pkgs {
			if ps.name.ns == u.ns && ps.name.name == u.pkg {
				if found != nil {
					return nil, &Error{u.pos, fmt.Sprintf("package %s:%s is ambiguous: give a version", u.ns, u.pkg)}
				}
				found = ps
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, &Error{u.pos, fmt.Sprintf("unknown package %s", want)}
}

func (r *resolver) world(ps *pkgState, w *worldDecl) (*World, error) {
	if out := r.built[w]; out != nil {
		return out, nil
	}
	if r.incl[w] {
		return nil, &Error{w.pos, fmt.Sprintf("world %s includes itself", w.name)}
	}
	r.incl[w] = true
	defer delete(r.incl, w)
	qname := qualify(ps.name, w.name)
	ws := newScope(qname, ps, w.file, w.uses, w.types)
	if err := ws.checkDuplicates(w.uses, w.types); err != nil {
		return nil, err
	}
	if err := r.fillTypes(ws); err != nil {
		return nil, err
	}
	out := &World{Name: qname}
	for _, it := range w.items {
		var items []WorldItem
		switch {
		case it.include:
			inc, err := r.includedWorld(ps, w.file, *it.path)
			if err != nil {
				return nil, err
			}
			out.Imports = append(out.Imports, inc.Imports...)
			out.Exports = append(out.Exports, inc.Exports...)
			continue
		case it.fn != nil:
			if err := r.addFunc(ws, it.fn, nil, ""); err != nil {
				return nil, err
			}
			f := ws.iface.Funcs[it.name]
			if f == nil {
				continue // uses stream/future
			}
			items = append(items, WorldItem{Name: it.name, Func: f})
		case it.iface != nil:
			it.iface.file = w.file
			s := newScope(it.name, ps, w.file, it.iface.uses, it.iface.types)
			s.decl = it.iface
			if err := r.finish(s); err != nil {
				return nil, err
			}
			items = append(items, WorldItem{Name: it.name, Interface: s.iface})
		default:
			s, err := r.iface(ws, *it.path)
			if err != nil {
				return nil, err
			}
			if err := r.finishOnce(s); err != nil {
				return nil, err
			}
			items = append(items, WorldItem{Name: s.qname, Interface: s.iface})
		}
		if it.export {
			out.Exports = append(out.Exports, items...)
		} else {
			out.Imports = append(out.Imports, items...)
		}
	}
	r.built[w] = out
	return out, nil
}

// finishOnce is a no-op for interfaces resolved in the first pass; all
// package interfaces are, so it exists only to keep world resolution
// independent of that ordering.
func (r *resolver) finishOnce(s *scope) error {
	if _, ok := r.out.interfaces[s.qname]; ok {
		return nil
	}
	if err := r.finish(s); err != nil {
		return err
	}
	r.out.interfaces[s.qname] = s.iface
	return nil
}

func (r *resolver) includedWorld(ps *pkgState, f *file, u usePath) (*World, error) {
	target := ps
	if u.ns != "" {
		var err error
		if target, err = r.pkg(u); err != nil {
			return nil, err
		}
	}
	w := target.worlds[u.iface]
	if w == nil {
		return nil, &Error{u.pos, fmt.Sprintf("no world %s in package %s", u.iface, target.name)}
	}
	return r.world(target, w)
}
