// Package factors_test checks the factors together, as cmd/wisp composes
// them.
package factors_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	fvars "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

func newSet(t *testing.T) *factor.Set {
	set, err := factor.NewSet(
		fvars.New(variables.Static(map[string]string{"prefix": "p-"})),
		keyvalue.New(),
	)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestComposed(t *testing.T) {
	set := newSet(t)
	if _, err := component.NewHost(set.Interfaces()...); err != nil {
		t.Fatalf("interfaces do not bind together: %v", err)
	}
	app := factortest.NewApp(lockedapp.Component{
		ID:             "web",
		KeyValueStores: []string{"default"},
		Variables:      map[string]string{"key_prefix": "{{ prefix }}"},
	})
	app.Variables = map[string]lockedapp.Variable{"prefix": {Required: true}}
	ac := factortest.NewAppContext(t, app, "")
	fapp, err := set.ConfigureApp(context.Background(), ac)
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

// TestDoctor is what wisp doctor runs: validation only, every problem of
// every factor surfaced, nothing opened.
func TestDoctor(t *testing.T) {
	app := factortest.NewApp(lockedapp.Component{ID: "web", KeyValueStores: []string{"cache"}})
	ac := factortest.NewAppContext(t, app, "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n")
	ac.ValidateOnly = true
	fapp, err := newSet(t).ConfigureApp(context.Background(), ac)
	if err != nil {
		t.Fatalf("validation opened the redis store: %v", err)
	}
	fapp.Close()

	ac = factortest.NewAppContext(t, app, "[outbound_networking]\nx = 1\n")
	ac.ValidateOnly = true
	_, err = newSet(t).ConfigureApp(context.Background(), ac)
	if err == nil || !strings.Contains(err.Error(), `component "web": key-value store "cache" is not defined`) {
		t.Fatalf("err = %v", err)
	}
}
