package binary

import (
	"fmt"
	"io"
	"strings"
)

// Dump writes a readable outline of c: each section with the definitions it
// made and the index each one received. It is for debugging (the linker
// author, `wisp` diagnostics), not a stable format.
func (c *Component) Dump(w io.Writer) {
	p := &dumper{w: w}
	p.component(c, 0)
}

type dumper struct{ w io.Writer }

func (p *dumper) f(depth int, format string, args ...any) {
	fmt.Fprintf(p.w, "%s%s\n", strings.Repeat("  ", depth), fmt.Sprintf(format, args...))
}

func (p *dumper) component(c *Component, depth int) {
	p.f(depth, "component: %d sections, %d imports, %d exports", len(c.Sections), len(c.Imports), len(c.Exports))
	// index of each definition in its space, for "(core func 17)" style labels
	idx := map[Def]map[Sort]int{}
	for s := Sort(0); s < numSorts; s++ {
		for i, d := range c.spaces[s] {
			if idx[d] == nil {
				idx[d] = map[Sort]int{}
			}
			idx[d][s] = i
		}
	}
	label := func(o Origin, i int) string {
		var parts []string
		for s := Sort(0); s < numSorts; s++ {
			if n, ok := idx[Def{o, i}][s]; ok {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
		}
		return strings.Join(parts, ",")
	}
	for _, s := range c.Sections {
		p.f(depth+1, "section %d (%s) @0x%x, %d bytes:", s.ID, s.ID, s.Offset, s.Size)
		d := depth + 2
		for i := s.First; i < s.First+s.Count; i++ {
			switch s.ID {
			case SectionCustom:
				p.f(d, "custom %q (%d bytes)", c.Customs[i].Name, len(c.Customs[i].Data))
			case SectionCoreModule:
				m := c.CoreModules[i]
				imps, _ := CoreImports(m.Bytes)
				exps, _ := CoreExports(m.Bytes)
				p.f(d, "[%s] %d bytes, %d imports, %d exports", label(OriginCoreModule, i), len(m.Bytes), len(imps), len(exps))
			case SectionCoreInstance:
				ci := c.CoreInstances[i]
				if ci.Inline {
					var es []string
					for _, e := range ci.Exports {
						es = append(es, fmt.Sprintf("%q=(%s %d)", e.Name, e.Ref.Sort, e.Ref.Index))
					}
					p.f(d, "[%s] exports %s", label(OriginCoreInstance, i), strings.Join(es, " "))
				} else {
					var as []string
					for _, a := range ci.Args {
						as = append(as, fmt.Sprintf("%q=(core instance %d)", a.Name, a.Instance))
					}
					p.f(d, "[%s] instantiate core module %d with %s", label(OriginCoreInstance, i), ci.Module, strings.Join(as, " "))
				}
			case SectionCoreType:
				ct := c.CoreTypes[i]
				if ct.Func != nil {
					p.f(d, "[%s] %s", label(OriginCoreType, i), ct.Func)
				} else {
					p.f(d, "[%s] module type, %d decls", label(OriginCoreType, i), len(ct.Module.Decls))
				}
			case SectionComponent:
				p.f(d, "[%s]", label(OriginComponent, i))
				p.component(c.Components[i], d+1)
			case SectionInstance:
				in := c.Instances[i]
				if in.Inline {
					var es []string
					for _, e := range in.Exports {
						es = append(es, fmt.Sprintf("%q=(%s %d)", e.Name.Name, e.Ref.Sort, e.Ref.Index))
					}
					p.f(d, "[%s] exports %s", label(OriginInstance, i), strings.Join(es, " "))
				} else {
					var as []string
					for _, a := range in.Args {
						as = append(as, fmt.Sprintf("%q=(%s %d)", a.Name, a.Ref.Sort, a.Ref.Index))
					}
					p.f(d, "[%s] instantiate component %d with %s", label(OriginInstance, i), in.Component, strings.Join(as, " "))
				}
			case SectionAlias:
				a := c.Aliases[i]
				switch a.Kind {
				case AliasInstanceExport:
					p.f(d, "[%s] alias export %q of instance %d", label(OriginAlias, i), a.Name, a.Instance)
				case AliasCoreInstanceExport:
					p.f(d, "[%s] alias export %q of core instance %d", label(OriginAlias, i), a.Name, a.Instance)
				default:
					p.f(d, "[%s] alias outer %d %d", label(OriginAlias, i), a.Count, a.Index)
				}
			case SectionType:
				p.f(d, "[%s] %s", label(OriginType, i), typeString(c.Types[i].Def))
			case SectionCanon:
				cn := c.Canons[i]
				switch cn.Kind {
				case CanonLift:
					p.f(d, "[%s] canon lift (core func %d) (type %d)%s", label(OriginCanon, i), cn.Func, cn.Type, optString(cn.Options))
				case CanonLower:
					p.f(d, "[%s] canon lower (func %d)%s", label(OriginCanon, i), cn.Func, optString(cn.Options))
				default:
					p.f(d, "[%s] canon %s (type %d)", label(OriginCanon, i), cn.Kind, cn.Type)
				}
			case SectionStart:
				st := c.Starts[i]
				p.f(d, "start (func %d) args %v results %d", st.Func, st.Args, st.Results)
			case SectionImport:
				im := c.Imports[i]
				p.f(d, "[%s] import %q: %s", label(OriginImport, i), im.Name.Name, descString(im.Type))
			case SectionExport:
				e := c.Exports[i]
				p.f(d, "[%s] export %q = (%s %d)", label(OriginExport, i), e.Name.Name, e.Ref.Sort, e.Ref.Index)
			}
		}
	}
}

func optString(o CanonOptions) string {
	s := ""
	if o.StringEncoding != UTF8 {
		s += " string-encoding=" + o.StringEncoding.String()
	}
	if o.Memory != nil {
		s += fmt.Sprintf(" (memory %d)", *o.Memory)
	}
	if o.Realloc != nil {
		s += fmt.Sprintf(" (realloc %d)", *o.Realloc)
	}
	if o.PostReturn != nil {
		s += fmt.Sprintf(" (post-return %d)", *o.PostReturn)
	}
	return s
}

func descString(d ExternDesc) string {
	switch d.Kind {
	case ExternType:
		if d.SubResource {
			return "type (sub resource)"
		}
		return fmt.Sprintf("type (eq %d)", d.TypeIndex)
	case ExternValue:
		if d.ValueEq {
			return fmt.Sprintf("value (eq %d)", d.ValueIndex)
		}
		return "value " + d.ValueType.String()
	case ExternCoreModule:
		return fmt.Sprintf("core module (type %d)", d.TypeIndex)
	}
	return fmt.Sprintf("%s (type %d)", d.Kind, d.TypeIndex)
}

func typeString(t TypeDef) string {
	switch t := t.(type) {
	case *DefValType:
		switch t.Kind {
		case DefPrim:
			return t.Prim.String()
		case DefRecord:
			return fmt.Sprintf("record %v", t.Fields)
		case DefVariant:
			var cs []string
			for _, c := range t.Cases {
				if c.Type != nil {
					cs = append(cs, c.Name+"("+c.Type.String()+")")
				} else {
					cs = append(cs, c.Name)
				}
			}
			return "variant " + strings.Join(cs, " ")
		case DefList, DefOption:
			return fmt.Sprintf("%s %s", t.Kind, t.Elem)
		case DefFlags, DefEnum:
			return fmt.Sprintf("%s %v", t.Kind, t.Labels)
		case DefResult:
			return fmt.Sprintf("result ok=%v err=%v", ptrString(t.Ok), ptrString(t.Err))
		case DefOwn, DefBorrow:
			return fmt.Sprintf("%s (type %d)", t.Kind, t.Resource)
		case DefTuple:
			return fmt.Sprintf("tuple %v", t.Types)
		}
		return t.Kind.String()
	case *FuncType:
		r := "-"
		if t.Result != nil {
			r = t.Result.String()
		}
		return fmt.Sprintf("func %v -> %s", t.Params, r)
	case *ComponentType:
		return fmt.Sprintf("component type, %d decls", len(t.Decls))
	case *InstanceType:
		var es []string
		for _, d := range t.Decls {
			if d.Kind == DeclExport {
				es = append(es, d.Name.Name)
			}
		}
		return fmt.Sprintf("instance type, %d decls, exports %s", len(t.Decls), strings.Join(es, " "))
	case *ResourceType:
		if t.Dtor != nil {
			return fmt.Sprintf("resource (rep %s) (dtor %d)", t.Rep, *t.Dtor)
		}
		return fmt.Sprintf("resource (rep %s)", t.Rep)
	}
	return "?"
}

func ptrString(v *ValType) string {
	if v == nil {
		return "-"
	}
	return v.String()
}
