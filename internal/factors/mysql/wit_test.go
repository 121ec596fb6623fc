package mysql

import (
	"slices"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

// TestInterfacesBind checks every host function against its WIT
// definition, and that what is left out is only what uses stream<>.
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
			if _, ok := iface.Funcs[name]; !ok && !slices.Contains([]string{"[resource-drop]connection"}, name) {
				t.Errorf("%s: %s not implemented", iface.Name, name)
			}
		}
		if iface.Name == SpinV3 {
			if !slices.Equal(wi.Unsupported, []string{"[method]connection.query"}) {
				t.Errorf("%s: unsupported = %v", iface.Name, wi.Unsupported)
			}
		} else if len(wi.Unsupported) != 0 {
			t.Errorf("%s: unsupported = %v", iface.Name, wi.Unsupported)
		}
	}
}
