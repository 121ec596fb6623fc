package manifest

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/valid and testdata/invalid")

// TestValidManifests parses each testdata/valid/<name>/spin.toml and compares
// the normalised manifest, as JSON, with expected.json.
func TestValidManifests(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/valid/*")
	if len(dirs) == 0 {
		t.Fatal("no valid manifests found")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			m.Path = "spin.toml" // keep the golden files independent of the checkout
			got, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden(t, filepath.Join(dir, "expected.json"), got)
		})
	}
}

// TestInvalidManifests parses each testdata/invalid/<name>/spin.toml and
// compares the error text with error.txt.
func TestInvalidManifests(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/invalid/*")
	if len(dirs) == 0 {
		t.Fatal("no invalid manifests found")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, "spin.toml"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data, "spin.toml")
			if err == nil {
				t.Fatal("Parse succeeded; want an error")
			}
			if _, ok := err.(Errors); !ok {
				t.Errorf("error is %T, want Errors", err)
			}
			golden(t, filepath.Join(dir, "error.txt"), []byte(err.Error()+"\n"))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
