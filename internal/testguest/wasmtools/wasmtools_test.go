package wasmtools

import (
	"os"
	"testing"
)

func TestComponent(t *testing.T) {
	const wit = `package wisp:test;
world adder {
  export add: func(a: u32, b: u32) -> u32;
}
`
	const wat = `(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
)`
	path := Component(t, wit, "adder", wat)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A component's preamble: magic, version 0x0d, layer 1.
	want := []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}
	if len(b) < 8 || string(b[:8]) != string(want) {
		t.Fatalf("not a component: % x", b[:min(8, len(b))])
	}
	wit2 := Run(t, dirOf(path), "component", "wit", "/"+baseOf(path))
	if !contains(string(wit2), "export add: func(a: u32, b: u32) -> u32;") {
		t.Fatalf("round-tripped WIT:\n%s", wit2)
	}
}
