package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	fvars "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestFactorsComposed checks the factor set exactly as wisp up composes
// it: every interface binds in one Host, and factors see each other's
// effects (a variable rendered into a key-value key).
func TestFactorsComposed(t *testing.T) {
	set, err := factors(map[string]string{"prefix": "p-"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newHost(set); err != nil {
		t.Fatalf("interfaces do not bind together: %v", err)
	}
	app := factortest.NewApp(lockedapp.Component{
		ID:             "web",
		KeyValueStores: []string{"default"},
		Variables:      map[string]string{"key_prefix": "{{ prefix }}"},
	})
	app.Variables = map[string]lockedapp.Variable{"prefix": {Required: true}}
	fapp, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, app, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer fapp.Close()
	ctx, err := fapp.Prepare(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	ifaces := set.Interfaces()
	prefix := factortest.Call(t, ctx, ifaces, fvars.SpinV3, "get", "key_prefix")[0].(cabi.Result).Value.(string)
	s := factortest.Call(t, ctx, ifaces, keyvalue.FermyonV2, "[static]store.open", "default")[0].(cabi.Result).Value
	factortest.Call(t, ctx, ifaces, keyvalue.FermyonV2, "[method]store.set", s, prefix+"k", []byte("v"))
	keys := factortest.Call(t, ctx, ifaces, keyvalue.FermyonV2, "[method]store.get-keys", s)[0].(cabi.Result).Value.([]any)
	if len(keys) != 1 || keys[0] != "p-k" {
		t.Fatalf("keys = %v", keys)
	}
}

// TestFactorsDoctor is what wisp doctor runs: validation only, nothing
// opened, and a runtime-config section no factor takes is an error.
func TestFactorsDoctor(t *testing.T) {
	set, err := factors(nil)
	if err != nil {
		t.Fatal(err)
	}
	app := factortest.NewApp(lockedapp.Component{ID: "web", KeyValueStores: []string{"cache"}, SQLiteDatabases: []string{"default"}})
	dir := t.TempDir()
	rc := filepath.Join(dir, "runtime-config.toml")
	write := func(s string) {
		if err := os.WriteFile(rc, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An unreachable Redis is not contacted when only validating.
	write("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n[outbound_networking]\nblock_networks = [\"private\"]\n")
	fapp, err := configureFactors(context.Background(), set, app, dir, rc, true)
	if err != nil {
		t.Fatalf("validation failed or opened the redis store: %v", err)
	}
	fapp.Close()

	write("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n[no_such_section]\nx = 1\n")
	_, err = configureFactors(context.Background(), set, app, dir, rc, true)
	if err == nil || !strings.Contains(err.Error(), "no_such_section") {
		t.Fatalf("untaken section: err = %v", err)
	}
}
