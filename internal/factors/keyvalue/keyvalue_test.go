package keyvalue_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	kv "github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// harness calls one factor's host functions for one prepared instance.
type harness struct {
	t      *testing.T
	ifaces []component.Interface
	ctx    context.Context
	app    *factor.App
}

func newHarness(t *testing.T, f *kv.Factor, ac *factor.AppContext, componentID string) *harness {
	t.Helper()
	app := factortest.Configure(t, ac, f)
	return &harness{t: t, ifaces: f.Interfaces(), ctx: factortest.Prepare(t, app, componentID), app: app}
}

func (h *harness) call(iface, fn string, args ...any) cabi.Result {
	h.t.Helper()
	return factortest.Call(h.t, h.ctx, h.ifaces, iface, fn, args...)[0].(cabi.Result)
}

func (h *harness) ok(iface, fn string, args ...any) any {
	h.t.Helper()
	r := h.call(iface, fn, args...)
	if r.IsErr {
		h.t.Fatalf("%s#%s: error %#v", iface, fn, r.Value)
	}
	return r.Value
}

func comp(id string, stores ...string) lockedapp.Component {
	return lockedapp.Component{ID: id, KeyValueStores: stores}
}

// flavour is one interface family's names for the same operations.
type flavour struct {
	iface, open, get, set, del, exists, keys string
	denied                                   uint32
}

var flavours = []flavour{
	{kv.FermyonV2, "[static]store.open", "[method]store.get", "[method]store.set", "[method]store.delete", "[method]store.exists", "[method]store.get-keys", 2},
	{kv.SpinV3, "[static]store.open", "[method]store.get", "[method]store.set", "[method]store.delete", "[method]store.exists", "", 2},
	{kv.WASIStore, "open", "[method]bucket.get", "[method]bucket.set", "[method]bucket.delete", "[method]bucket.exists", "[method]bucket.list-keys", 1},
}

func TestStoreOperations(t *testing.T) {
	for _, fl := range flavours {
		t.Run(fl.iface, func(t *testing.T) {
			ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
			h := newHarness(t, kv.New(), ac, "a")
			s := h.ok(fl.iface, fl.open, "default")
			if got := h.ok(fl.iface, fl.get, s, "k"); got != cabi.None {
				t.Fatalf("get of a missing key = %#v", got)
			}
			h.ok(fl.iface, fl.set, s, "k", []byte("v1"))
			h.ok(fl.iface, fl.set, s, "empty", []byte{})
			if got := h.ok(fl.iface, fl.get, s, "k").(cabi.Option); !got.Some || !bytes.Equal(got.Value.([]byte), []byte("v1")) {
				t.Fatalf("get = %#v", got)
			}
			if got := h.ok(fl.iface, fl.get, s, "empty").(cabi.Option); !got.Some || len(got.Value.([]byte)) != 0 {
				t.Fatalf("get of an empty value = %#v", got)
			}
			if got := h.ok(fl.iface, fl.exists, s, "k"); got != true {
				t.Fatalf("exists = %v", got)
			}
			switch fl.iface {
			case kv.FermyonV2:
				if got := fmt.Sprint(h.ok(fl.iface, fl.keys, s)); got != "[empty k]" && got != "[k empty]" {
					t.Fatalf("get-keys = %s", got)
				}
			case kv.WASIStore:
				got := h.ok(fl.iface, fl.keys, s, cabi.None).([]any)
				if fmt.Sprint(got[0]) != "[empty k]" || got[1] != cabi.None {
					t.Fatalf("list-keys = %#v", got)
				}
			}
			h.ok(fl.iface, fl.del, s, "k")
			h.ok(fl.iface, fl.del, s, "never-there")
			if got := h.ok(fl.iface, fl.exists, s, "k"); got != false {
				t.Fatalf("exists after delete = %v", got)
			}
		})
	}
}

func TestAccessDenied(t *testing.T) {
	rc := "[key_value_store.other]\ntype = \"spin\"\n"
	app := factortest.NewApp(comp("granted", "default"), comp("none"), comp("uses-other", "other"))
	for _, fl := range flavours {
		ac := factortest.NewAppContext(t, app, rc)
		f := kv.New()
		fapp := factortest.Configure(t, ac, f)
		for _, tc := range []struct{ comp, label string }{
			{"granted", "other"}, {"granted", "nope"}, {"none", "default"}, {"uses-other", "default"},
		} {
			ctx := factortest.Prepare(t, fapp, tc.comp)
			r := factortest.Call(t, ctx, f.Interfaces(), fl.iface, fl.open, tc.label)[0].(cabi.Result)
			if !r.IsErr || r.Value.(cabi.Variant).Case != fl.denied {
				t.Errorf("%s: %s opening %q = %#v, want access-denied", fl.iface, tc.comp, tc.label, r)
			}
		}
		ctx := factortest.Prepare(t, fapp, "uses-other")
		if r := factortest.Call(t, ctx, f.Interfaces(), fl.iface, fl.open, "other")[0].(cabi.Result); r.IsErr {
			t.Errorf("%s: opening a granted label: %#v", fl.iface, r)
		}
	}
}

func configureErr(t *testing.T, app *lockedapp.LockedApp, rc string) error {
	t.Helper()
	ac := factortest.NewAppContext(t, app, rc)
	set, err := factor.NewSet(kv.New())
	if err != nil {
		t.Fatal(err)
	}
	a, err := set.ConfigureApp(context.Background(), ac)
	if err == nil {
		a.Close()
	}
	return err
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, rc string
		app      *lockedapp.LockedApp
		want     []string // substrings; none: success
	}{
		{"default needs no config", "", factortest.NewApp(comp("a", "default")), nil},
		{"undefined label", "", factortest.NewApp(comp("a", "default"), comp("web", "cache")),
			[]string{`component "web"`, `"cache"`, "[key_value_store.cache]"}},
		{"unknown field", "[key_value_store.cache]\ntype = \"spin\"\npaht = \"x.db\"\n", factortest.NewApp(comp("a", "cache")),
			[]string{"[key_value_store.cache]", `unknown field "paht"`}},
		{"unknown field redis", "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://x\"\npath = \"p\"\n", factortest.NewApp(comp("a")),
			[]string{`unknown field "path"`}},
		{"unknown type", "[key_value_store.cache]\ntype = \"dynamo\"\n", factortest.NewApp(), []string{`unknown type "dynamo"`}},
		{"missing type", "[key_value_store.cache]\npath = \"x\"\n", factortest.NewApp(), []string{`missing field "type"`}},
		{"redis without url", "[key_value_store.cache]\ntype = \"redis\"\n", factortest.NewApp(), []string{`missing field "url"`}},
		{"not a table", "key_value_store = 3\n", factortest.NewApp(), []string{"key_value_store must be a table"}},
		{"untaken section", "[sqlite_database.default]\ntype = \"spin\"\n", factortest.NewApp(), []string{`"sqlite_database" is not supported yet`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configureErr(t, tt.app, tt.rc)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateOnlyOpensNothing(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	ac.ValidateOnly = true
	factortest.Configure(t, ac, kv.New())
	if _, err := os.Stat(filepath.Join(ac.StateDir, kv.DefaultFile)); !os.IsNotExist(err) {
		t.Fatalf("validation created the store: %v", err)
	}
}

func TestDefaultStoreIsolation(t *testing.T) {
	app := factortest.NewApp(comp("a", "default"))
	h1 := newHarness(t, kv.New(), factortest.NewAppContext(t, app, ""), "a")
	h2 := newHarness(t, kv.New(), factortest.NewAppContext(t, app, ""), "a")
	s1 := h1.ok(kv.FermyonV2, "[static]store.open", "default")
	s2 := h2.ok(kv.FermyonV2, "[static]store.open", "default")
	h1.ok(kv.FermyonV2, "[method]store.set", s1, "k", []byte("app1"))
	if got := h2.ok(kv.FermyonV2, "[method]store.get", s2, "k"); got != cabi.None {
		t.Fatalf("app 2 sees app 1's key: %#v", got)
	}
}

func TestSpinPathAndSharedFile(t *testing.T) {
	rc := "[key_value_store.a]\ntype = \"spin\"\npath = \"data/kv.db\"\n[key_value_store.b]\ntype = \"spin\"\npath = \"data/kv.db\"\n"
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("c", "a", "b")), rc)
	h := newHarness(t, kv.New(), ac, "c")
	sa := h.ok(kv.WASIStore, "open", "a")
	sb := h.ok(kv.WASIStore, "open", "b")
	h.ok(kv.WASIStore, "[method]bucket.set", sa, "k", []byte("in a"))
	if got := h.ok(kv.WASIStore, "[method]bucket.get", sb, "k"); got != cabi.None {
		t.Fatalf("labels sharing a file share keys: %#v", got)
	}
	if _, err := os.Stat(filepath.Join(ac.BaseDir, "data", "kv.db")); err != nil {
		t.Fatal(err)
	}
}

func TestLimits(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	h := newHarness(t, kv.NewWithLimits(kv.Limits{MaxKeyBytes: 8, MaxValueBytes: 16}), ac, "a")
	s := h.ok(kv.FermyonV2, "[static]store.open", "default")
	for _, tc := range []struct {
		key   string
		value []byte
		want  string
	}{
		{"123456789", []byte("x"), "key is 9 bytes, over the limit of 8 bytes"},
		{"k", make([]byte, 17), "is 17 bytes, over the limit of 16 bytes"},
	} {
		r := h.call(kv.FermyonV2, "[method]store.set", s, tc.key, tc.value)
		v, _ := r.Value.(cabi.Variant)
		if !r.IsErr || v.Case != 3 || !strings.Contains(v.Value.(string), tc.want) {
			t.Errorf("set(%q, %d bytes) = %#v, want other(%q)", tc.key, len(tc.value), r, tc.want)
		}
	}
	h.ok(kv.FermyonV2, "[method]store.set", s, "12345678", make([]byte, 16))
	r := h.call(kv.WASIBatch, "set-many", s, []any{[]any{"ok", []byte("x")}, []any{"k", make([]byte, 17)}})
	if !r.IsErr {
		t.Fatal("set-many over the limit succeeded")
	}
	if got := h.ok(kv.WASIStore, "[method]bucket.exists", s, "ok"); got != false {
		t.Error("set-many wrote part of a rejected batch")
	}
}

func TestTableFull(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	h := newHarness(t, kv.NewWithLimits(kv.Limits{MaxOpenStores: 2}), ac, "a")
	s1 := h.ok(kv.SpinV3, "[static]store.open", "default")
	h.ok(kv.SpinV3, "[static]store.open", "default")
	if r := h.call(kv.SpinV3, "[static]store.open", "default"); !r.IsErr || r.Value.(cabi.Variant).Case != 0 {
		t.Fatalf("third open = %#v, want store-table-full", r)
	}
	s1.(component.Dropper).Drop()
	h.ok(kv.SpinV3, "[static]store.open", "default")
}

func TestListKeysCursor(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	h := newHarness(t, kv.NewWithLimits(kv.Limits{ListPageSize: 2}), ac, "a")
	b := h.ok(kv.WASIStore, "open", "default")
	for _, k := range []string{"e", "c", "a", "d", "b"} {
		h.ok(kv.WASIStore, "[method]bucket.set", b, k, []byte(k))
	}
	var all []string
	cursor := cabi.None
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("cursor never ends")
		}
		resp := h.ok(kv.WASIStore, "[method]bucket.list-keys", b, cursor).([]any)
		for _, k := range resp[0].([]any) {
			all = append(all, k.(string))
		}
		cursor = resp[1].(cabi.Option)
		if !cursor.Some {
			break
		}
	}
	if got := strings.Join(all, ""); got != "abcde" {
		t.Fatalf("keys over pages = %q", got)
	}
}

func TestAtomicsAndBatch(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	testAtomicsAndBatch(t, newHarness(t, kv.New(), ac, "a"), "default", "")
}

// testAtomicsAndBatch runs against label with keys under prefix.
func testAtomicsAndBatch(t *testing.T, h *harness, label, p string) {
	b := h.ok(kv.WASIStore, "open", label)
	if n := h.ok(kv.WASIAtomics, "increment", b, p+"n", int64(5)); n != int64(5) {
		t.Fatalf("increment = %v", n)
	}
	if n := h.ok(kv.WASIAtomics, "increment", b, p+"n", int64(-7)); n != int64(-2) {
		t.Fatalf("increment = %v", n)
	}

	c := h.ok(kv.WASIAtomics, "[static]cas.new", b, p+"c")
	if cur := h.ok(kv.WASIAtomics, "[method]cas.current", c); cur != cabi.None {
		t.Fatalf("current = %#v", cur)
	}
	h.ok(kv.WASIStore, "[method]bucket.set", b, p+"c", []byte("sneaky"))
	r := h.call(kv.WASIAtomics, "swap", c, []byte("mine"))
	if v, _ := r.Value.(cabi.Variant); !r.IsErr || v.Case != 1 || v.Value != c {
		t.Fatalf("swap after a concurrent write = %#v, want cas-failed(cas)", r)
	}
	if cur := h.ok(kv.WASIAtomics, "[method]cas.current", c).(cabi.Option); !bytes.Equal(cur.Value.([]byte), []byte("sneaky")) {
		t.Fatalf("current = %#v", cur)
	}
	h.ok(kv.WASIAtomics, "swap", c, []byte("mine"))
	if got := h.ok(kv.WASIStore, "[method]bucket.get", b, p+"c").(cabi.Option); !bytes.Equal(got.Value.([]byte), []byte("mine")) {
		t.Fatalf("after swap: %#v", got)
	}

	h.ok(kv.WASIBatch, "set-many", b, []any{[]any{p + "x", []byte("1")}, []any{p + "y", []byte("2")}})
	got := h.ok(kv.WASIBatch, "get-many", b, []any{p + "x", p + "missing", p + "y"}).([]any)
	want := fmt.Sprint([]any{[]any{p + "x", cabi.Some([]byte("1"))}, []any{p + "missing", cabi.None}, []any{p + "y", cabi.Some([]byte("2"))}})
	if fmt.Sprint(got) != want {
		t.Fatalf("get-many = %v, want %v", got, want)
	}
	h.ok(kv.WASIBatch, "delete-many", b, []any{p + "x", p + "y", p + "n", p + "c"})
	for _, k := range []string{"x", "y", "n", "c"} {
		if h.ok(kv.WASIStore, "[method]bucket.exists", b, p+k) != false {
			t.Errorf("%s survived delete-many", k)
		}
	}
}

func TestNotPrepared(t *testing.T) {
	if _, err := factortest.TryCall(t, context.Background(), kv.New().Interfaces(), kv.FermyonV2, "[static]store.open", "default"); err == nil {
		t.Fatal("want a trap without Prepare")
	}
}

// TestHammer runs many instances of one app against one store at once.
func TestHammer(t *testing.T) {
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "default")), "")
	f := kv.New()
	app := factortest.Configure(t, ac, f)
	open := factortest.Func(t, f.Interfaces(), kv.WASIStore, "open")
	incr := factortest.Func(t, f.Interfaces(), kv.WASIAtomics, "increment")
	set := factortest.Func(t, f.Interfaces(), kv.FermyonV2, "[method]store.set")
	get := factortest.Func(t, f.Interfaces(), kv.FermyonV2, "[method]store.get")
	const workers, ops = 16, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			ctx, err := app.Prepare(context.Background(), "a")
			if err != nil {
				errs <- err
				return
			}
			res, _ := open(ctx, nil, []any{"default"})
			b := res[0].(cabi.Result).Value
			for i := range ops {
				if r, err := incr(ctx, nil, []any{b, "counter", int64(1)}); err != nil || r[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("increment: %v %v", err, r)
					return
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				if r, err := set(ctx, nil, []any{b, key, []byte(key)}); err != nil || r[0].(cabi.Result).IsErr {
					errs <- fmt.Errorf("set: %v %v", err, r)
					return
				}
				r, err := get(ctx, nil, []any{b, key})
				if err != nil || !bytes.Equal(r[0].(cabi.Result).Value.(cabi.Option).Value.([]byte), []byte(key)) {
					errs <- fmt.Errorf("get %s: %v %v", key, err, r)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _ := app.State(kv.Name)
	store, _ := st.(*kv.AppState).Store("default")
	v, _, err := store.Get(context.Background(), "counter")
	if err != nil || len(v) != 8 || int(v[0])+int(v[1])<<8 != workers*ops {
		t.Fatalf("counter = %v (%v), want %d", v, err, workers*ops)
	}
}
