package redis

import (
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

// TestInterfacesBind checks every host function against its WIT
// definition and that nothing is left out.
func TestInterfacesBind(t *testing.T) {
	ifaces := New().Interfaces()
	if _, err := component.NewHost(ifaces...); err != nil {
		t.Fatal(err)
	}
	for _, iface := range ifaces {
		wi, ok := wit.Builtin().LookupInterface(iface.Name)
		if !ok {
			t.Fatalf("no WIT for %s", iface.Name)
		}
		for name := range wi.Funcs {
			if _, ok := iface.Funcs[name]; !ok && name != "[resource-drop]connection" {
				t.Errorf("%s: %s not implemented", iface.Name, name)
			}
		}
		if len(wi.Unsupported) != 0 {
			t.Errorf("%s: unsupported functions %v", iface.Name, wi.Unsupported)
		}
	}
}
