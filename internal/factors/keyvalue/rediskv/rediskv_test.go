package rediskv_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/wisp-dev/wisp/internal/factors/keyvalue/internal/redistest"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue/rediskv"
)

func open(t *testing.T) *rediskv.Store {
	t.Helper()
	s, err := rediskv.Open(context.Background(), redistest.URL(t), redistest.Prefix(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := s.Keys(ctx)
		for _, k := range keys {
			s.Delete(ctx, k)
		}
		s.Close()
	})
	return s
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if _, ok, err := s.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("get missing: %v %v", ok, err)
	}
	for _, k := range []string{"a", "b*", "c"} {
		if err := s.Set(ctx, k, []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "empty", nil); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "empty"); !ok || err != nil || v == nil || len(v) != 0 {
		t.Fatalf("get empty: %q %v %v", v, ok, err)
	}
	if v, ok, _ := s.Get(ctx, "b*"); !ok || string(v) != "vb*" {
		t.Fatalf("get = %q %v", v, ok)
	}
	keys, err := s.Keys(ctx)
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{"a", "b*", "c", "empty"}) {
		t.Fatalf("keys = %q %v", keys, err)
	}
	if err := s.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Exists(ctx, "a"); ok || err != nil {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
	if n, err := s.Increment(ctx, "n", 3); n != 3 || err != nil {
		t.Fatalf("increment = %d %v", n, err)
	}
	if ok, err := s.CompareAndSwap(ctx, "new", nil, false, []byte("1")); !ok || err != nil {
		t.Fatalf("cas on absent: %v %v", ok, err)
	}
	if ok, _ := s.CompareAndSwap(ctx, "new", nil, false, []byte("2")); ok {
		t.Fatal("cas expecting absent succeeded on a present key")
	}
	if ok, _ := s.CompareAndSwap(ctx, "new", []byte("0"), true, []byte("2")); ok {
		t.Fatal("cas with a stale value succeeded")
	}
	if ok, _ := s.CompareAndSwap(ctx, "new", []byte("1"), true, []byte("2")); !ok {
		t.Fatal("cas with the current value failed")
	}
	if v, _, _ := s.Get(ctx, "new"); !bytes.Equal(v, []byte("2")) {
		t.Fatalf("after cas: %q", v)
	}
}

func TestBadURL(t *testing.T) {
	if _, err := rediskv.Open(context.Background(), "http://nope", ""); err == nil {
		t.Fatal("want an error")
	}
}
