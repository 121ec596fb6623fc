package wasi

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// covered are the WASI packages this package implements; wasi:cli/run is an
// export (the guest's), not an import.
var covered = []string{"wasi:io/", "wasi:clocks/", "wasi:random/", "wasi:cli/", "wasi:filesystem/", "wasi:sockets/"}

func isCovered(name string) bool {
	if strings.HasPrefix(name, "wasi:cli/run@") {
		return false
	}
	for _, p := range covered {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// TestEveryFunctionImplemented checks the bindings against the embedded WIT
// both ways: every function of every covered interface has an
// implementation (resource drops are the linker's, via Dropper), and every
// implementation names a real function.
func TestEveryFunctionImplemented(t *testing.T) {
	ps := wit.Builtin()
	bound := map[string]bool{}
	for _, i := range Interfaces() {
		if bound[i.Name] {
			t.Errorf("%s bound twice", i.Name)
		}
		bound[i.Name] = true
		def, ok := ps.Interface(i.Name)
		if !ok {
			t.Errorf("%s: no such interface in the WIT", i.Name)
			continue
		}
		for fn, f := range i.Funcs {
			if strings.HasPrefix(fn, "[resource-drop]") {
				t.Errorf("%s: %q: drops belong to Dropper", i.Name, fn)
			}
			if _, ok := def.Funcs[fn]; !ok || f == nil {
				t.Errorf("%s: %q is not a function of the WIT (or nil)", i.Name, fn)
			}
		}
		for fn := range def.Funcs {
			if _, ok := i.Funcs[fn]; !ok && !strings.HasPrefix(fn, "[resource-drop]") {
				t.Errorf("%s: %q not implemented", i.Name, fn)
			}
		}
		if len(def.Unsupported) > 0 {
			t.Errorf("%s: WIT functions the ABI cannot model: %v", i.Name, def.Unsupported)
		}
	}
	n := 0
	for _, name := range ps.InterfaceNames() {
		if isCovered(name) {
			n++
			if !bound[name] {
				t.Errorf("interface %s not bound", name)
			}
		}
	}
	if n != len(bound) {
		t.Errorf("bound %d interfaces, the WIT has %d covered ones", len(bound), n)
	}
}

// TestSpinJSImports checks every WASI import (other than wasi:http) of the
// real Spin JS component against the bindings, by the same semver rule the
// linker uses.
func TestSpinJSImports(t *testing.T) {
	f, err := os.Open(testguest.Fixture(t, "spin-js-http/core-func-imports.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	impl := map[string]map[string]bool{}
	for _, i := range Interfaces() {
		impl[i.Name] = map[string]bool{}
		for fn := range i.Funcs {
			impl[i.Name][fn] = true
		}
	}
	ps := wit.Builtin()
	sc := bufio.NewScanner(f)
	checked := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		mod, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		mod, _ = strconv.Unquote(mod)
		fn, _ := strconv.Unquote(rest)
		if !strings.HasPrefix(mod, "wasi:") || strings.HasPrefix(mod, "wasi:http/") {
			continue
		}
		def, ok := ps.LookupInterface(mod)
		if !ok {
			t.Errorf("%s: not in the WIT", mod)
			continue
		}
		if _, ok := def.Funcs[fn]; !ok {
			t.Errorf("%s %s: not in the WIT", mod, fn)
			continue
		}
		checked++
		if strings.HasPrefix(fn, "[resource-drop]") {
			continue
		}
		if !impl[def.Name][fn] {
			t.Errorf("%s %s: not implemented", mod, fn)
		}
	}
	if checked < 50 {
		t.Errorf("only %d WASI imports found in the fixture", checked)
	}
}

// TestEnumConstants checks the hand-written case indices against the WIT.
func TestEnumConstants(t *testing.T) {
	ps := wit.Builtin()
	label := func(ifc, typ string, idx uint32) string {
		t.Helper()
		i, ok := ps.Interface(ifc + version)
		if !ok {
			t.Fatalf("no %s", ifc)
		}
		ty, ok := i.Types[typ]
		if !ok {
			t.Fatalf("no %s.%s", ifc, typ)
		}
		if ty.Cases != nil {
			return ty.Cases[idx].Name
		}
		return ty.Labels[idx]
	}
	bit := func(b uint32) uint32 {
		for i := range uint32(32) {
			if b == 1<<i {
				return i
			}
		}
		t.Fatalf("%#x is not one bit", b)
		return 0
	}
	for _, c := range []struct {
		ifc, typ string
		idx      uint32
		want     string
	}{
		{"wasi:io/streams", "stream-error", streamErrLastOperationFailed, "last-operation-failed"},
		{"wasi:io/streams", "stream-error", streamErrClosed, "closed"},
		{"wasi:filesystem/types", "error-code", errAccess, "access"},
		{"wasi:filesystem/types", "error-code", errBadDesc, "bad-descriptor"},
		{"wasi:filesystem/types", "error-code", errExist, "exist"},
		{"wasi:filesystem/types", "error-code", errInvalid, "invalid"},
		{"wasi:filesystem/types", "error-code", errIO, "io"},
		{"wasi:filesystem/types", "error-code", errIsDirectory, "is-directory"},
		{"wasi:filesystem/types", "error-code", errNoEntry, "no-entry"},
		{"wasi:filesystem/types", "error-code", errNotDirectory, "not-directory"},
		{"wasi:filesystem/types", "error-code", errUnsupported, "unsupported"},
		{"wasi:filesystem/types", "error-code", errNotPermitted, "not-permitted"},
		{"wasi:filesystem/types", "error-code", errReadOnly, "read-only"},
		{"wasi:filesystem/types", "descriptor-type", typeUnknown, "unknown"},
		{"wasi:filesystem/types", "descriptor-type", typeBlockDevice, "block-device"},
		{"wasi:filesystem/types", "descriptor-type", typeCharDevice, "character-device"},
		{"wasi:filesystem/types", "descriptor-type", typeDirectory, "directory"},
		{"wasi:filesystem/types", "descriptor-type", typeFifo, "fifo"},
		{"wasi:filesystem/types", "descriptor-type", typeSymlink, "symbolic-link"},
		{"wasi:filesystem/types", "descriptor-type", typeRegularFile, "regular-file"},
		{"wasi:filesystem/types", "descriptor-type", typeSocket, "socket"},
		{"wasi:filesystem/types", "descriptor-flags", bit(descFlagRead), "read"},
		{"wasi:filesystem/types", "descriptor-flags", bit(descFlagWrite), "write"},
		{"wasi:filesystem/types", "descriptor-flags", bit(descFlagMutateDirectory), "mutate-directory"},
		{"wasi:filesystem/types", "open-flags", bit(openFlagCreate), "create"},
		{"wasi:filesystem/types", "open-flags", bit(openFlagDirectory), "directory"},
		{"wasi:filesystem/types", "open-flags", bit(openFlagTruncate), "truncate"},
		{"wasi:sockets/network", "error-code", sockErrAccessDenied, "access-denied"},
		{"wasi:sockets/network", "ip-address-family", 0, "ipv4"},
	} {
		if got := label(c.ifc, c.typ, c.idx); got != c.want {
			t.Errorf("%s.%s case %d is %q, want %q", c.ifc, c.typ, c.idx, got, c.want)
		}
	}
}
