package rdbms

import (
	"context"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

func TestIntValue(t *testing.T) {
	for _, tc := range []struct {
		c    uint32
		n    int64
		want any
		ok   bool
	}{
		{Int8, -128, int8(-128), true},
		{Int8, 128, nil, false},
		{Int16, 32767, int16(32767), true},
		{Int32, -1 << 31, int32(-1 << 31), true},
		{Int32, 1 << 31, nil, false},
		{Int64, -1 << 63, int64(-1 << 63), true},
		{Uint8, 255, uint8(255), true},
		{Uint8, -1, nil, false},
		{Uint16, 65536, nil, false},
		{Uint32, 1<<32 - 1, uint32(1<<32 - 1), true},
		{Uint64, 5, uint64(5), true},
		{Uint64, -5, nil, false},
		{Str, 1, nil, false},
	} {
		got, err := IntValue(tc.c, tc.n)
		if (err == nil) != tc.ok || (tc.ok && got != (cabi.Variant{Case: tc.c, Value: tc.want})) {
			t.Errorf("IntValue(%d, %d) = %#v, %v", tc.c, tc.n, got, err)
		}
	}
}

func TestParam(t *testing.T) {
	good := []cabi.Variant{
		{Case: Boolean, Value: true}, {Case: Int8, Value: int8(1)}, {Case: Uint64, Value: uint64(1)},
		{Case: Floating32, Value: float32(1)}, {Case: Str, Value: "s"}, {Case: Binary, Value: []byte("b")},
		{Case: DbNull},
	}
	for _, p := range good {
		v, err := Param(p)
		if err != nil || (p.Case != DbNull && v == nil) {
			t.Errorf("Param(%#v) = %v, %v", p, v, err)
		}
	}
	if v, err := Param(cabi.Variant{Case: Binary}); err != nil || len(v.([]byte)) != 0 {
		t.Errorf("empty binary = %#v, %v", v, err)
	}
	for _, p := range []any{"x", cabi.Variant{Case: Int8, Value: int16(1)}, cabi.Variant{Case: 99}} {
		if _, err := Param(p); err == nil {
			t.Errorf("Param(%#v) accepted", p)
		}
	}
}

func TestArgs(t *testing.T) {
	a := NewArgs([]any{"s", []any{1}, nil})
	if a.String(0) != "s" || len(a.List(1)) != 1 || a.List(2) != nil || a.Err() != nil {
		t.Fatal("good arguments rejected")
	}
	a.String(1)
	if a.Err() == nil {
		t.Error("list read as string")
	}
	if a := NewArgs(nil); a.Any(3) != nil || a.Err() == nil {
		t.Error("missing argument accepted")
	}
}

func TestLimiter(t *testing.T) {
	var unlimited *Limiter
	if !unlimited.Acquire(context.Background(), 0) {
		t.Fatal("nil limiter refused")
	}
	unlimited.Release()
	l := NewLimiter(1)
	if !l.Acquire(context.Background(), time.Second) {
		t.Fatal("first acquire failed")
	}
	if l.Acquire(context.Background(), 10*time.Millisecond) {
		t.Fatal("second acquire succeeded")
	}
	go func() { time.Sleep(10 * time.Millisecond); l.Release() }()
	if !l.Acquire(context.Background(), time.Second) {
		t.Fatal("acquire after release failed")
	}
	var c Counter
	if !c.Take(1) || c.Take(1) {
		t.Fatal("counter cap")
	}
	c.Put()
	if !c.Take(1) {
		t.Fatal("counter after put")
	}
}

func TestParseMaxConnections(t *testing.T) {
	if n, err := ParseMaxConnections("s", map[string]any{"max_connections": int64(7)}); n != 7 || err != nil {
		t.Errorf("= %d, %v", n, err)
	}
	if n, err := ParseMaxConnections("s", map[string]any{}); n != 0 || err != nil {
		t.Errorf("empty = %d, %v", n, err)
	}
	for _, bad := range []any{"x", map[string]any{"max_connections": int64(0)}, map[string]any{"max_connections": 1.5}, map[string]any{"x": int64(1)}} {
		if _, err := ParseMaxConnections("s", bad); err == nil {
			t.Errorf("%#v accepted", bad)
		}
	}
}
