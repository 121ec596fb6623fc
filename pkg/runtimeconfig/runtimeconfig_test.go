package runtimeconfig

import (
	"strings"
	"testing"
)

func TestStrictKeyTracking(t *testing.T) {
	src := `
[key_value_store.default]
type = "spin"
path = "kv.db"

[sqlite_databse.default]
type = "spin"
`
	c, err := Parse([]byte(src), "rc.toml")
	if err != nil {
		t.Fatal(err)
	}
	v, ok := c.Take("key_value_store")
	if !ok {
		t.Fatal("key_value_store not found")
	}
	kv := v.(map[string]any)["default"].(map[string]any)
	if kv["path"] != "kv.db" {
		t.Fatalf("path = %v", kv["path"])
	}
	err = c.CheckAllTaken()
	if err == nil || !strings.Contains(err.Error(), `unknown section "sqlite_databse"`) {
		t.Fatalf("want unknown-section error for the typo, got %v", err)
	}
	if strings.Contains(err.Error(), "key_value_store\" is not") {
		t.Fatalf("taken section reported: %v", err)
	}
}

func TestKnownButUnsupported(t *testing.T) {
	c, err := Parse([]byte("[llm_compute]\ntype = \"spin\"\n"), "rc.toml")
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckAllTaken()
	if err == nil || !strings.Contains(err.Error(), `section "llm_compute" is not supported yet`) {
		t.Fatalf("got %v", err)
	}
}

func TestSyntaxErrorHasPosition(t *testing.T) {
	_, err := Parse([]byte("a = 1\nb = = 2\n"), "rc.toml")
	if err == nil || !strings.HasPrefix(err.Error(), "rc.toml:2:") {
		t.Fatalf("want rc.toml:2:col error, got %v", err)
	}
}

func TestEmpty(t *testing.T) {
	if err := Empty().CheckAllTaken(); err != nil {
		t.Fatal(err)
	}
}
