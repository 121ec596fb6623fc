package component

import (
	"context"
	"testing"
)

// BenchmarkInstantiateJS is the per-request cost of the Spin JS fixture:
// instantiate its 4 core modules (31 core instances, 5 slots) and close.
func BenchmarkInstantiateJS(b *testing.B) {
	ctx := context.Background()
	c, err := Load(ctx, newEngine(b), readFixture(b, "spin-js-http/spin-js-http.wasm"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	b.ReportAllocs()
	for b.Loop() {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		inst.Close(ctx)
	}
}

// BenchmarkConformanceCall instantiates the small conformance component,
// makes one string round trip (export → host import → back) and closes.
func BenchmarkConformanceCall(b *testing.B) {
	ctx := context.Background()
	c, _ := loadConformance(b)
	b.ReportAllocs()
	for b.Loop() {
		inst, err := c.Instantiate(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := inst.Call(ctx, "wisp:test/api", "rt-string", "hello"); err != nil {
			b.Fatal(err)
		}
		inst.Close(ctx)
	}
}

// BenchmarkCall is one call of a warm instance.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	c, _ := loadConformance(b)
	inst, err := c.Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Close(ctx)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inst.Call(ctx, "wisp:test/api", "rt-u32", uint32(7)); err != nil {
			b.Fatal(err)
		}
	}
}
