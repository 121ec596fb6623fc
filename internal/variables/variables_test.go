package variables

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

const secretValue = "s3cr3t-value"

func ptr(s string) *string { return &s }

func testApp() *lockedapp.LockedApp {
	return &lockedapp.LockedApp{
		Variables: map[string]lockedapp.Variable{
			"api_host": {Default: ptr("api.example.com")},
			"api_key":  {Required: true, Secret: true},
			"region":   {Default: ptr("eu")},
		},
		Components: []lockedapp.Component{{
			ID: "web",
			Variables: map[string]string{
				"token":    "Bearer {{ api_key }}",
				"endpoint": "https://{{api_host}}/{{ region }}",
				"literal":  "plain",
			},
		}, {ID: "bare"}},
	}
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

type failing struct{}

func (failing) Get(context.Context, string) (string, bool, error) {
	return "", false, errors.New("vault unreachable")
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		providers []Provider
		variable  string
		want      string
		wantErr   error
		errText   string
	}{
		{name: "default", variable: "api_host", want: "api.example.com"},
		{name: "static overrides default", providers: []Provider{Static(map[string]string{"api_host": "h"})}, variable: "api_host", want: "h"},
		{
			name:      "first provider wins",
			providers: []Provider{Static(map[string]string{"region": "us"}), Env(DefaultEnvPrefix, mapLookup(map[string]string{"SPIN_VARIABLE_REGION": "ap"}))},
			variable:  "region", want: "us",
		},
		{
			name:      "falls through to later provider",
			providers: []Provider{Static(nil), Env(DefaultEnvPrefix, mapLookup(map[string]string{"SPIN_VARIABLE_API_KEY": "k"}))},
			variable:  "api_key", want: "k",
		},
		{name: "env prefix without underscore", providers: []Provider{Env("MYAPP", mapLookup(map[string]string{"MYAPP_API_KEY": "k"}))}, variable: "api_key", want: "k"},
		{name: "empty value counts", providers: []Provider{Static(map[string]string{"api_key": ""})}, variable: "api_key", want: ""},
		{
			name: "required without value", variable: "api_key", wantErr: ErrNoValue,
			errText: `variable "api_key" is required but has no value: set it with --variable api_key=... or SPIN_VARIABLE_API_KEY`,
		},
		{name: "undeclared", variable: "nope", wantErr: ErrUndefined, errText: `no application variable "nope"`},
		{name: "provider error", providers: []Provider{failing{}}, variable: "api_host", errText: `variable "api_host": provider failed: vault unreachable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewResolver(testApp(), tt.providers...).Get(ctx, tt.variable)
			checkErr(t, err, tt.wantErr, tt.errText)
			if err == nil && got != tt.want {
				t.Errorf("Get(%q) = %q, want %q", tt.variable, got, tt.want)
			}
		})
	}
}

func checkErr(t *testing.T, err, wantErr error, errText string) {
	t.Helper()
	if wantErr == nil && errText == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", errText)
	}
	if wantErr != nil && !errors.Is(err, wantErr) {
		t.Errorf("error %v is not %v", err, wantErr)
	}
	if !strings.Contains(err.Error(), errText) {
		t.Errorf("error %q does not contain %q", err, errText)
	}
	if strings.Contains(err.Error(), secretValue) {
		t.Errorf("error %q leaks a secret value", err)
	}
}

func TestComponentVariable(t *testing.T) {
	ctx := context.Background()
	withKey := Static(map[string]string{"api_key": secretValue})
	tests := []struct {
		name, component, variable string
		providers                 []Provider
		want                      string
		wantErr                   error
		errText                   string
	}{
		{name: "rendered", component: "web", variable: "token", providers: []Provider{withKey}, want: "Bearer " + secretValue},
		{name: "two expressions", component: "web", variable: "endpoint", want: "https://api.example.com/eu"},
		{name: "literal", component: "web", variable: "literal", want: "plain"},
		{name: "missing app value", component: "web", variable: "token", wantErr: ErrNoValue, errText: `component "web": variable "token": variable has no value: variable "api_key" is required`},
		{name: "undefined component variable", component: "bare", variable: "token", wantErr: ErrUndefined, errText: `component "bare" has no variable "token"`},
		{name: "unknown component", component: "ghost", variable: "token", wantErr: ErrUndefined, errText: `no component "ghost"`},
		{name: "invalid name", component: "web", variable: "Token", wantErr: ErrInvalidName, errText: `"Token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewResolver(testApp(), tt.providers...).ComponentVariable(ctx, tt.component, tt.variable)
			checkErr(t, err, tt.wantErr, tt.errText)
			if err == nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResolveTemplate(t *testing.T) {
	ctx := context.Background()
	r := NewResolver(testApp(), Static(map[string]string{"api_key": secretValue}))
	tests := []struct {
		name, component, tmpl, want string
		wantErr                     error
		errText                     string
	}{
		{name: "app variable", component: "web", tmpl: "https://{{ api_host }}", want: "https://api.example.com"},
		{name: "no expressions", component: "bare", tmpl: "redis://*:6379", want: "redis://*:6379"},
		{name: "undeclared", component: "web", tmpl: "https://{{ nope }}", wantErr: ErrUndefined, errText: `template refers to "nope"`},
		{name: "unmatched", component: "web", tmpl: "https://{{ api_host", errText: "unmatched '{{'"},
		{name: "unknown component", component: "ghost", tmpl: "x", wantErr: ErrUndefined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.ResolveTemplate(ctx, tt.component, tt.tmpl)
			checkErr(t, err, tt.wantErr, tt.errText)
			if err == nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		app       func() *lockedapp.LockedApp
		providers []Provider
		errText   []string // every line expected; none means valid
	}{
		{name: "all resolvable", app: testApp, providers: []Provider{Static(map[string]string{"api_key": secretValue})}},
		{name: "from env", app: testApp, providers: []Provider{Env(DefaultEnvPrefix, mapLookup(map[string]string{"SPIN_VARIABLE_API_KEY": secretValue}))}},
		{
			name: "missing required", app: testApp,
			errText: []string{`variable "api_key" is required but has no value: set it with --variable api_key=... or SPIN_VARIABLE_API_KEY`},
		},
		{
			name: "no default means required",
			app: func() *lockedapp.LockedApp {
				a := testApp()
				a.Variables["mode"] = lockedapp.Variable{}
				return a
			},
			providers: []Provider{Static(map[string]string{"api_key": "k"})},
			errText:   []string{`variable "mode" is required`},
		},
		{
			name: "every problem reported",
			app: func() *lockedapp.LockedApp {
				a := testApp()
				a.Variables["mode"] = lockedapp.Variable{Required: true}
				a.Components[1].Variables = map[string]string{"x": "{{ missing }}"}
				return a
			},
			errText: []string{`"api_key" is required`, `"mode" is required`, `component "bare": variable "x": undefined variable: template refers to "missing"`},
		},
		{name: "provider failure", app: testApp, providers: []Provider{failing{}}, errText: []string{"vault unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewResolver(tt.app(), tt.providers...).Validate(ctx)
			if len(tt.errText) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.errText)
			}
			if lines := strings.Split(err.Error(), "\n"); len(lines) != len(tt.errText) {
				t.Errorf("got %d error lines, want %d:\n%v", len(lines), len(tt.errText), err)
			}
			for _, s := range tt.errText {
				checkErr(t, err, nil, s)
			}
		})
	}
}

func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, ".env")
	content := strings.Join([]string{
		"# comment",
		"",
		"SPIN_VARIABLE_API_KEY=plain value # trailing comment",
		"export SPIN_VARIABLE_REGION='single # not a comment'",
		`SPIN_VARIABLE_API_HOST="double \"quoted\"\nline"`,
		"SPIN_VARIABLE_EMPTY=",
		"SPIN_VARIABLE_URL=https://x/#frag",
	}, "\n")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDotEnv(file)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SPIN_VARIABLE_API_KEY":  "plain value",
		"SPIN_VARIABLE_REGION":   "single # not a comment",
		"SPIN_VARIABLE_API_HOST": "double \"quoted\"\nline",
		"SPIN_VARIABLE_EMPTY":    "",
		"SPIN_VARIABLE_URL":      "https://x/#frag",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadDotEnv = %q, want %q", got, want)
	}

	p, err := DotEnv(DefaultEnvPrefix, file)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := p.Get(context.Background(), "api_key"); !ok || v != "plain value" {
		t.Errorf("DotEnv api_key = %q, %v", v, ok)
	}

	if p, err := DotEnv(DefaultEnvPrefix, filepath.Join(dir, "missing.env")); err != nil {
		t.Errorf("missing .env: %v", err)
	} else if _, ok, _ := p.Get(context.Background(), "api_key"); ok {
		t.Error("missing .env has values")
	}

	for _, bad := range []string{"NOVALUE", `K="unterminated ` + secretValue, "K='x' junk"} {
		os.WriteFile(file, []byte("A=1\n"+bad), 0o600)
		_, err := ReadDotEnv(file)
		if err == nil || !strings.Contains(err.Error(), ":2:") || strings.Contains(err.Error(), secretValue) {
			t.Errorf("ReadDotEnv(%q) error = %v, want a line-2 error without the value", bad, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, ok := range map[string]bool{
		"api_key": true, "a1": true, "a": true,
		"": false, "Api": false, "1a": false, "_a": false, "a_": false, "a__b": false, "a-b": false,
	} {
		if err := ValidName(name); (err == nil) != ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

// TestConcurrentUse is a hammer for the race detector: a Resolver is
// shared by every request of an app.
func TestConcurrentUse(t *testing.T) {
	r := NewResolver(testApp(), Static(map[string]string{"api_key": "k"}))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				if v, err := r.ComponentVariable(context.Background(), "web", "token"); err != nil || v != "Bearer k" {
					t.Errorf("got %q, %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
