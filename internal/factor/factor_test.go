package factor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
)

// fake is a factor that records its lifecycle in log.
type fake struct {
	name    string
	deps    []string
	section string // runtime-config section it takes
	fail    bool
	log     *[]string
}

func (f *fake) Name() string                      { return f.name }
func (f *fake) Deps() []string                    { return f.deps }
func (f *fake) Interfaces() []component.Interface { return nil }

type fakeState struct {
	f       *fake
	fromDep string
}

type key string

func (f *fake) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	*f.log = append(*f.log, "configure "+f.name)
	if f.section != "" {
		ac.RuntimeConfig.Take(f.section)
	}
	if f.fail {
		return nil, errors.New("boom")
	}
	s := &fakeState{f: f}
	for _, d := range f.deps {
		st, ok := ac.Lookup(d)
		if !ok {
			return nil, errors.New("missing dep " + d)
		}
		s.fromDep = st.(*fakeState).f.name // typed lookup
	}
	return s, nil
}

func (s *fakeState) Prepare(ctx context.Context, id string) (context.Context, error) {
	*s.f.log = append(*s.f.log, "prepare "+s.f.name+" "+id)
	if id == "bad" {
		return nil, errors.New("no such component")
	}
	return context.WithValue(ctx, key(s.f.name), s.fromDep), nil
}

func (s *fakeState) Close() error {
	*s.f.log = append(*s.f.log, "close "+s.f.name)
	return nil
}

func TestLifecycle(t *testing.T) {
	var log []string
	a := &fake{name: "a", section: "key_value_store", log: &log}
	b := &fake{name: "b", deps: []string{"a"}, log: &log}
	set, err := factor.NewSet(a, b)
	if err != nil {
		t.Fatal(err)
	}
	ac := factortest.NewAppContext(t, factortest.NewApp(), "[key_value_store.x]\ntype = \"spin\"\n")
	app, err := set.ConfigureApp(context.Background(), ac)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := app.Prepare(context.Background(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got := ctx.Value(key("b")); got != "a" {
		t.Errorf("b's state from its dependency = %v", got)
	}
	if _, err := app.Prepare(context.Background(), "bad"); err == nil || !strings.Contains(err.Error(), `a: component "bad"`) {
		t.Errorf("Prepare error = %v", err)
	}
	if st, ok := app.State("b"); !ok || st.(*fakeState).fromDep != "a" {
		t.Errorf("State(b) = %v %v", st, ok)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	want := "configure a,configure b,prepare a c1,prepare b c1,prepare a bad,close b,close a"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("lifecycle:\n got %s\nwant %s", got, want)
	}
}

func TestConfigureFailureClosesPartial(t *testing.T) {
	var log []string
	set, _ := factor.NewSet(&fake{name: "a", log: &log}, &fake{name: "b", fail: true, log: &log})
	_, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, factortest.NewApp(), ""))
	if err == nil || err.Error() != "b: boom" {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(log, ","); got != "configure a,configure b,close a" {
		t.Errorf("log = %s", got)
	}
}

func TestUntakenSection(t *testing.T) {
	var log []string
	set, _ := factor.NewSet(&fake{name: "a", log: &log})
	_, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, factortest.NewApp(), "[typo]\nx = 1\n"))
	if err == nil || !strings.Contains(err.Error(), `unknown section "typo"`) {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(log, ","); got != "configure a,close a" {
		t.Errorf("log = %s", got)
	}
}

func TestNewSetErrors(t *testing.T) {
	var log []string
	for _, tc := range []struct {
		factors []factor.Factor
		want    string
	}{
		{[]factor.Factor{&fake{name: "a", log: &log}, &fake{name: "a", log: &log}}, `"a" appears twice`},
		{[]factor.Factor{&fake{name: "b", deps: []string{"a"}, log: &log}, &fake{name: "a", log: &log}}, `"b" depends on "a"`},
		{[]factor.Factor{&fake{log: &log}}, "has no name"},
		{[]factor.Factor{nil}, "is nil"},
	} {
		if _, err := factor.NewSet(tc.factors...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
}
