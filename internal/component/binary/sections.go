package binary

import "fmt"

// coreSortCodes maps core:sort opcodes to sorts.
var coreSortCodes = map[byte]Sort{
	0x00: SortCoreFunc, 0x01: SortCoreTable, 0x02: SortCoreMemory, 0x03: SortCoreGlobal,
	0x04: SortCoreTag, 0x10: SortCoreType, 0x11: SortCoreModule, 0x12: SortCoreInstance,
}

func coreSort(r *reader) (Sort, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	s, ok := coreSortCodes[c]
	if !ok {
		return 0, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown core sort 0x%02x", c)}
	}
	return s, nil
}

// sort reads a component-level sort (0x00 followed by a core sort, or a
// component sort).
func sort(r *reader) (Sort, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case 0x00:
		return coreSort(r)
	case 0x01:
		return SortFunc, nil
	case 0x02:
		return SortValue, nil
	case 0x03:
		return SortType, nil
	case 0x04:
		return SortComponent, nil
	case 0x05:
		return SortInstance, nil
	}
	return 0, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown sort 0x%02x", c)}
}

func sortIdx(r *reader, sc *scope, core bool) (SortIdx, error) {
	var s Sort
	var err error
	if core {
		s, err = coreSort(r)
	} else {
		s, err = sort(r)
	}
	if err != nil {
		return SortIdx{}, err
	}
	i, err := r.u32()
	if err != nil {
		return SortIdx{}, err
	}
	return SortIdx{Sort: s, Index: i}, sc.check(r, s, i, s.String())
}

func (d *decoder) coreInstance(r *reader, sc *scope) (CoreInstance, error) {
	ci := CoreInstance{Offset: r.abs()}
	c, err := r.byte()
	if err != nil {
		return ci, err
	}
	switch c {
	case 0x00:
		if ci.Module, err = r.u32(); err != nil {
			return ci, err
		}
		if err := sc.check(r, SortCoreModule, ci.Module, "module"); err != nil {
			return ci, err
		}
		n, err := r.count("instantiate argument", 3)
		if err != nil {
			return ci, err
		}
		ci.Args = make([]CoreInstantiateArg, 0, n)
		for range n {
			var a CoreInstantiateArg
			if a.Name, err = r.name(); err != nil {
				return ci, err
			}
			k, err := r.byte()
			if err != nil {
				return ci, err
			}
			if k != 0x12 {
				return ci, r.errorf("argument %q: core instantiate argument of sort 0x%02x (only instances)", a.Name, k)
			}
			if a.Instance, err = r.u32(); err != nil {
				return ci, err
			}
			if err := sc.check(r, SortCoreInstance, a.Instance, fmt.Sprintf("argument %q: core instance", a.Name)); err != nil {
				return ci, err
			}
			ci.Args = append(ci.Args, a)
		}
	case 0x01:
		ci.Inline = true
		n, err := r.count("inline export", 3)
		if err != nil {
			return ci, err
		}
		ci.Exports = make([]CoreInlineExport, 0, n)
		for range n {
			var e CoreInlineExport
			if e.Name, err = r.name(); err != nil {
				return ci, err
			}
			if e.Ref, err = sortIdx(r, sc, true); err != nil {
				return ci, err
			}
			ci.Exports = append(ci.Exports, e)
		}
	default:
		return ci, &posError{off: ci.Offset, err: fmt.Errorf("unknown core instance expression 0x%02x", c)}
	}
	return ci, nil
}

func (d *decoder) instance(r *reader, sc *scope) (Instance, error) {
	in := Instance{Offset: r.abs()}
	c, err := r.byte()
	if err != nil {
		return in, err
	}
	switch c {
	case 0x00:
		if in.Component, err = r.u32(); err != nil {
			return in, err
		}
		if err := sc.check(r, SortComponent, in.Component, "component"); err != nil {
			return in, err
		}
		n, err := r.count("instantiate argument", 3)
		if err != nil {
			return in, err
		}
		in.Args = make([]InstantiateArg, 0, n)
		for range n {
			var a InstantiateArg
			if a.Name, err = r.name(); err != nil {
				return in, err
			}
			if a.Ref, err = sortIdx(r, sc, false); err != nil {
				return in, err
			}
			in.Args = append(in.Args, a)
		}
	case 0x01:
		in.Inline = true
		n, err := r.count("inline export", 4)
		if err != nil {
			return in, err
		}
		in.Exports = make([]InlineExport, 0, n)
		for range n {
			var e InlineExport
			if e.Name, err = d.externName(r); err != nil {
				return in, err
			}
			if e.Ref, err = sortIdx(r, sc, false); err != nil {
				return in, err
			}
			in.Exports = append(in.Exports, e)
		}
	default:
		return in, &posError{off: in.Offset, err: fmt.Errorf("unknown instance expression 0x%02x", c)}
	}
	return in, nil
}

// alias reads an alias; the caller adds it to the index space of a.Sort.
func (d *decoder) alias(r *reader, sc *scope) (Alias, error) {
	a := Alias{Offset: r.abs()}
	var err error
	if a.Sort, err = sort(r); err != nil {
		return a, err
	}
	k, err := r.byte()
	if err != nil {
		return a, err
	}
	switch k {
	case 0x00:
		a.Kind = AliasInstanceExport
		if a.Instance, err = r.u32(); err != nil {
			return a, err
		}
		if err := sc.check(r, SortInstance, a.Instance, "instance"); err != nil {
			return a, err
		}
		a.Name, err = r.name()
	case 0x01:
		a.Kind = AliasCoreInstanceExport
		if !a.Sort.IsCore() {
			return a, r.errorf("core instance export alias of non-core sort %s", a.Sort)
		}
		if a.Instance, err = r.u32(); err != nil {
			return a, err
		}
		if err := sc.check(r, SortCoreInstance, a.Instance, "core instance"); err != nil {
			return a, err
		}
		a.Name, err = r.name()
	case 0x02:
		a.Kind = AliasOuter
		switch a.Sort {
		case SortCoreModule, SortCoreType, SortType, SortComponent:
		default:
			return a, r.errorf("outer alias of sort %s", a.Sort)
		}
		if a.Count, err = r.u32(); err != nil {
			return a, err
		}
		if a.Index, err = r.u32(); err != nil {
			return a, err
		}
		err = sc.checkOuter(r, a.Count, a.Sort, a.Index)
	default:
		return a, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown alias target 0x%02x", k)}
	}
	return a, err
}

// externName reads nameattributes: 0x00/0x01 name, or 0x02 name + attributes.
func (d *decoder) externName(r *reader) (ExternName, error) {
	var n ExternName
	var err error
	if n.Form, err = r.byte(); err != nil {
		return n, err
	}
	if n.Form > 0x02 {
		return n, &posError{off: r.abs() - 1, err: fmt.Errorf("unknown extern name discriminator 0x%02x", n.Form)}
	}
	if n.Name, err = r.name(); err != nil {
		return n, err
	}
	if n.Name == "" {
		return n, r.errorf("empty extern name")
	}
	if n.Form != 0x02 {
		return n, nil
	}
	cnt, err := r.count("name attribute", 2)
	if err != nil {
		return n, err
	}
	seen := map[byte]bool{}
	for range cnt {
		k, err := r.byte()
		if err != nil {
			return n, err
		}
		if seen[k] {
			return n, r.errorf("name %q: duplicate attribute 0x%02x", n.Name, k)
		}
		seen[k] = true
		var s string
		if s, err = r.name(); err != nil {
			return n, err
		}
		switch k {
		case 0x00:
			n.Implements = s
		case 0x01:
			n.VersionSuffix = s
		case 0x02:
			n.ExternalID = s
		default:
			return n, r.errorf("name %q: unknown attribute 0x%02x", n.Name, k)
		}
	}
	return n, nil
}

func (d *decoder) export(r *reader, sc *scope) (Export, error) {
	e := Export{Offset: r.abs()}
	var err error
	if e.Name, err = d.externName(r); err != nil {
		return e, err
	}
	if e.Ref, err = sortIdx(r, sc, false); err != nil {
		return e, err
	}
	if e.Ref.Sort.IsCore() && e.Ref.Sort != SortCoreModule {
		return e, r.errorf("export %q of %s (only core modules among core sorts)", e.Name.Name, e.Ref.Sort)
	}
	has, err := r.optional("export type")
	if err != nil || !has {
		return e, err
	}
	desc, err := d.externDesc(r, sc)
	if err != nil {
		return e, err
	}
	if desc.Kind.Sort() != e.Ref.Sort {
		return e, r.errorf("export %q: ascribed %s type for a %s", e.Name.Name, desc.Kind, e.Ref.Sort)
	}
	e.Type = &desc
	return e, nil
}

func (d *decoder) start(r *reader, sc *scope) (Start, error) {
	st := Start{Offset: r.abs()}
	var err error
	if st.Func, err = r.u32(); err != nil {
		return st, err
	}
	if err := sc.check(r, SortFunc, st.Func, "func"); err != nil {
		return st, err
	}
	n, err := r.count("start argument", 1)
	if err != nil {
		return st, err
	}
	for range n {
		v, err := r.u32()
		if err != nil {
			return st, err
		}
		if err := sc.check(r, SortValue, v, "value"); err != nil {
			return st, err
		}
		st.Args = append(st.Args, v)
	}
	if st.Results, err = r.u32(); err != nil {
		return st, err
	}
	if st.Results > 1<<16 {
		return st, r.errorf("start with %d results", st.Results)
	}
	return st, nil
}
