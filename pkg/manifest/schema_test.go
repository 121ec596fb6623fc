package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("manifest.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("manifest.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

// tomlAsJSON converts a manifest file to the JSON value a schema validates.
func tomlAsJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaAcceptsValidManifests(t *testing.T) {
	s := compileSchema(t)
	dirs, _ := filepath.Glob("testdata/valid/*")
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if err := s.Validate(tomlAsJSON(t, filepath.Join(dir, "spin.toml"))); err != nil {
				t.Errorf("schema rejects a valid manifest: %v", err)
			}
		})
	}
}

func TestSchemaRejectsInvalidManifests(t *testing.T) {
	s := compileSchema(t)
	// Invalid manifests whose problem is a shape a schema can express.
	for _, name := range []string{
		"unknown-field-component", "unknown-field-everywhere", "wrong-types", "wrong-type-source",
		"wrong-type-source-table", "route-private-false", "bad-component-id", "version-3",
		"version-missing", "missing-application-name", "http-component-and-static",
		"variable-required-and-default", "static-response-status", "executor", "bad-labels",
		"bad-digest", "bad-variable-name", "trigger-not-array", "missing-source-and-route",
		"inline-component-errors", "route-no-slash", "mqtt-cron-errors", "redis-concurrency",
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(tomlAsJSON(t, filepath.Join("testdata/invalid", name, "spin.toml"))); err == nil {
				t.Error("schema accepts an invalid manifest")
			}
		})
	}
}

// The schema is written by hand: keep its component fields in step with
// the decoder's.
func TestSchemaComponentFields(t *testing.T) {
	want := slices.Clone(componentFields)
	slices.Sort(want)
	if got := schemaComponentFields(); !slices.Equal(got, want) {
		t.Errorf("schema component fields %v, decoder fields %v", got, want)
	}
}
