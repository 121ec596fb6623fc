package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

func isoModule(t testing.TB, e *engine.Engine, name string) *engine.Module {
	t.Helper()
	return compileFile(t, e, testguest.WAT(t, filepath.Join("testdata", "isolation", name)))
}

// TestNothingLeaksBetweenInstances: with memories pooled and reset, a fresh
// instance never sees what an earlier one wrote to memory (initial pages,
// data-segment bytes, pages it grew), globals or tables, sequentially and
// with instances reused concurrently.
func TestNothingLeaksBetweenInstances(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := isoModule(t, e, "state.wat")
	ctx := context.Background()
	check := func() error {
		inst, err := m.Instantiate(ctx, nil)
		if err != nil {
			return err
		}
		defer inst.Close(ctx)
		res, err := inst.Call(ctx, "observe")
		if err != nil {
			return err
		}
		if res[0] != 0 {
			return fmt.Errorf("fresh instance sees earlier state (mask %#x)", res[0])
		}
		if _, err := inst.Call(ctx, "scribble"); err != nil {
			return err
		}
		return nil
	}
	for range 50 {
		if err := check(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := check(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestClosedMemoryIsUnreadable: a *Memory kept past Close must not read a
// pooled memory that another instance now owns.
func TestClosedMemoryIsUnreadable(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := isoModule(t, e, "state.wat")
	ctx := context.Background()
	inst, err := m.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	mem := inst.Memory("memory")
	inst.Close(ctx)
	other, err := m.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if _, ok := mem.Read(0, 1); ok || mem.Write(0, []byte{1}) || mem.Size() != 0 {
		t.Fatal("memory of a closed instance is still accessible")
	}
}

// TestPooledMemoryLimit: the engine's limit holds for pooled memories, for
// the guest's memory.grow and the host's Grow, and after reuse.
func TestPooledMemoryLimit(t *testing.T) {
	e := newEngine(t, engine.Config{MaxInstanceMemory: 4 * 65536})
	m := isoModule(t, e, "state.wat")
	ctx := context.Background()
	for range 3 {
		inst, err := m.Instantiate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := inst.Call(ctx, "grow", 4); err != nil || int32(res[0]) != -1 {
			t.Fatalf("grow past the limit: %v, %v; want -1", res, err)
		}
		if res, err := inst.Call(ctx, "grow", 3); err != nil || res[0] != 1 {
			t.Fatalf("grow to the limit: %v, %v; want 1", res, err)
		}
		if _, ok := inst.Memory("memory").Grow(1); ok {
			t.Fatal("host Grow past the limit succeeded")
		}
		if b, ok := inst.Memory("memory").Read(4*65536-4, 4); !ok || b[0] != 0 {
			t.Fatal("last page not usable")
		}
		inst.Close(ctx)
	}
}

// TestDeadlineInterruptsLinkedInstance: a deadline stops a loop in an
// instance the host did not call directly, and cancellation is reported
// as such.
func TestDeadlineInterruptsLinkedInstance(t *testing.T) {
	e := newEngine(t, engine.Config{})
	spinner := isoModule(t, e, "state.wat")
	caller := isoModule(t, e, "caller.wat")
	for _, tc := range []struct {
		name string
		want error
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"deadline", engine.ErrTimeout, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}},
		{"cancel", context.Canceled, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			a, err := spinner.Instantiate(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := caller.Instantiate(ctx, engine.ImportMap(map[string]engine.Importable{"#0": a}))
			if err != nil {
				t.Fatal(err)
			}
			defer engine.Group{a, b}.Close(context.Background())
			start := time.Now()
			_, err = b.Call(ctx, "call_spin")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("interrupt took %v", d)
			}
		})
	}
}

// BenchmarkDeadlineOverhead measures what the engine's deadline and
// preemption ticks cost CPU-bound guests: each iteration calls the same
// function in plain wazero (the uninstrumented module, no deadline) and in
// the engine (instrumented, deadline armed), interleaved so that load on a
// shared machine hits both alike, and reports the medians and their ratio
// (×plain). Guests: a four-instruction counting loop (the worst case), FNV-1a
// over a 64 KiB buffer in C (clang -O2), and naive recursive Fibonacci
// (calls, no loops).
func BenchmarkDeadlineOverhead(b *testing.B) {
	ctx := context.Background()
	stateWasm := testguest.WAT(b, filepath.Join("testdata", "isolation", "state.wat"))
	for _, tc := range []struct {
		name string
		path func() string
		fn   string
		arg  uint64
	}{
		{"count-loop", func() string { return stateWasm }, "count", 20_000_000},
		{"c-fnv1a-hash", func() string { return testguest.C(b, filepath.Join("testdata", "isolation", "hash.c")) }, "hash", 200},
		{"fib-recursion", func() string { return stateWasm }, "fib", 27},
	} {
		b.Run(tc.name, func(b *testing.B) {
			path := tc.path()
			raw, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			mod, err := rt.InstantiateModule(ctx, mustCompile(b, rt, raw), wazero.NewModuleConfig().WithStartFunctions())
			if err != nil {
				b.Fatal(err)
			}
			plain := mod.ExportedFunction(tc.fn)

			e := newEngine(b, engine.Config{})
			inst, err := compileFile(b, e, path).Instantiate(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer inst.Close(ctx)
			dctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			f := inst.Func(tc.fn)
			stack := make([]uint64, f.StackSize())

			var tp, te []time.Duration
			for b.Loop() {
				t0 := time.Now()
				want, err := plain.Call(ctx, tc.arg)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				stack[0] = tc.arg
				if err := f.Call(dctx, stack); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if stack[0] != want[0] {
					b.Fatalf("instrumented result %d, plain %d", stack[0], want[0])
				}
				tp, te = append(tp, t1.Sub(t0)), append(te, t2.Sub(t1))
			}
			slices.Sort(tp)
			slices.Sort(te)
			mp, me := tp[len(tp)/2], te[len(te)/2]
			b.ReportMetric(float64(mp.Microseconds())/1e3, "plain-ms")
			b.ReportMetric(float64(me.Microseconds())/1e3, "engine-ms")
			b.ReportMetric(float64(me)/float64(mp), "×plain")
		})
	}
}

// BenchmarkCloseOnContextDone is the mechanism the engine replaced:
// wazero's CloseOnContextDone on the counting loop (2·10⁶ iterations, a
// tenth of BenchmarkDeadlineOverhead's, since it is tens of times slower).
func BenchmarkCloseOnContextDone(b *testing.B) {
	ctx := context.Background()
	raw, err := os.ReadFile(testguest.WAT(b, filepath.Join("testdata", "isolation", "state.wat")))
	if err != nil {
		b.Fatal(err)
	}
	for _, closeOnDone := range []bool{false, true} {
		b.Run(fmt.Sprintf("CloseOnContextDone=%v", closeOnDone), func(b *testing.B) {
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(closeOnDone))
			defer rt.Close(ctx)
			mod, err := rt.Instantiate(ctx, raw)
			if err != nil {
				b.Fatal(err)
			}
			dctx, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			fn := mod.ExportedFunction("count")
			for b.Loop() {
				if _, err := fn.Call(dctx, 2_000_000); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustCompile(b *testing.B, rt wazero.Runtime, wasm []byte) wazero.CompiledModule {
	b.Helper()
	c, err := rt.CompileModule(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// TestGuestDoesNotBlockGC: compiled wasm has no Go preemption points, so
// a guest that never called out would keep a stop-the-world garbage
// collection (and with it every goroutine, including the timer of its own
// deadline) waiting until it returned. The engine's ticks exit to the
// runtime regularly: a collection completes while a guest spins, and the
// spinning guest's deadline still fires.
func TestGuestDoesNotBlockGC(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := isoModule(t, e, "state.wat")
	for fn, args := range map[string][]uint64{"spin": nil, "fib": {60}} { // fib(60): hours
		t.Run(fn, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			inst, err := m.Instantiate(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := inst.Call(ctx, fn, args...)
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			start := time.Now()
			runtime.GC()
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("GC took %v while the guest ran", d)
			}
			if err := <-done; !errors.Is(err, engine.ErrTimeout) {
				t.Fatalf("guest: %v, want a timeout", err)
			}
		})
	}
}

// BenchmarkInstantiateModule is a fresh instance, instantiate then close,
// of a tiny module and of the standard-Go reactor fixture (without running
// _initialize): the engine's share of a request.
func BenchmarkInstantiateModule(b *testing.B) {
	ctx := context.Background()
	e := newEngine(b, engine.Config{})
	mods := map[string]*engine.Module{"tiny": isoModule(b, e, "tiny.wat")}
	if p := filepath.Join("..", "..", "..", "shared", "fixtures", "go-wasip1-reactor", "reactor.wasm"); fileExists(p) {
		mods["go-reactor"] = compileFile(b, e, p)
	}
	for _, name := range []string{"tiny", "go-reactor"} {
		m := mods[name]
		if m == nil {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inst, err := m.Instantiate(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				inst.Close(ctx)
			}
		})
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
