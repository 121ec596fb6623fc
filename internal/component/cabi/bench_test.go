package cabi

import (
	"strconv"
	"testing"
)

// A typical wasi:http-shaped call: a string (say a method or path) and a
// list<tuple<string, list<u8>>> (header fields).
func BenchmarkLiftHTTPCall(b *testing.B) {
	ft := &FuncType{Params: []Param{
		{Name: "path", Type: tString},
		{Name: "entries", Type: listOf(tupleOf(tString, listOf(tU8)))},
	}}
	m := newTestMem(1 << 16)
	cx := m.cx(UTF8)
	var entries []any
	for i := 0; i < 10; i++ {
		entries = append(entries, []any{"x-header-" + strconv.Itoa(i), []byte("some header value, moderately long")})
	}
	flat, err := LowerParams(cx, ft, []any{"/api/v1/items?limit=10", entries})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LiftParams(cx, ft, flat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLowerHTTPCall(b *testing.B) {
	ft := &FuncType{Params: []Param{
		{Name: "path", Type: tString},
		{Name: "entries", Type: listOf(tupleOf(tString, listOf(tU8)))},
	}}
	m := newTestMem(1 << 16)
	cx := m.cx(UTF8)
	var entries []any
	for i := 0; i < 10; i++ {
		entries = append(entries, []any{"x-header-" + strconv.Itoa(i), []byte("some header value, moderately long")})
	}
	args := []any{"/api/v1/items?limit=10", entries}
	b.ReportAllocs()
	for b.Loop() {
		m.last = 0
		if _, err := LowerParams(cx, ft, args); err != nil {
			b.Fatal(err)
		}
	}
}
