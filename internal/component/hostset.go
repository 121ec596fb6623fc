package component

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

// NewHostWithWIT is NewHost for interfaces defined by pkgs (tests, custom
// host packages). Interface names are looked up in pkgs first, then in the
// built-in WASI and Spin definitions.
func NewHostWithWIT(pkgs *wit.Packages, ifaces ...Interface) (*Host, error) {
	h := &Host{pkgs: pkgs, impls: make(map[string]map[string]HostFunc)}
	for _, iface := range ifaces {
		wi, ok := h.lookupInterface(iface.Name)
		if !ok {
			return nil, fmt.Errorf("component: host interface %q: no WIT definition", iface.Name)
		}
		m := h.impls[wi.Name]
		if m == nil {
			m = make(map[string]HostFunc, len(iface.Funcs))
			h.impls[wi.Name] = m
		}
		names := make([]string, 0, len(iface.Funcs))
		for name := range iface.Funcs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fn := iface.Funcs[name]
			if _, ok := wi.Funcs[name]; !ok {
				return nil, fmt.Errorf("component: host interface %q: function %q is not in its WIT definition %s", iface.Name, name, wi.Name)
			}
			if strings.HasPrefix(name, "[resource-drop]") {
				return nil, fmt.Errorf("component: host interface %q: %q: resource drops are implemented by Dropper, not a HostFunc", iface.Name, name)
			}
			if fn == nil {
				return nil, fmt.Errorf("component: host interface %q: function %q is nil", iface.Name, name)
			}
			if _, dup := m[name]; dup {
				return nil, fmt.Errorf("component: host interface %q: function %q defined twice", iface.Name, name)
			}
			m[name] = fn
		}
	}
	return h, nil
}

// lookupInterface finds the WIT definition serving an interface name,
// following wit.Packages.LookupInterface's semver rules.
func (h *Host) lookupInterface(name string) (*wit.Interface, bool) {
	if h != nil && h.pkgs != nil {
		if wi, ok := h.pkgs.LookupInterface(name); ok {
			return wi, true
		}
	}
	return wit.Builtin().LookupInterface(name)
}

// worldExportFunc returns the world-level function exported under name by
// a world the host knows (see wit.Packages.WorldExportFunc).
func (h *Host) worldExportFunc(name string) (*wit.Func, bool) {
	if h != nil && h.pkgs != nil {
		if f, ok := h.pkgs.WorldExportFunc(name); ok {
			return f, true
		}
	}
	return wit.Builtin().WorldExportFunc(name)
}

// lookupFunc returns the implementation and WIT type of function fn of the
// interface an import names, if the host has them.
func (h *Host) lookupFunc(iface, fn string) (HostFunc, *wit.Func, *wit.Interface) {
	wi, ok := h.lookupInterface(iface)
	if !ok {
		return nil, nil, nil
	}
	wf := wi.Funcs[fn]
	if h == nil {
		return nil, wf, wi
	}
	return h.impls[wi.Name][fn], wf, wi
}

// Interfaces returns the names of the WIT interfaces the host implements
// (at least one function each), sorted.
func (h *Host) Interfaces() []string {
	if h == nil {
		return nil
	}
	out := make([]string, 0, len(h.impls))
	for name := range h.impls {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// UnimplementedError is the trap of a function a component imports but the
// host does not implement. Components that import it but never call it run.
type UnimplementedError struct {
	Interface, Func string
}

func (e *UnimplementedError) Error() string {
	if e.Interface == "" {
		return "wisp does not implement " + e.Func
	}
	return "wisp does not implement " + e.Interface + "#" + e.Func
}

// compareFunc reports how two function types differ structurally, or "".
func compareFunc(a, b *cabi.FuncType) string {
	if len(a.Params) != len(b.Params) {
		return fmt.Sprintf("%d parameters vs %d", len(a.Params), len(b.Params))
	}
	for i := range a.Params {
		if d := compareType(a.Params[i].Type, b.Params[i].Type, 0); d != "" {
			return fmt.Sprintf("parameter %d (%s): %s", i, a.Params[i].Name, d)
		}
	}
	if len(a.Results) != len(b.Results) {
		return fmt.Sprintf("%d results vs %d", len(a.Results), len(b.Results))
	}
	for i := range a.Results {
		if d := compareType(a.Results[i].Type, b.Results[i].Type, 0); d != "" {
			return fmt.Sprintf("result %d: %s", i, d)
		}
	}
	return ""
}

func compareType(a, b *cabi.Type, depth int) string {
	if a == b {
		return ""
	}
	if a == nil || b == nil {
		return "payload present vs absent"
	}
	if depth > 64 {
		return "type too deep"
	}
	if a.Kind != b.Kind {
		return fmt.Sprintf("%s vs %s", a.Kind, b.Kind)
	}
	switch a.Kind {
	case cabi.KindList, cabi.KindOption:
		return compareType(a.Elem, b.Elem, depth+1)
	case cabi.KindRecord:
		if len(a.Fields) != len(b.Fields) {
			return fmt.Sprintf("record of %d fields vs %d", len(a.Fields), len(b.Fields))
		}
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name {
				return fmt.Sprintf("field %q vs %q", a.Fields[i].Name, b.Fields[i].Name)
			}
			if d := compareType(a.Fields[i].Type, b.Fields[i].Type, depth+1); d != "" {
				return "field " + a.Fields[i].Name + ": " + d
			}
		}
	case cabi.KindTuple:
		if len(a.Types) != len(b.Types) {
			return fmt.Sprintf("tuple of %d vs %d", len(a.Types), len(b.Types))
		}
		for i := range a.Types {
			if d := compareType(a.Types[i], b.Types[i], depth+1); d != "" {
				return d
			}
		}
	case cabi.KindVariant:
		if len(a.Cases) != len(b.Cases) {
			return fmt.Sprintf("variant of %d cases vs %d", len(a.Cases), len(b.Cases))
		}
		for i := range a.Cases {
			if a.Cases[i].Name != b.Cases[i].Name {
				return fmt.Sprintf("case %q vs %q", a.Cases[i].Name, b.Cases[i].Name)
			}
			if d := compareType(a.Cases[i].Type, b.Cases[i].Type, depth+1); d != "" {
				return "case " + a.Cases[i].Name + ": " + d
			}
		}
	case cabi.KindEnum, cabi.KindFlags:
		if len(a.Labels) != len(b.Labels) {
			return fmt.Sprintf("%s of %d labels vs %d", a.Kind, len(a.Labels), len(b.Labels))
		}
		for i := range a.Labels {
			if a.Labels[i] != b.Labels[i] {
				return fmt.Sprintf("label %q vs %q", a.Labels[i], b.Labels[i])
			}
		}
	case cabi.KindResult:
		if d := compareType(a.Ok, b.Ok, depth+1); d != "" {
			return "ok: " + d
		}
		if d := compareType(a.Err, b.Err, depth+1); d != "" {
			return "err: " + d
		}
	case cabi.KindOwn, cabi.KindBorrow:
		if a.Resource != b.Resource {
			return fmt.Sprintf("resource %s vs %s", resName(a.Resource), resName(b.Resource))
		}
	}
	return ""
}

func resName(r *cabi.Resource) string {
	if r == nil {
		return "<nil>"
	}
	return r.Name
}

// semverCompatible reports whether export name have serves a request for
// want: the same "ns:pkg/iface" and versions compatible by the rule of
// wit.Packages.LookupInterface.
func semverCompatible(want, have string) bool {
	if want == have {
		return true
	}
	wb, wv, wok := strings.Cut(want, "@")
	hb, hv, hok := strings.Cut(have, "@")
	if wb != hb || !wok || !hok {
		return false
	}
	wp, ok1 := parseVersion(wv)
	hp, ok2 := parseVersion(hv)
	if !ok1 || !ok2 {
		return false
	}
	switch {
	case wp[0] >= 1:
		return wp[0] == hp[0]
	case wp[1] >= 1:
		return hp[0] == 0 && wp[1] == hp[1]
	}
	return false
}

func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		if p == "" {
			return out, false
		}
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' || n > 1<<20 {
				return out, false // pre-release or build metadata: exact only
			}
			n = n*10 + int(c-'0')
		}
		out[i] = n
	}
	return out, true
}
