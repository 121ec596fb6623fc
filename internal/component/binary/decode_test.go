package binary

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/testguest"
)

func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(testguest.Fixture(t, rel))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

var witImport = regexp.MustCompile(`^\s*(import|export) ([^;]+);`)

// worldNames reads the import/export lines of a `jco wit`/`wasm-tools component wit` world.
func worldNames(t *testing.T, wit []byte) (imports, exports []string) {
	sc := bufio.NewScanner(bytes.NewReader(wit))
	for sc.Scan() {
		if m := witImport.FindStringSubmatch(sc.Text()); m != nil {
			if m[1] == "import" {
				imports = append(imports, m[2])
			} else {
				exports = append(exports, m[2])
			}
		}
	}
	return
}

func names(c *Component) (imps, exps []string) {
	for _, i := range c.Imports {
		imps = append(imps, i.Name.Name)
	}
	for _, e := range c.Exports {
		exps = append(exps, e.Name.Name)
	}
	return
}

func TestFixtures(t *testing.T) {
	for _, tc := range []struct{ file, wit, export string }{
		{"spin-js-http/spin-js-http.wasm", "spin-js-http/spin-js-http.world.wit", "wasi:http/incoming-handler@0.2.3"},
		{"c-wasip1-command/hello.component.wasm", "c-wasip1-command/hello.component.world.wit", "wasi:cli/run@0.2.12"},
		{"go-wasip1-command/hello.component.wasm", "go-wasip1-command/hello.component.world.wit", "wasi:cli/run@0.2.12"},
		{"rust-wasip1-command/hello.component.wasm", "rust-wasip1-command/hello.component.world.wit", "wasi:cli/run@0.2.12"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := Decode(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			wantImps, wantExps := worldNames(t, fixture(t, tc.wit))
			imps, exps := names(c)
			if !slices.Equal(imps, wantImps) {
				t.Errorf("imports = %q\nwant %q", imps, wantImps)
			}
			if !slices.Equal(exps, wantExps) || exps[0] != tc.export {
				t.Errorf("exports = %q, want %q", exps, wantExps)
			}
			// wit-component output: main module, adapter, shim, fixup.
			if len(c.CoreModules) != 4 {
				t.Errorf("%d core modules, want 4", len(c.CoreModules))
			}
			for _, imp := range c.Imports {
				if imp.Type.Kind != ExternInstance {
					t.Errorf("import %q is a %s, want instance", imp.Name.Name, imp.Type.Kind)
				}
			}
			// The export is an instance made by instantiating the nested
			// component that re-exports the lifted function with nominal types.
			e := c.Exports[0]
			d, err := c.Resolve(e.Ref.Sort, e.Ref.Index)
			if err != nil || d.Origin != OriginInstance || c.Instances[d.Index].Inline {
				t.Errorf("export resolves to %+v, %v", d, err)
			}
			checkSpaces(t, c)
			var buf bytes.Buffer
			c.Dump(&buf)
			if !strings.Contains(buf.String(), "export \""+tc.export+"\"") {
				t.Errorf("dump lacks the export:\n%.2000s", buf.String())
			}
		})
	}
}

// checkSpaces checks that every index-space entry points at a definition
// that exists, and that the totals add up.
func checkSpaces(t *testing.T, c *Component) {
	t.Helper()
	lens := map[Origin]int{
		OriginImport: len(c.Imports), OriginExport: len(c.Exports), OriginAlias: len(c.Aliases),
		OriginCanon: len(c.Canons), OriginCoreModule: len(c.CoreModules),
		OriginCoreInstance: len(c.CoreInstances), OriginCoreType: len(c.CoreTypes),
		OriginType: len(c.Types), OriginComponent: len(c.Components),
		OriginInstance: len(c.Instances), OriginStart: len(c.Starts),
	}
	total := 0
	for s := Sort(0); s < numSorts; s++ {
		for i, d := range c.Space(s) {
			if d.Index >= lens[d.Origin] {
				t.Fatalf("%s %d: %+v out of range", s, i, d)
			}
		}
		total += len(c.Space(s))
	}
	if want := len(c.Imports) + len(c.Exports) + len(c.Aliases) + len(c.Canons) + len(c.CoreModules) +
		len(c.CoreInstances) + len(c.CoreTypes) + len(c.Types) + len(c.Components) + len(c.Instances); total != want {
		t.Errorf("index spaces hold %d entries, definitions %d", total, want)
	}
}

func TestJSFixtureStructure(t *testing.T) {
	c, err := Decode(fixture(t, "spin-js-http/spin-js-http.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	// core-func-imports.txt lists the distinct wasi:* functions the inner
	// modules import; each is provided by exactly one canon lower or
	// resource.drop (lift is the one export).
	want := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(fixture(t, "spin-js-http/core-func-imports.txt"))), "\n") {
		want[l] = true
	}
	var lifts, others int
	for _, cn := range c.Canons {
		if cn.Kind == CanonLift {
			lifts++
		} else {
			others++
		}
	}
	if lifts != 1 || others != len(want) || len(want) != 124 {
		t.Errorf("lifts %d, lowers+resource builtins %d, want 1 and %d", lifts, others, len(want))
	}
	got := map[string]bool{}
	for i, m := range c.CoreModules {
		imps, err := CoreImports(m.Bytes)
		if err != nil {
			t.Fatalf("module %d: %v", i, err)
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp.Module, "wasi:") && imp.Type.Kind == CoreExternFunc {
				got[`"`+imp.Module+`" "`+imp.Name+`"`] = true
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("modules import %d distinct wasi functions, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("no module imports %s", k)
		}
	}

	// The lifted handler is core func aliased from the main module's instance.
	var lift Canon
	for _, cn := range c.Canons {
		if cn.Kind == CanonLift {
			lift = cn
		}
	}
	d, err := c.Resolve(SortCoreFunc, lift.Func)
	if err != nil || d.Origin != OriginAlias {
		t.Fatalf("lift core func: %+v %v", d, err)
	}
	a := c.Aliases[d.Index]
	if a.Kind != AliasCoreInstanceExport || a.Name != "wasi:http/incoming-handler@0.2.3#handle" {
		t.Errorf("lifted alias %+v", a)
	}
	if ci := c.CoreInstances[a.Instance]; ci.Inline || ci.Module != 0 || len(c.CoreModules[0].Bytes) < 10<<20 {
		t.Errorf("handler instance %+v is not the 12 MB main module", ci)
	}
	if lift.Options.Memory != nil || lift.Options.Realloc != nil { // handle(request, response-out) passes only handles
		t.Errorf("lift options %+v", lift.Options)
	}
	exps, err := CoreExports(c.CoreModules[0].Bytes)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(exps, func(e CoreExport) bool { return e.Name == a.Name })
	if i < 0 || exps[i].Func == nil || len(exps[i].Func.Params) != 2 || len(exps[i].Func.Results) != 0 {
		t.Errorf("main module export %q: %+v", a.Name, exps)
	}
}

func TestTypesComponent(t *testing.T) {
	b, err := os.ReadFile("testdata/types.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	checkSpaces(t, c)
	it, ok := c.Types[0].Def.(*InstanceType)
	if !ok {
		t.Fatalf("type 0 is %T", c.Types[0].Def)
	}
	kinds := map[DefValKind]bool{}
	var exports []string
	for _, d := range it.Decls {
		if v, ok := d.Type.(*DefValType); ok {
			kinds[v.Kind] = true
		}
		if d.Kind == DeclExport {
			exports = append(exports, d.Name.Name)
			if d.Name.Name == "thing" && !d.Desc.SubResource {
				t.Errorf("thing is not (sub resource)")
			}
		}
	}
	for _, k := range []DefValKind{DefRecord, DefEnum, DefFlags, DefOption, DefResult, DefTuple, DefList, DefOwn, DefBorrow} {
		if !kinds[k] {
			t.Errorf("instance type has no %s", k)
		}
	}
	if want := []string{"thing", "point", "color", "perms", "[constructor]thing", "[method]thing.get", "log"}; !slices.Equal(exports, want) {
		t.Errorf("exports %q", exports)
	}
	if v, ok := c.Types[1].Def.(*DefValType); !ok || v.Kind != DefVariant || len(v.Cases) != 2 || v.Cases[0].Type.Prim != PrimF64 || v.Cases[1].Type != nil {
		t.Errorf("type 1 = %+v", c.Types[1].Def)
	}
	var kindsSeen []CanonKind
	for _, cn := range c.Canons {
		kindsSeen = append(kindsSeen, cn.Kind)
	}
	if want := []CanonKind{CanonLower, CanonResourceDrop, CanonLower, CanonLower, CanonLift}; !slices.Equal(kindsSeen, want) {
		t.Errorf("canons %v", kindsSeen)
	}
	imps, err := CoreImports(c.CoreModules[0].Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(imps) != 4 || imps[3].Name != "log" || len(imps[3].Func.Params) != 7 {
		t.Errorf("core imports %+v", imps)
	}
	exps, err := CoreExports(c.CoreModules[0].Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 3 || exps[0].Kind != CoreExternMemory || exps[0].Type.Memory.Min != 1 ||
		exps[2].Name != "run" || exps[2].Func.Params[1].Code != CoreF64 {
		t.Errorf("core exports %+v", exps)
	}
}

func TestRewriteImports(t *testing.T) {
	mod := fixture(t, "c-wasip1-command/hello.wasm")
	imps, err := CoreImports(mod)
	if err != nil {
		t.Fatal(err)
	}
	same, err := RewriteImports(mod, func(_ int, imp CoreImport) (string, string) { return imp.Module, imp.Name })
	if err != nil || !bytes.Equal(same, mod) {
		t.Fatalf("identity rewrite changed the module (err %v)", err)
	}
	out, err := RewriteImports(mod, func(i int, imp CoreImport) (string, string) {
		return "req-instance-" + imp.Module, strings.Repeat("x", i*50) // forces longer LEBs
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := CoreImports(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range imps {
		if got[i].Module != "req-instance-"+imps[i].Module || got[i].Name != strings.Repeat("x", i*50) ||
			got[i].Type != imps[i].Type {
			t.Errorf("import %d: %+v, was %+v", i, got[i], imps[i])
		}
	}
	e1, _ := CoreExports(mod)
	e2, err := CoreExports(out)
	if err != nil || len(e1) != len(e2) {
		t.Errorf("exports changed: %v", err)
	}
}

func TestCoreHelpersErrors(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm\x0d\x00\x01\x00"), []byte("\x00asm\x01\x00\x00\x00\x02\x05\x01")} {
		if _, err := CoreImports(b); err == nil {
			t.Errorf("CoreImports(% x) succeeded", b)
		}
	}
}

func TestTruncated(t *testing.T) {
	b := fixture(t, "c-wasip1-command/hello.component.wasm")
	c, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Sections {
		if _, err := Decode(b[:s.Offset+s.Size-1]); err == nil {
			t.Errorf("truncated inside section at 0x%x: no error", s.Offset)
		}
	}
	for n := 0; n < len(b); n += 97 {
		Decode(b[:n]) // must not panic
	}
}

func TestNotComponent(t *testing.T) {
	_, err := Decode(fixture(t, "c-wasip1-command/hello.wasm"))
	if !errors.Is(err, ErrNotComponent) {
		t.Errorf("core module: %v", err)
	}
	if _, err := Decode([]byte("garbage!garbage!")); err == nil {
		t.Error("garbage accepted")
	}
}
