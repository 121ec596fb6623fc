package rdbms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

func TestTakeLimiter(t *testing.T) {
	rc, err := runtimeconfig.Parse([]byte("[s]\nmax_connections = 1\n"), "rc.toml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := TakeLimiter(rc, "s")
	if err != nil || l == nil || !l.Acquire(context.Background(), 0) || l.Acquire(context.Background(), time.Millisecond) {
		t.Fatalf("limiter %v, %v: not one slot", l, err)
	}
	if l, err := TakeLimiter(runtimeconfig.Empty(), "s"); l != nil || err != nil {
		t.Fatalf("no section: %v, %v", l, err)
	}
	rc, _ = runtimeconfig.Parse([]byte("[s]\nmax_connections = 0\n"), "rc.toml")
	if _, err := TakeLimiter(rc, "s"); err == nil {
		t.Fatal("max_connections = 0 accepted")
	}
}

func TestReserve(t *testing.T) {
	ctx := context.Background()
	var open Counter
	l := NewLimiter(2)
	release, e := Reserve(ctx, &open, 1, l, time.Millisecond)
	if e != nil {
		t.Fatal(e)
	}
	if _, e := Reserve(ctx, &open, 1, l, time.Millisecond); e == nil || e.Case != ConnectionFailed {
		t.Fatalf("over the instance's max: %v", e)
	}
	release()
	// The app's limit: the instance's slot is given back on failure.
	var other Counter
	r1, _ := Reserve(ctx, &other, 5, l, time.Millisecond)
	r2, _ := Reserve(ctx, &other, 5, l, time.Millisecond)
	if _, e := Reserve(ctx, &open, 1, l, time.Millisecond); e == nil || e.Case != ConnectionFailed {
		t.Fatalf("over the app's limit: %v", e)
	}
	r1()
	r2()
	if release, e := Reserve(ctx, &open, 1, l, time.Millisecond); e != nil {
		t.Fatalf("slot not given back: %v", e)
	} else {
		release()
	}
}

func TestCache(t *testing.T) {
	var dropped []string
	closed := errors.New("closed")
	c := NewCache[string](2, func(v string) { dropped = append(dropped, v) }, closed)
	get := func(component, address string) string { // keys hold the component, as the factors' do
		t.Helper()
		key := component + "/" + address
		v, err := c.Get(component, key, func() (string, error) { return key, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	get("a", "1")
	get("a", "2")
	get("b", "1")
	get("a", "1") // now "a/2" is a's least recently used
	get("a", "3")
	if len(dropped) != 1 || dropped[0] != "a/2" {
		t.Fatalf("dropped %v, want [a/2]", dropped)
	}
	if _, err := c.Get("b", "b/2", func() (string, error) { return "", errors.New("boom") }); err == nil {
		t.Fatal("create's error lost")
	}
	if got := c.Close(); len(got) != 3 {
		t.Fatalf("Close returned %v", got)
	}
	if _, err := c.Get("a", "a/1", nil); err != closed {
		t.Fatalf("after Close: %v", err)
	}
}

func TestOpenAndDrop(t *testing.T) {
	ctx := context.Background()
	var open Counter
	l := NewLimiter(1)
	var closed []string
	closeConn := func(c string) { closed = append(closed, c) }
	ok := func(context.Context) (string, *Error) { return "conn", nil }

	c, e := Open(ctx, &open, 1, l, time.Millisecond, ok, closeConn)
	if e != nil {
		t.Fatal(e)
	}
	if got, e := c.Get(); got != "conn" || e != nil {
		t.Fatalf("Get = %q, %v", got, e)
	}
	if _, e := Open(ctx, &open, 1, l, time.Millisecond, ok, closeConn); e == nil || e.Case != ConnectionFailed {
		t.Fatalf("second open over the limits: %v", e)
	}
	c.Drop()
	c.Drop() // a second drop hands back nothing more
	if len(closed) != 1 {
		t.Fatalf("closed %v, want once", closed)
	}
	if _, e := c.Get(); e == nil || e.Case != ConnectionFailed {
		t.Fatalf("Get after Drop: %v", e)
	}

	// A failed acquire holds no slot: the next open gets both.
	failed := func(context.Context) (string, *Error) { return "", Errorf(ConnectionFailed, "refused") }
	if _, e := Open(ctx, &open, 1, l, time.Millisecond, failed, closeConn); e == nil || e.Msg != "refused" {
		t.Fatalf("acquire's error lost: %v", e)
	}
	c, e = Open(ctx, &open, 1, l, time.Millisecond, ok, closeConn)
	if e != nil {
		t.Fatalf("slots not given back after a failed acquire: %v", e)
	}
	c.Drop()
}
