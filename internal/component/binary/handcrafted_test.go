package binary

import (
	"strings"
	"testing"
)

// A tiny test-only encoder: enough to hand-build one section of each kind.

func leb(v uint32) []byte { return appendU32(nil, v) }

func str(s string) []byte { return appendName(nil, s) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func vecOf(items ...[]byte) []byte { return cat(leb(uint32(len(items))), cat(items...)) }

func section(id byte, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat([]byte{id}, leb(uint32(len(p))), p)
}

func component(sections ...[]byte) []byte {
	return cat([]byte{0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00}, cat(sections...))
}

// coreModule is a minimal core module exporting memory "mem" and func "f".
var coreModuleBytes = cat([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00},
	section(1, vecOf([]byte{0x60, 0x01, 0x7f, 0x00})), // type 0: (i32) -> ()
	section(3, vecOf([]byte{0x00})),                   // func 0: type 0
	section(5, vecOf([]byte{0x00, 0x01})),             // memory 0: min 1
	section(7, vecOf(cat(str("mem"), []byte{0x02, 0x00}), cat(str("f"), []byte{0x00, 0x00}))),
	section(10, vecOf([]byte{0x02, 0x00, 0x0b})), // code: empty body
)

func TestHandcrafted(t *testing.T) {
	modSec := section(1, coreModuleBytes)
	inst := section(2, vecOf([]byte{0x00, 0x00, 0x00})) // instantiate module 0, no args
	aliasF := section(6, vecOf(cat([]byte{0x00, 0x00, 0x01, 0x00}, str("f"))))
	aliasMem := section(6, vecOf(cat([]byte{0x00, 0x02, 0x01, 0x00}, str("mem"))))
	funcType := section(7, vecOf(cat([]byte{0x40}, vecOf(cat(str("x"), []byte{0x79})), []byte{0x01, 0x00})))
	lift := section(8, vecOf([]byte{0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00})) // lift core func 0 (utf8, memory 0) type 0
	export := section(11, vecOf(cat([]byte{0x00}, str("run"), []byte{0x01, 0x00, 0x00})))
	valid := component(modSec, inst, aliasF, aliasMem, funcType, lift, export,
		section(0, str("hello"), []byte("data")))

	c, err := Decode(valid)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CoreModules) != 1 || len(c.CoreInstances) != 1 || len(c.Aliases) != 2 || len(c.Canons) != 1 ||
		len(c.Exports) != 1 || c.Customs[0].Name != "hello" || string(c.Customs[0].Data) != "data" {
		t.Fatalf("decoded %+v", c)
	}
	if d, _ := c.Resolve(SortCoreFunc, 0); d != (Def{OriginAlias, 0}) {
		t.Errorf("core func 0 = %+v", d)
	}
	if d, _ := c.Resolve(SortFunc, 1); d != (Def{OriginExport, 0}) {
		t.Errorf("func 1 = %+v", d)
	}
	if m := c.Canons[0].Options.Memory; m == nil || *m != 0 {
		t.Errorf("lift options %+v", c.Canons[0].Options)
	}
	checkSpaces(t, c)

	nested := component(section(10, vecOf(cat([]byte{0x00}, str("x"), []byte{0x03, 0x01}))),
		section(6, vecOf(cat([]byte{0x00, 0x11, 0x02}, leb(1), leb(0))))) // outer alias of the parent's module 0

	for _, tc := range []struct {
		name string
		bin  []byte
		want string // substring of the error; "" means success
	}{
		{"nested component with outer alias", component(modSec, section(4, nested),
			section(5, vecOf(cat([]byte{0x00, 0x00}, vecOf())))), ""},
		{"module index out of range", component(modSec, section(2, vecOf([]byte{0x00, 0x00, 0x00}, []byte{0x00, 0x09, 0x00}))),
			"section 2 (core instance) at offset 0x"},
		{"module index message", component(modSec, section(2, vecOf([]byte{0x00, 0x00, 0x00}, []byte{0x00, 0x09, 0x00}))),
			"core instance entry 1: module index 9 out of range (1 core modules)"},
		{"unknown defined type", component(section(7, vecOf([]byte{0x55}))), "section 7 (type) at offset 0xb: type entry 0: unknown defined type 0x55"},
		{"value section", component(section(12, vecOf())), "value sections not supported"},
		{"unknown section", component(section(13)), "unknown section id 0x0d"},
		{"async option", component(modSec, inst, aliasF, funcType,
			section(8, vecOf([]byte{0x00, 0x00, 0x00, 0x01, 0x06, 0x00}))), "unsupported canonical option async"},
		{"task.return", component(section(8, vecOf([]byte{0x09, 0x01, 0x00, 0x00}))), "unsupported canonical builtin 0x09 (task.return)"},
		{"lower of missing func", component(section(8, vecOf([]byte{0x01, 0x00, 0x00, 0x00}))), "func index 0 out of range (0 funcs)"},
		{"outer alias too far", component(section(6, vecOf(cat([]byte{0x03, 0x02}, leb(1), leb(0))))), "outer alias count 1 exceeds"},
		{"resource with dtor", component(modSec, inst, aliasF, section(7, vecOf([]byte{0x3f, 0x7f, 0x01, 0x00}))), ""},
		{"resource dtor out of range", component(section(7, vecOf([]byte{0x3f, 0x7f, 0x01, 0x00}))), "destructor core func index 0 out of range"},
		{"own of missing type", component(section(7, vecOf([]byte{0x69, 0x05}))), "resource type index 5 out of range"},
		{"defined types", component(section(7, vecOf(
			cat([]byte{0x72}, vecOf(cat(str("a"), []byte{0x7f}))),             // 0 record
			cat([]byte{0x71}, vecOf(cat(str("c"), []byte{0x01, 0x00, 0x00}))), // 1 variant c(type 0)
			[]byte{0x70, 0x73},                           // 2 list<string>
			[]byte{0x6f, 0x02, 0x7d, 0x01},               // 3 tuple<u8, type 1>
			cat([]byte{0x6e}, vecOf(str("r"), str("w"))), // 4 flags
			cat([]byte{0x6d}, vecOf(str("x"))),           // 5 enum
			[]byte{0x6b, 0x74},                           // 6 option<char>
			[]byte{0x6a, 0x01, 0x73, 0x00},               // 7 result<string>
			[]byte{0x3f, 0x7f, 0x00},                     // 8 resource
			[]byte{0x69, 0x08}, []byte{0x68, 0x08},       // 9 own, 10 borrow
			cat([]byte{0x42}, vecOf(cat([]byte{0x04, 0x00}, str("r"), []byte{0x03, 0x01}))), // 11 instance type exporting a resource
			cat([]byte{0x41}, vecOf(cat([]byte{0x03, 0x00}, str("i"), []byte{0x05, 0x00}))), // 12 component type importing instance... of type 0 in its own (empty) scope
		))), "type entry 12: type index 0 out of range (0 types)"},
		{"core module type", component(section(3, vecOf(
			[]byte{0x60, 0x00, 0x00},
			cat([]byte{0x50}, vecOf(
				cat([]byte{0x02, 0x10, 0x01}, leb(1), leb(0)),               // alias outer core type 0
				cat([]byte{0x00}, str("env"), str("f"), []byte{0x00, 0x00}), // import func type 0
				cat([]byte{0x03}, str("memory"), []byte{0x02, 0x00, 0x01}),  // export memory
			)),
		)), section(10, vecOf(cat([]byte{0x00}, str("m"), []byte{0x00, 0x11, 0x01})))), ""},
		{"bad name discriminator", component(section(10, vecOf(cat([]byte{0x07}, str("m"), []byte{0x03, 0x01})))), "unknown extern name discriminator 0x07"},
		{"name attributes", component(section(10, vecOf(cat([]byte{0x02}, str("a:b/c@1.2"), vecOf(cat([]byte{0x01}, str(".3"))), []byte{0x03, 0x01})))), ""},
		{"trailing bytes", component(section(7, vecOf([]byte{0x73}), []byte{0x00})), "1 trailing bytes"},
		{"huge count", component(section(7, leb(0xffffffff))), "type count 4294967295 larger than"},
		{"core module", coreModuleBytes, "not a component"},
		{"bad core module", component(section(1, []byte("notwasm!"))), "core wasm preamble"},
		{"export of core func", component(modSec, inst, aliasF, section(11, vecOf(cat([]byte{0x00}, str("x"), []byte{0x00, 0x00, 0x00, 0x00})))), "only core modules"},
		{"start", component(modSec, inst, aliasF, aliasMem, funcType, lift, section(9, leb(0), vecOf(), leb(0))), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Decode(tc.bin)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkSpaces(t, c)
				c.Dump(&strings.Builder{})
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "component binary: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}
