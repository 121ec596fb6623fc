// Package binary decodes WebAssembly Component Model binaries (layer 1,
// version 0x0d, as design/mvp/Binary.md defines them) into a faithful AST,
// and provides the few core-module helpers the component linker needs
// (CoreImports, CoreExports, RewriteImports).
//
// Decoding validates structure and every index reference (each index must
// be in range of its index space at the point of use) but not types: it does
// not check that a lifted function's core signature matches, that an alias
// names an export that exists, and the like. That belongs to the linker,
// which has to look at those things anyway.
package binary

import (
	"bytes"
	"errors"
	"fmt"
)

var (
	magic          = []byte{0x00, 0x61, 0x73, 0x6d}
	componentLayer = []byte{0x0d, 0x00, 0x01, 0x00}
	coreVersion    = []byte{0x01, 0x00, 0x00, 0x00}
)

// ErrNotComponent is returned (wrapped) by Decode for a core module.
var ErrNotComponent = errors.New("not a component (core wasm module)")

// IsComponent reports whether b starts with the component preamble.
func IsComponent(b []byte) bool {
	return len(b) >= 8 && bytes.Equal(b[:4], magic) && bytes.Equal(b[4:8], componentLayer)
}

// Decode parses a component binary. It never panics; every failure is an
// error of the form "component binary: section N (kind) at offset 0x…: …".
// The returned AST aliases b.
func Decode(b []byte) (*Component, error) {
	d := &decoder{}
	c, err := d.component(b, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("component binary: %w", err)
	}
	return c, nil
}

type decoder struct {
	depth int
}

func (d *decoder) component(b []byte, base int, parent *scope) (*Component, error) {
	if len(b) < 8 || !bytes.Equal(b[:4], magic) {
		return nil, fmt.Errorf("at offset 0x%x: bad magic, not a wasm binary", base)
	}
	if bytes.Equal(b[4:8], coreVersion) {
		return nil, fmt.Errorf("at offset 0x%x: %w", base, ErrNotComponent)
	}
	if !bytes.Equal(b[4:8], componentLayer) {
		return nil, fmt.Errorf("at offset 0x%x: unsupported version/layer % x (want 0d 00 01 00)", base+4, b[4:8])
	}
	c := &Component{}
	sc := &scope{parent: parent, comp: c}
	r := newReader(b, base)
	r.pos = 8
	for !r.eof() {
		hdr := r.abs()
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, fmt.Errorf("section %d (%s) at offset 0x%x: size: %w", id, SectionID(id), hdr, err)
		}
		off := r.abs()
		payload, err := r.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("section %d (%s) at offset 0x%x: %d-byte payload: %w", id, SectionID(id), hdr, size, err)
		}
		info := SectionInfo{ID: SectionID(id), Offset: off, Size: int(size)}
		if err := d.section(c, sc, &info, newReader(payload, off)); err != nil {
			eo := errOffset(err, off)
			if info.ID == SectionComponent {
				eo = off // the nested error carries its own offsets
			}
			return nil, fmt.Errorf("section %d (%s) at offset 0x%x: %w", id, SectionID(id), eo, err)
		}
		c.Sections = append(c.Sections, info)
	}
	return c, nil
}

// vec reads a vector of section entries, prefixing errors with the entry
// number so a message can be matched to a dump.
func vec(r *reader, what string, minSize int, each func(i int) error) (int, error) {
	n, err := r.count(what, minSize)
	if err != nil {
		return 0, err
	}
	for i := range n {
		if err := each(i); err != nil {
			return i, &posError{off: errOffset(err, r.abs()), err: fmt.Errorf("%s entry %d: %w", what, i, err)}
		}
	}
	return n, nil
}

func (d *decoder) section(c *Component, sc *scope, info *SectionInfo, r *reader) error {
	var err error
	switch info.ID {
	case SectionCustom:
		info.First, info.Count = len(c.Customs), 1
		var name string
		if name, err = r.name(); err != nil {
			return err
		}
		c.Customs = append(c.Customs, Custom{Name: name, Offset: r.abs(), Data: r.b[r.pos:]})
		return nil // a custom section's payload is opaque
	case SectionCoreModule:
		info.First, info.Count = len(c.CoreModules), 1
		if len(r.b) < 8 || !bytes.Equal(r.b[:4], magic) || !bytes.Equal(r.b[4:8], coreVersion) {
			return r.errorf("core module does not start with the core wasm preamble")
		}
		sc.define(SortCoreModule, OriginCoreModule, len(c.CoreModules))
		c.CoreModules = append(c.CoreModules, CoreModule{Offset: r.base, Bytes: r.b})
		return nil
	case SectionComponent:
		info.First, info.Count = len(c.Components), 1
		if d.depth >= maxDepth {
			return r.errorf("components nested more than %d deep", maxDepth)
		}
		d.depth++
		nested, err := d.component(r.b, r.base, sc)
		d.depth--
		if err != nil {
			return err
		}
		sc.define(SortComponent, OriginComponent, len(c.Components))
		c.Components = append(c.Components, nested)
		return nil
	case SectionCoreInstance:
		info.First = len(c.CoreInstances)
		info.Count, err = vec(r, "core instance", 2, func(int) error {
			ci, err := d.coreInstance(r, sc)
			if err != nil {
				return err
			}
			sc.define(SortCoreInstance, OriginCoreInstance, len(c.CoreInstances))
			c.CoreInstances = append(c.CoreInstances, ci)
			return nil
		})
	case SectionCoreType:
		info.First = len(c.CoreTypes)
		info.Count, err = vec(r, "core type", 2, func(int) error {
			ct, err := d.coreType(r, sc)
			if err != nil {
				return err
			}
			sc.define(SortCoreType, OriginCoreType, len(c.CoreTypes))
			c.CoreTypes = append(c.CoreTypes, ct)
			return nil
		})
	case SectionInstance:
		info.First = len(c.Instances)
		info.Count, err = vec(r, "instance", 2, func(int) error {
			in, err := d.instance(r, sc)
			if err != nil {
				return err
			}
			sc.define(SortInstance, OriginInstance, len(c.Instances))
			c.Instances = append(c.Instances, in)
			return nil
		})
	case SectionAlias:
		info.First = len(c.Aliases)
		info.Count, err = vec(r, "alias", 3, func(int) error {
			a, err := d.alias(r, sc)
			if err != nil {
				return err
			}
			sc.define(a.Sort, OriginAlias, len(c.Aliases))
			c.Aliases = append(c.Aliases, a)
			return nil
		})
	case SectionType:
		info.First = len(c.Types)
		info.Count, err = vec(r, "type", 1, func(int) error {
			off := r.abs()
			td, err := d.typeDef(r, sc, false)
			if err != nil {
				return err
			}
			sc.define(SortType, OriginType, len(c.Types))
			c.Types = append(c.Types, Type{Offset: off, Def: td})
			return nil
		})
	case SectionCanon:
		info.First = len(c.Canons)
		info.Count, err = vec(r, "canon", 2, func(int) error {
			cn, err := d.canon(r, sc)
			if err != nil {
				return err
			}
			sc.define(cn.Kind.Sort(), OriginCanon, len(c.Canons))
			c.Canons = append(c.Canons, cn)
			return nil
		})
	case SectionStart:
		info.First, info.Count = len(c.Starts), 1
		var st Start
		if st, err = d.start(r, sc); err != nil {
			return err
		}
		for range st.Results {
			sc.define(SortValue, OriginStart, len(c.Starts))
		}
		c.Starts = append(c.Starts, st)
	case SectionImport:
		info.First = len(c.Imports)
		info.Count, err = vec(r, "import", 3, func(int) error {
			off := r.abs()
			name, err := d.externName(r)
			if err != nil {
				return err
			}
			desc, err := d.externDesc(r, sc)
			if err != nil {
				return err
			}
			sc.define(desc.Kind.Sort(), OriginImport, len(c.Imports))
			c.Imports = append(c.Imports, Import{Offset: off, Name: name, Type: desc})
			return nil
		})
	case SectionExport:
		info.First = len(c.Exports)
		info.Count, err = vec(r, "export", 4, func(int) error {
			e, err := d.export(r, sc)
			if err != nil {
				return err
			}
			sc.define(e.Ref.Sort, OriginExport, len(c.Exports))
			c.Exports = append(c.Exports, e)
			return nil
		})
	case SectionValue:
		return r.errorf("value sections not supported")
	default:
		return r.errorf("unknown section id 0x%02x", byte(info.ID))
	}
	if err != nil {
		return err
	}
	if !r.eof() {
		return r.errorf("%d trailing bytes after the section's entries", r.remaining())
	}
	return nil
}
