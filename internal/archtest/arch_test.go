// Package archtest keeps the architecture visible in DESIGN.md true: it
// fails when a package grows a forbidden import edge.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/wisp-dev/wisp"

type pkg struct {
	ImportPath string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func TestImportRules(t *testing.T) {
	rules := []struct {
		why     string
		applies func(importer string) bool
		denied  func(imported string) bool
	}{
		{
			why:     "only internal/engine may import wazero",
			applies: func(p string) bool { return p != module+"/internal/engine" },
			denied:  func(i string) bool { return strings.HasPrefix(i, "github.com/tetratelabs/wazero") },
		},
		{
			why:     "pkg/ is public API and must not depend on internal/ or cmd/",
			applies: func(p string) bool { return strings.HasPrefix(p, module+"/pkg/") },
			denied: func(i string) bool {
				return strings.HasPrefix(i, module+"/internal/") || strings.HasPrefix(i, module+"/cmd/")
			},
		},
		{
			why:     "cmd/ is the only composition root: nothing imports it",
			applies: func(p string) bool { return !strings.HasPrefix(p, module+"/cmd/") },
			denied:  func(i string) bool { return strings.HasPrefix(i, module+"/cmd/") },
		},
		{
			why:     "the engine knows nothing of manifests, apps or triggers",
			applies: func(p string) bool { return strings.HasPrefix(p, module+"/internal/engine") },
			denied: func(i string) bool {
				return strings.HasPrefix(i, module+"/") && !strings.HasPrefix(i, module+"/internal/engine")
			},
		},
		{
			why:     "triggers never import a concrete factor",
			applies: func(p string) bool { return strings.HasPrefix(p, module+"/internal/trigger") },
			denied:  func(i string) bool { return strings.HasPrefix(i, module+"/internal/factors/") },
		},
	}
	for _, p := range listPackages(t) {
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			for _, imp := range p.Imports {
				if r.denied(imp) {
					t.Errorf("%s imports %s: %s", p.ImportPath, imp, r.why)
				}
			}
		}
	}
}
