package wit

import "strings"

// The syntax tree. It keeps names, not resolved types: resolution happens
// once all files of all packages are parsed, because WIT allows a type to be
// used before its definition and one package to use another's items.

type pkgName struct {
	ns, name, version string
}

func (n pkgName) String() string {
	s := n.ns + ":" + n.name
	if n.version != "" {
		s += "@" + n.version
	}
	return s
}

type file struct {
	name   string
	pkg    *pkgName
	pkgPos Pos
	ifaces []*ifaceDecl
	worlds []*worldDecl
	uses   []*topUse
}

// topUse is a file-level "use ns:pkg/iface@v [as name];".
type topUse struct {
	pos  Pos
	path usePath
	as   string
}

// usePath names an interface: just iface (same package) or ns:pkg/iface@v.
type usePath struct {
	pos              Pos
	ns, pkg, version string
	iface            string
}

func (u usePath) String() string {
	if u.ns == "" {
		return u.iface
	}
	s := u.ns + ":" + u.pkg + "/" + u.iface
	if u.version != "" {
		s += "@" + u.version
	}
	return s
}

type ifaceDecl struct {
	name  string
	pos   Pos
	file  *file
	uses  []*useDecl
	types []*typeDecl
	funcs []*funcDecl
}

type useDecl struct {
	pos   Pos
	path  usePath
	names []useName
}

type useName struct {
	pos      Pos
	name, as string
}

type typeDecl struct {
	kind     string // alias, record, variant, enum, flags, resource
	name     string
	pos      Pos
	alias    *typeExpr
	fields   []namedType // record fields, variant cases (type may be nil)
	labels   []string    // enum cases, flags
	resFuncs []*funcDecl // resource members
}

type namedType struct {
	pos  Pos
	name string
	typ  *typeExpr
}

// funcDecl is a freestanding function or a resource member.
type funcDecl struct {
	name    string // empty for a constructor
	pos     Pos
	member  string // "", "method", "static" or "constructor"
	async   bool
	params  []namedType
	results []namedType // one entry with empty name for "-> T"
}

type typeExpr struct {
	pos  Pos
	kind string // prim, named, list, option, result, tuple, borrow, own, stream, future
	name string // prim or named type name
	args []*typeExpr
}

type worldDecl struct {
	name  string
	pos   Pos
	file  *file
	items []*worldItem
	uses  []*useDecl
	types []*typeDecl
}

type worldItem struct {
	pos     Pos
	export  bool
	include bool
	name    string     // kebab name of a named func or inline interface
	path    *usePath   // interface reference or included world
	fn      *funcDecl  // "name: func(...)"
	iface   *ifaceDecl // "name: interface { ... }"
}

type parser struct {
	lex *lexer
	tok token
}

// parseFile parses one WIT file.
func parseFile(name, src string) (f *file, err error) {
	p := &parser{lex: newLexer(name, src)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	f = &file{name: name}
	for p.tok.kind != tEOF {
		if err := p.gates(); err != nil {
			return nil, err
		}
		switch {
		case p.isKw("package"):
			if f.pkg != nil || len(f.ifaces)+len(f.worlds)+len(f.uses) > 0 {
				return nil, p.errorf("package declaration must come first, once")
			}
			f.pkgPos = p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			n, err := p.packageName()
			if err != nil {
				return nil, err
			}
			f.pkg = &n
			if err := p.expect(";"); err != nil {
				return nil, err
			}
		case p.isKw("interface"):
			d, err := p.iface(f)
			if err != nil {
				return nil, err
			}
			f.ifaces = append(f.ifaces, d)
		case p.isKw("world"):
			w, err := p.world(f)
			if err != nil {
				return nil, err
			}
			f.worlds = append(f.worlds, w)
		case p.isKw("use"):
			u := &topUse{pos: p.tok.pos}
			if err := p.advance(); err != nil {
				return nil, err
			}
			if u.path, err = p.usePath(); err != nil {
				return nil, err
			}
			if u.path.ns == "" {
				return nil, &Error{u.pos, "top-level use needs a package-qualified interface"}
			}
			u.as = u.path.iface
			if p.isKw("as") {
				if err := p.advance(); err != nil {
					return nil, err
				}
				if u.as, err = p.name(); err != nil {
					return nil, err
				}
			}
			if err := p.expect(";"); err != nil {
				return nil, err
			}
			f.uses = append(f.uses, u)
		default:
			return nil, p.errorf("expected package, interface, world or use, found %s", p.desc())
		}
	}
	return f, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// peek returns the token after the current one without consuming it; the
// lexer is a small value, so a copy is a cheap lookahead.
func (p *parser) peek() token {
	l := *p.lex
	t, err := l.next()
	if err != nil {
		return token{kind: tEOF}
	}
	return t
}

func (p *parser) errorf(format string, args ...any) *Error {
	return p.lex.errorf(p.tok.pos, format, args...)
}

func (p *parser) desc() string {
	switch p.tok.kind {
	case tEOF:
		return "end of file"
	case tVersion:
		return "version " + p.tok.text
	}
	return "\"" + p.tok.text + "\""
}

func (p *parser) isKw(kw string) bool {
	return p.tok.kind == tIdent && !p.tok.escaped && p.tok.text == kw
}

func (p *parser) is(punct string) bool { return p.tok.kind == tPunct && p.tok.text == punct }

func (p *parser) expect(punct string) error {
	if !p.is(punct) {
		return p.errorf("expected %q, found %s", punct, p.desc())
	}
	return p.advance()
}

func (p *parser) expectKw(kw string) error {
	if !p.isKw(kw) {
		return p.errorf("expected %q, found %s", kw, p.desc())
	}
	return p.advance()
}

// keywords may not be used as names unless %-escaped.
var keywords = map[string]bool{
	"as": true, "async": true, "bool": true, "borrow": true, "char": true, "constructor": true,
	"enum": true, "export": true, "f32": true, "f64": true, "flags": true, "float32": true,
	"float64": true, "func": true, "future": true, "import": true, "include": true,
	"interface": true, "list": true, "option": true, "own": true, "package": true,
	"record": true, "resource": true, "result": true, "s16": true, "s32": true, "s64": true,
	"s8": true, "static": true, "stream": true, "string": true, "tuple": true, "type": true,
	"u16": true, "u32": true, "u64": true, "u8": true, "use": true, "variant": true,
	"with": true, "world": true,
}

func (p *parser) name() (string, error) {
	if p.tok.kind != tIdent {
		return "", p.errorf("expected a name, found %s", p.desc())
	}
	if !p.tok.escaped && keywords[p.tok.text] {
		return "", p.errorf("%q is a keyword; write %%%s to use it as a name", p.tok.text, p.tok.text)
	}
	n := p.tok.text
	return n, p.advance()
}

// gates skips feature gates: @since(version = v), @unstable(feature = f),
// @deprecated(version = v). The host serves every item of a 0.2.x
// package whatever minor version added it, so gates carry no meaning here.
func (p *parser) gates() error {
	for p.is("@") {
		if err := p.advance(); err != nil {
			return err
		}
		if p.tok.kind != tIdent {
			return p.errorf("expected a gate name after '@', found %s", p.desc())
		}
		switch p.tok.text {
		case "since", "unstable", "deprecated":
		default:
			return p.errorf("unknown gate @%s", p.tok.text)
		}
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.expect("("); err != nil {
			return err
		}
		for !p.is(")") {
			if p.tok.kind != tIdent {
				return p.errorf("expected a gate argument, found %s", p.desc())
			}
			if err := p.advance(); err != nil {
				return err
			}
			if err := p.expect("="); err != nil {
				return err
			}
			if p.tok.kind != tIdent && p.tok.kind != tVersion {
				return p.errorf("expected a version or feature name, found %s", p.desc())
			}
			if err := p.advance(); err != nil {
				return err
			}
			if !p.is(",") {
				break
			}
			if err := p.advance(); err != nil {
				return err
			}
		}
		if err := p.expect(")"); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) packageName() (pkgName, error) {
	var n pkgName
	var err error
	if n.ns, err = p.name(); err != nil {
		return n, err
	}
	if err = p.expect(":"); err != nil {
		return n, err
	}
	if n.name, err = p.name(); err != nil {
		return n, err
	}
	if p.is("@") {
		if err = p.advance(); err != nil {
			return n, err
		}
		if p.tok.kind != tVersion {
			return n, p.errorf("expected a version after '@', found %s", p.desc())
		}
		n.version = p.tok.text
		err = p.advance()
	}
	return n, err
}

// usePath parses "iface" or "ns:pkg/iface[@version]".
func (p *parser) usePath() (usePath, error) {
	u := usePath{pos: p.tok.pos}
	first, err := p.name()
	if err != nil {
		return u, err
	}
	if !p.is(":") {
		u.iface = first
		return u, nil
	}
	u.ns = first
	if err := p.advance(); err != nil {
		return u, err
	}
	if u.pkg, err = p.name(); err != nil {
		return u, err
	}
	if err := p.expect("/"); err != nil {
		return u, err
	}
	if u.iface, err = p.name(); err != nil {
		return u, err
	}
	if p.is("@") {
		if err := p.advance(); err != nil {
			return u, err
		}
		if p.tok.kind != tVersion {
			return u, p.errorf("expected a version after '@', found %s", p.desc())
		}
		u.version = p.tok.text
		if err := p.advance(); err != nil {
			return u, err
		}
	}
	return u, nil
}

func (p *parser) iface(f *file) (*ifaceDecl, error) {
	d := &ifaceDecl{pos: p.tok.pos, file: f}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var err error
	if d.name, err = p.name(); err != nil {
		return nil, err
	}
	return d, p.ifaceBody(d)
}

func (p *parser) ifaceBody(d *ifaceDecl) error {
	if err := p.expect("{"); err != nil {
		return err
	}
	for !p.is("}") {
		if err := p.gates(); err != nil {
			return err
		}
		switch {
		case p.isKw("use"):
			u, err := p.use()
			if err != nil {
				return err
			}
			d.uses = append(d.uses, u)
		case p.tok.kind == tIdent && !p.tok.escaped && typeKeywords[p.tok.text]:
			t, err := p.typeDecl()
			if err != nil {
				return err
			}
			d.types = append(d.types, t)
		case p.tok.kind == tIdent:
			fn, err := p.namedFunc()
			if err != nil {
				return err
			}
			d.funcs = append(d.funcs, fn)
		default:
			return p.errorf("expected an interface item, found %s", p.desc())
		}
	}
	return p.advance()
}

var typeKeywords = map[string]bool{
	"type": true, "record": true, "variant": true, "enum": true, "flags": true, "resource": true,
}

func (p *parser) use() (*useDecl, error) {
	u := &useDecl{pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var err error
	if u.path, err = p.usePath(); err != nil {
		return nil, err
	}
	if err := p.expect("."); err != nil {
		return nil, err
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.is("}") {
		n := useName{pos: p.tok.pos}
		if n.name, err = p.name(); err != nil {
			return nil, err
		}
		n.as = n.name
		if p.isKw("as") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if n.as, err = p.name(); err != nil {
				return nil, err
			}
		}
		u.names = append(u.names, n)
		if !p.is(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	return u, p.expect(";")
}

func (p *parser) typeDecl() (*typeDecl, error) {
	t := &typeDecl{kind: p.tok.text, pos: p.tok.pos}
	if t.kind == "type" {
		t.kind = "alias"
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var err error
	if t.name, err = p.name(); err != nil {
		return nil, err
	}
	switch t.kind {
	case "alias":
		if err := p.expect("="); err != nil {
			return nil, err
		}
		if t.alias, err = p.typeExpr(); err != nil {
			return nil, err
		}
		return t, p.expect(";")
	case "resource":
		if p.is(";") {
			return t, p.advance()
		}
		if err := p.expect("{"); err != nil {
			return nil, err
		}
		for !p.is("}") {
			if err := p.gates(); err != nil {
				return nil, err
			}
			var fn *funcDecl
			if p.isKw("constructor") {
				fn = &funcDecl{pos: p.tok.pos, member: "constructor"}
				if err := p.advance(); err != nil {
					return nil, err
				}
				if err := p.funcSig(fn); err != nil {
					return nil, err
				}
				if err := p.expect(";"); err != nil {
					return nil, err
				}
			} else if fn, err = p.namedFunc(); err != nil {
				return nil, err
			}
			t.resFuncs = append(t.resFuncs, fn)
		}
		return t, p.advance()
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.is("}") {
		if err := p.gates(); err != nil {
			return nil, err
		}
		pos := p.tok.pos
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case "record":
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			ty, err := p.typeExpr()
			if err != nil {
				return nil, err
			}
			t.fields = append(t.fields, namedType{pos, n, ty})
		case "variant":
			var ty *typeExpr
			if p.is("(") {
				if err := p.advance(); err != nil {
					return nil, err
				}
				if ty, err = p.typeExpr(); err != nil {
					return nil, err
				}
				if err := p.expect(")"); err != nil {
					return nil, err
				}
			}
			t.fields = append(t.fields, namedType{pos, n, ty})
		default: // enum, flags
			t.labels = append(t.labels, n)
		}
		if !p.is(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return t, p.expect("}")
}

// namedFunc parses "name: [static] [async] func(...) [-> ...];".
func (p *parser) namedFunc() (*funcDecl, error) {
	fn := &funcDecl{pos: p.tok.pos}
	var err error
	if fn.name, err = p.name(); err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	if p.isKw("static") {
		fn.member = "static"
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if err := p.funcType(fn); err != nil {
		return nil, err
	}
	return fn, p.expect(";")
}

// funcType parses "[async] func(...) [-> ...]".
func (p *parser) funcType(fn *funcDecl) error {
	if p.isKw("async") {
		fn.async = true
		if err := p.advance(); err != nil {
			return err
		}
	}
	if err := p.expectKw("func"); err != nil {
		return err
	}
	return p.funcSig(fn)
}

func (p *parser) funcSig(fn *funcDecl) error {
	var err error
	if fn.params, err = p.namedList(); err != nil {
		return err
	}
	if !p.is("->") {
		return nil
	}
	if err := p.advance(); err != nil {
		return err
	}
	if p.is("(") {
		fn.results, err = p.namedList()
		return err
	}
	pos := p.tok.pos
	ty, err := p.typeExpr()
	if err != nil {
		return err
	}
	fn.results = []namedType{{pos: pos, typ: ty}}
	return nil
}

// namedList parses "(a: T, b: U,)".
func (p *parser) namedList() ([]namedType, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var out []namedType
	for !p.is(")") {
		pos := p.tok.pos
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		ty, err := p.typeExpr()
		if err != nil {
			return nil, err
		}
		out = append(out, namedType{pos, n, ty})
		if !p.is(",") {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return out, p.expect(")")
}

var primitives = map[string]bool{
	"bool": true, "s8": true, "u8": true, "s16": true, "u16": true, "s32": true, "u32": true,
	"s64": true, "u64": true, "f32": true, "f64": true, "float32": true, "float64": true,
	"char": true, "string": true,
}

func (p *parser) typeExpr() (*typeExpr, error) {
	t := &typeExpr{pos: p.tok.pos}
	if p.tok.kind != tIdent {
		return nil, p.errorf("expected a type, found %s", p.desc())
	}
	kw := p.tok.text
	if p.tok.escaped {
		kw = ""
	}
	switch {
	case primitives[kw]:
		t.kind, t.name = "prim", kw
		return t, p.advance()
	case kw == "list" || kw == "option" || kw == "borrow" || kw == "own":
		t.kind = kw
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		arg, err := p.typeExpr()
		if err != nil {
			return nil, err
		}
		if (kw == "borrow" || kw == "own") && arg.kind != "named" {
			return nil, &Error{arg.pos, kw + "<> needs a resource name"}
		}
		t.args = []*typeExpr{arg}
		return t, p.expect(">")
	case kw == "tuple":
		t.kind = kw
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expect("<"); err != nil {
			return nil, err
		}
		for !p.is(">") {
			arg, err := p.typeExpr()
			if err != nil {
				return nil, err
			}
			t.args = append(t.args, arg)
			if !p.is(",") {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		return t, p.expect(">")
	case kw == "result":
		// result, result<T>, result<_, E>, result<T, E>: args are [ok, err],
		// nil meaning no payload.
		t.kind = kw
		t.args = []*typeExpr{nil, nil}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !p.is("<") {
			return t, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		var err error
		if p.is("_") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.is(",") {
				return nil, p.errorf("result<_> has neither payload: write result")
			}
		} else if t.args[0], err = p.typeExpr(); err != nil {
			return nil, err
		}
		if p.is(",") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if t.args[1], err = p.typeExpr(); err != nil {
				return nil, err
			}
		}
		return t, p.expect(">")
	case kw == "stream" || kw == "future":
		// Parsed so the async-era Spin packages load; resolution marks
		// functions using them as unsupported.
		t.kind = kw
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.is("<") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			arg, err := p.typeExpr()
			if err != nil {
				return nil, err
			}
			t.args = []*typeExpr{arg}
			return t, p.expect(">")
		}
		return t, nil
	}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	t.kind, t.name = "named", n
	return t, nil
}

func (p *parser) world(f *file) (*worldDecl, error) {
	w := &worldDecl{pos: p.tok.pos, file: f}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var err error
	if w.name, err = p.name(); err != nil {
		return nil, err
	}
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	for !p.is("}") {
		if err := p.gates(); err != nil {
			return nil, err
		}
		switch {
		case p.isKw("import") || p.isKw("export"):
			it, err := p.worldExtern()
			if err != nil {
				return nil, err
			}
			w.items = append(w.items, it)
		case p.isKw("include"):
			it := &worldItem{pos: p.tok.pos, include: true}
			if err := p.advance(); err != nil {
				return nil, err
			}
			path, err := p.usePath()
			if err != nil {
				return nil, err
			}
			it.path = &path
			if p.isKw("with") {
				// Renames only matter for name clashes between included
				// worlds, which the host never has; parse and drop them.
				if err := p.skipBraces(); err != nil {
					return nil, err
				}
				continue
			}
			if err := p.expect(";"); err != nil {
				return nil, err
			}
			w.items = append(w.items, it)
		case p.isKw("use"):
			u, err := p.use()
			if err != nil {
				return nil, err
			}
			w.uses = append(w.uses, u)
		case p.tok.kind == tIdent && !p.tok.escaped && typeKeywords[p.tok.text]:
			t, err := p.typeDecl()
			if err != nil {
				return nil, err
			}
			w.types = append(w.types, t)
		default:
			return nil, p.errorf("expected a world item, found %s", p.desc())
		}
	}
	return w, p.advance()
}

func (p *parser) skipBraces() error {
	if err := p.advance(); err != nil {
		return err
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	for !p.is("}") {
		if p.tok.kind == tEOF {
			return p.errorf("unterminated with { ... }")
		}
		if err := p.advance(); err != nil {
			return err
		}
	}
	return p.advance()
}

func (p *parser) worldExtern() (*worldItem, error) {
	it := &worldItem{pos: p.tok.pos, export: p.tok.text == "export"}
	if err := p.advance(); err != nil {
		return nil, err
	}
	// "name: func", "name: interface {" and "ns:pkg/iface" all start with
	// an identifier and a colon; the token after the colon tells them apart.
	if p.tok.kind == tIdent && p.peekIsColon() {
		after := p.peekAfterColon()
		if after.kind == tIdent && !after.escaped && (after.text == "func" || after.text == "async" || after.text == "interface") {
			var err error
			if it.name, err = p.name(); err != nil {
				return nil, err
			}
			if err := p.advance(); err != nil { // the colon
				return nil, err
			}
			if p.isKw("interface") {
				d := &ifaceDecl{name: it.name, pos: p.tok.pos}
				if err := p.advance(); err != nil {
					return nil, err
				}
				if err := p.ifaceBody(d); err != nil {
					return nil, err
				}
				it.iface = d
				return it, nil
			}
			it.fn = &funcDecl{name: it.name, pos: it.pos}
			if err := p.funcType(it.fn); err != nil {
				return nil, err
			}
			return it, p.expect(";")
		}
	}
	path, err := p.usePath()
	if err != nil {
		return nil, err
	}
	it.path = &path
	return it, p.expect(";")
}

func (p *parser) peekIsColon() bool {
	t := p.peek()
	return t.kind == tPunct && t.text == ":"
}

func (p *parser) peekAfterColon() token {
	l := *p.lex
	if _, err := l.next(); err != nil {
		return token{}
	}
	t, err := l.next()
	if err != nil {
		return token{}
	}
	return t
}

// splitQualified splits "ns:pkg/iface@version" into its package and
// interface parts; ok is false when s is not of that shape.
func splitQualified(s string) (pkg pkgName, iface string, ok bool) {
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	if colon <= 0 || slash < colon+2 {
		return pkg, "", false
	}
	pkg.ns, pkg.name = s[:colon], s[colon+1:slash]
	rest := s[slash+1:]
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		rest, pkg.version = rest[:at], rest[at+1:]
	}
	return pkg, rest, rest != ""
}
