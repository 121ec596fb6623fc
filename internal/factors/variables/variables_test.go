package variables_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	fv "github.com/wisp-dev/wisp/internal/factors/variables"
	vars "github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

func ptr(s string) *string { return &s }

const secret = "s3cr3t-value"

func testApp() *lockedapp.LockedApp {
	app := factortest.NewApp(
		lockedapp.Component{ID: "a", Variables: map[string]string{
			"greeting": "hello {{ who }}",
			"token":    "Bearer {{ api_key }}",
			"broken":   "{{ flaky }}",
		}},
		lockedapp.Component{ID: "b", Variables: map[string]string{"only_b": "b"}},
	)
	app.Variables = map[string]lockedapp.Variable{
		"who":     {Default: ptr("world")},
		"api_key": {Required: true, Secret: true},
		"flaky":   {Default: ptr("x")},
	}
	return app
}

type failing struct{}

func (failing) Get(_ context.Context, name string) (string, bool, error) {
	if name == "flaky" {
		return "", false, errors.New("backend unreachable")
	}
	return "", false, nil
}

func configure(t *testing.T, providers ...vars.Provider) (*factor.App, *fv.Factor) {
	f := fv.New(providers)
	ac := factortest.NewAppContext(t, testApp(), "")
	return factortest.Configure(t, ac, f), f
}

func TestGet(t *testing.T) {
	app, f := configure(t, vars.Static(map[string]string{"api_key": secret}),
		vars.Env(vars.DefaultEnvPrefix, func(string) (string, bool) { return "", false }))
	ifaces := f.Interfaces()
	ctxA := factortest.Prepare(t, app, "a")
	ctxB := factortest.Prepare(t, app, "b")
	for _, iface := range []string{fv.SpinV3, fv.FermyonV2} {
		tests := []struct {
			ctx  context.Context
			name string
			want cabi.Result
		}{
			{ctxA, "greeting", cabi.Ok("hello world")},
			{ctxA, "token", cabi.Ok("Bearer " + secret)},
			{ctxA, "only_b", cabi.Err(cabi.Variant{Case: 1})},
			{ctxB, "greeting", cabi.Err(cabi.Variant{Case: 1})},
			{ctxB, "only_b", cabi.Ok("b")},
			{ctxA, "Bad-Name", cabi.Err(cabi.Variant{Case: 0})},
		}
		for _, tt := range tests {
			res := factortest.Call(t, tt.ctx, ifaces, iface, "get", tt.name)[0].(cabi.Result)
			if res.IsErr != tt.want.IsErr {
				t.Fatalf("%s get(%q) = %#v, want %#v", iface, tt.name, res, tt.want)
			}
			if !res.IsErr {
				if res.Value != tt.want.Value {
					t.Errorf("%s get(%q) = %q, want %q", iface, tt.name, res.Value, tt.want.Value)
				}
				continue
			}
			v := res.Value.(cabi.Variant)
			if v.Case != tt.want.Value.(cabi.Variant).Case {
				t.Errorf("%s get(%q): error case %d (%v), want %d", iface, tt.name, v.Case, v.Value, tt.want.Value.(cabi.Variant).Case)
			}
			if s, _ := v.Value.(string); strings.Contains(s, secret) {
				t.Errorf("error leaks the secret: %s", s)
			}
		}
	}
}

func TestProviderError(t *testing.T) {
	f := fv.New([]vars.Provider{vars.Static(map[string]string{"api_key": secret}), failing{}})
	ac := factortest.NewAppContext(t, testApp(), "")
	// Validate does not consult providers for variables with defaults, so
	// the failing provider only shows at call time.
	app := factortest.Configure(t, ac, f)
	ctx := factortest.Prepare(t, app, "a")
	res := factortest.Call(t, ctx, f.Interfaces(), fv.SpinV3, "get", "broken")[0].(cabi.Result)
	if !res.IsErr || res.Value.(cabi.Variant).Case != 2 {
		t.Fatalf("get(broken) = %#v, want provider error", res)
	}
	cfg := factortest.Call(t, ctx, f.Interfaces(), fv.WASIConfig, "get", "broken")[0].(cabi.Result)
	if !cfg.IsErr || cfg.Value.(cabi.Variant).Case != 0 {
		t.Fatalf("wasi:config get(broken) = %#v, want upstream error", cfg)
	}
}

func TestMissingRequired(t *testing.T) {
	ac := factortest.NewAppContext(t, testApp(), "")
	set, err := factor.NewSet(fv.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = set.ConfigureApp(context.Background(), ac)
	if err == nil || !strings.Contains(err.Error(), `"api_key"`) {
		t.Fatalf("err = %v, want api_key has no value", err)
	}
}

func TestWASIConfig(t *testing.T) {
	app, f := configure(t, vars.Static(map[string]string{"api_key": secret}))
	ctx := factortest.Prepare(t, app, "a")
	ifaces := f.Interfaces()
	got := factortest.Call(t, ctx, ifaces, fv.WASIConfig, "get", "greeting")[0].(cabi.Result)
	if got.IsErr || got.Value != cabi.Some("hello world") {
		t.Errorf("get(greeting) = %#v", got)
	}
	for _, name := range []string{"only_b", "Not-Valid"} {
		got := factortest.Call(t, ctx, ifaces, fv.WASIConfig, "get", name)[0].(cabi.Result)
		if got.IsErr || got.Value != cabi.None {
			t.Errorf("get(%q) = %#v, want ok(none)", name, got)
		}
	}
	ctxB := factortest.Prepare(t, app, "b")
	all := factortest.Call(t, ctxB, ifaces, fv.WASIConfig, "get-all")[0].(cabi.Result)
	list := all.Value.([]any)
	if all.IsErr || len(list) != 1 || list[0].([]any)[0] != "only_b" || list[0].([]any)[1] != "b" {
		t.Errorf("get-all for b = %#v", all)
	}
	allA := factortest.Call(t, ctx, ifaces, fv.WASIConfig, "get-all")[0].(cabi.Result)
	if allA.IsErr || len(allA.Value.([]any)) != 3 {
		t.Errorf("get-all for a = %#v", allA)
	}
}

func TestNotPrepared(t *testing.T) {
	f := fv.New(nil)
	if _, err := factortest.TryCall(t, context.Background(), f.Interfaces(), fv.SpinV3, "get", "x"); err == nil {
		t.Fatal("want a trap without Prepare")
	}
}

func TestUnknownComponent(t *testing.T) {
	app, _ := configure(t, vars.Static(map[string]string{"api_key": secret}))
	if _, err := app.Prepare(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("err = %v", err)
	}
}
