package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyEngineImportsWazero keeps the architecture visible: wazero stays
// behind this package (DESIGN.md §2), so it can be tuned or replaced in one
// place.
func TestOnlyEngineImportsWazero(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/wisp-dev/wisp/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == "github.com/wisp-dev/wisp/internal/engine" {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/tetratelabs/wazero") {
				t.Errorf("%s imports %s; only internal/engine may", fields[0], imp)
			}
		}
	}
}
