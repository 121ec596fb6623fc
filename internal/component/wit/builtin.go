package wit

import (
	"embed"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// defs holds the WIT definitions of every interface the host implements:
// WASI 0.2 (as of 0.2.12, the newest 0.2 release, a superset of 0.2.0),
// Spin's fermyon:spin@2.0.0 and spin:*@3/4 packages, wasi:keyvalue and
// wasi:config at the draft versions Spin serves. The text is signatures
// only; see the package documentation for sources.
//
//go:embed defs
var defs embed.FS

var (
	builtinOnce sync.Once
	builtin     *Packages
)

// Builtin returns the embedded definitions, parsed once. The result is
// shared and must not be modified.
func Builtin() *Packages {
	builtinOnce.Do(func() {
		files := map[string]string{}
		err := fs.WalkDir(defs, "defs", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".wit") {
				return err
			}
			b, err := defs.ReadFile(p)
			files[p] = string(b)
			return err
		})
		if err == nil {
			builtin, err = Parse(files)
		}
		if err != nil {
			// The definitions are compiled in and tested: failing here
			// is a build defect, not a runtime condition.
			panic("wit: embedded definitions: " + err.Error())
		}
	})
	return builtin
}

// Func returns the type of function funcName (a component-model name such
// as "[method]fields.get") of the interface that LookupInterface finds for
// iface.
func (ps *Packages) Func(iface, funcName string) (*cabi.FuncType, bool) {
	i, ok := ps.LookupInterface(iface)
	if !ok {
		return nil, false
	}
	f, ok := i.Funcs[funcName]
	if !ok {
		return nil, false
	}
	return f.Type, true
}

// LookupInterface finds the definition serving an import or export name
// "ns:pkg/iface[@version]". An exact match wins. Otherwise the rule is
// semver compatibility, as wasmtime's linker applies it:
//
//   - versions 1.0.0 and above match any definition with the same major
//     version (spin:postgres@4.0.0 → our 4.2.0);
//   - 0.x versions match the same major and minor, any patch, older or
//     newer than ours (wasi:io/streams@0.2.3 and @0.2.13 → our 0.2.12);
//     0.0.x versions match exactly only;
//   - pre-release versions (0.2.0-draft2, 0.2.0-rc-2023-10-18) and names
//     without a version match exactly only.
//
// Among several compatible definitions the highest version wins. A newer
// minor than ours resolves too: functions it added are then simply not in
// Funcs, which the caller reports as an unknown import.
func (ps *Packages) LookupInterface(name string) (*Interface, bool) {
	if i, ok := ps.interfaces[name]; ok {
		return i, true
	}
	want, iface, ok := splitQualified(name)
	if !ok {
		return nil, false
	}
	wv, ok := parseSemver(want.version)
	if !ok || wv.pre != "" || (wv.major == 0 && wv.minor == 0) {
		return nil, false
	}
	prefix := want.ns + ":" + want.name + "/" + iface + "@"
	var best *Interface
	var bestV semver
	for n, i := range ps.interfaces {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		hv, ok := parseSemver(n[len(prefix):])
		if !ok || hv.pre != "" || hv.major != wv.major || (wv.major == 0 && hv.minor != wv.minor) {
			continue
		}
		if best == nil || bestV.less(hv) {
			best, bestV = i, hv
		}
	}
	return best, best != nil
}

type semver struct {
	major, minor, patch int
	pre                 string // pre-release and build, verbatim
}

func (a semver) less(b semver) bool {
	if a.major != b.major {
		return a.major < b.major
	}
	if a.minor != b.minor {
		return a.minor < b.minor
	}
	return a.patch < b.patch
}

func parseSemver(s string) (semver, bool) {
	var v semver
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s, v.pre = s[:i], s[i:]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	nums := [3]*int{&v.major, &v.minor, &v.patch}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (len(p) > 1 && p[0] == '0') {
			return v, false
		}
		*nums[i] = n
	}
	return v, true
}
