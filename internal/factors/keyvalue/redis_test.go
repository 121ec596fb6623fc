package keyvalue_test

import (
	"fmt"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	kv "github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	url := redistest.URL(t)
	p := redistest.Prefix(t)
	rc := fmt.Sprintf("[key_value_store.cache]\ntype = \"redis\"\nurl = %q\n", url)
	ac := factortest.NewAppContext(t, factortest.NewApp(comp("a", "cache")), rc)
	h := newHarness(t, kv.New(), ac, "a")
	s := h.ok(kv.FermyonV2, "[static]store.open", "cache")
	t.Cleanup(func() {
		for _, k := range []string{"k"} {
			factortest.Call(t, h.ctx, h.ifaces, kv.FermyonV2, "[method]store.delete", s, p+k)
		}
	})
	h.ok(kv.FermyonV2, "[method]store.set", s, p+"k", []byte("v"))
	if got := h.ok(kv.FermyonV2, "[method]store.get", s, p+"k").(cabi.Option); !got.Some || string(got.Value.([]byte)) != "v" {
		t.Fatalf("get = %#v", got)
	}
	if got := h.ok(kv.SpinV3, "[method]store.exists", s, p+"k"); got != true {
		t.Fatalf("exists = %v", got)
	}
	testAtomicsAndBatch(t, h, "cache", p)
	if r := h.call(kv.FermyonV2, "[static]store.open", "default"); !r.IsErr {
		t.Fatal("default store not granted but opened")
	}
}

func TestRedisUnreachable(t *testing.T) {
	rc := "[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n"
	err := configureErr(t, factortest.NewApp(comp("a", "cache")), rc)
	if err == nil {
		t.Fatal("want an error")
	}
	t.Log(err)
}
