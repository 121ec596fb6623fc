package engine_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/wisp-dev/wisp/internal/engine"
)

func call1(t testing.TB, inst *engine.Instance, fn string, args ...uint64) uint64 {
	t.Helper()
	res, err := inst.Call(context.Background(), fn, args...)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	return res[0]
}

// TestSnapshot: instances of a snapshot start in the state _initialize
// left (memory content and size, i32/i64/f64 globals) without running it
// again; the snapshot was taken with no environment, an empty "/" preopen
// and host randomness; nothing an instance writes reaches the next one,
// sequentially or concurrently; and the instance still gets fresh
// randomness per call.
func TestSnapshot(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := isoModule(t, e, "reactor.wat")
	// The caller's WASI configuration (a request's environment) must not
	// reach the snapshot.
	ctx := engine.WithWASI(context.Background(), engine.RunConfig{Env: []string{"SECRET=1", "B=2"}})
	snap, err := m.Snapshot(ctx, nil, "_initialize")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close(ctx)
	if !snap.IsSnapshot() || m.IsSnapshot() {
		t.Fatal("IsSnapshot wrong")
	}
	check := func() error {
		inst, err := snap.Instantiate(ctx, nil)
		if err != nil {
			return err
		}
		defer inst.Close(ctx)
		for _, c := range []struct {
			fn   string
			args []uint64
			want uint64
		}{
			{"inits", nil, 1},
			{"wide", nil, 0x1122334455667788},
			{"float", nil, math.Float64bits(2.5)},
			{"size", nil, 3},
			{"load", []uint64{131072}, 0xc0ffee},
			{"load", []uint64{16}, 0x41414141},
			{"load", []uint64{20}, uint64('i') | uint64('a')<<8 | uint64('l')<<16}, // rest of "initial"
			{"load", []uint64{70000}, 0},
			{"load", []uint64{200}, 0}, // environment variables at snapshot time
			{"load", []uint64{208}, 0}, // fd_prestat_get(3): ESUCCESS, "/" is preopened
		} {
			res, err := inst.Call(ctx, c.fn, c.args...)
			if err != nil {
				return err
			}
			if res[0] != c.want {
				return &mismatch{c.fn, c.args, res[0], c.want}
			}
		}
		if _, err := inst.Call(ctx, "scribble"); err != nil {
			return err
		}
		return nil
	}
	for range 20 {
		if err := check(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
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

	// The random value drawn during initialisation is shared by every
	// instance (the documented limit); values drawn per call are not.
	a, err := snap.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := snap.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if call1(t, a, "load64", 300) != call1(t, b, "load64", 300) {
		t.Error("instances of one snapshot differ in the state init left")
	}
	if call1(t, a, "random") == call1(t, b, "random") {
		t.Error("two instances drew the same random value from the host")
	}

	// The original module still initialises per instance.
	inst, err := m.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	if got := call1(t, inst, "inits"); got != 0 {
		t.Fatalf("original module: inits = %d before _initialize", got)
	}
}

type mismatch struct {
	fn        string
	args      []uint64
	got, want uint64
}

func (m *mismatch) Error() string {
	return "snapshot instance: " + m.fn + " = " + hex(m.got) + ", want " + hex(m.want)
}

func hex(v uint64) string {
	const digits = "0123456789abcdef"
	s := ""
	for {
		s = string(digits[v&15]) + s
		v >>= 4
		if v == 0 {
			return "0x" + s
		}
	}
}

// TestSnapshotFilesPerInstance: an instance of a snapshot gets the
// request's files mounted where the snapshot saw the empty "/".
func TestSnapshotFilesPerInstance(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := isoModule(t, e, "reactor.wat")
	snap, err := m.Snapshot(context.Background(), nil, "_initialize")
	if err != nil {
		t.Fatal(err)
	}
	ctx := engine.WithWASI(context.Background(), engine.RunConfig{FS: fstest.MapFS{"f": {Data: []byte("x")}}})
	inst, err := snap.Instantiate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	if got := call1(t, inst, "inits"); got != 1 {
		t.Fatalf("inits = %d", got)
	}
}

// TestSnapshotRefusals: state the engine cannot capture (tables changed by
// code) is refused with ErrNotSnapshottable; an initialisation that fails
// in the snapshot environment (it needs the host) is an error, so callers
// fall back to initialising each instance; a missing init function too.
func TestSnapshotRefusals(t *testing.T) {
	e := newEngine(t, engine.Config{})
	ctx := context.Background()
	if _, err := isoModule(t, e, "state.wat").Snapshot(ctx, nil, "observe"); !errors.Is(err, engine.ErrNotSnapshottable) {
		t.Errorf("module with table.set: %v, want ErrNotSnapshottable", err)
	}
	if _, err := isoModule(t, newEngine(t, engine.Config{NoSnapshots: true}), "reactor.wat").Snapshot(ctx, nil, "_initialize"); !errors.Is(err, engine.ErrNotSnapshottable) {
		t.Errorf("with Config.NoSnapshots: %v, want ErrNotSnapshottable", err)
	}
	h, err := e.NewHostModule(ctx, "host", []engine.HostFunc{{Name: "need_request", Fn: func(context.Context, *engine.Instance, []uint64) {
		panic(errors.New("no request"))
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	m := isoModule(t, e, "trapinit.wat")
	if _, err := m.Snapshot(ctx, engine.ImportMap(map[string]engine.Importable{"host": h}), "_initialize"); err == nil {
		t.Error("snapshot of an init that traps succeeded")
	}
	if _, err := isoModule(t, e, "reactor.wat").Snapshot(ctx, nil, "nope"); err == nil {
		t.Error("snapshot with a missing init function succeeded")
	}
}

// TestSnapshotGoReactor: the standard-Go reactor fixture snapshotted after
// _initialize (the Go runtime's start-up) answers its exports with
// per-instance state starting from the snapshot.
func TestSnapshotGoReactor(t *testing.T) {
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "go-wasip1-reactor", "reactor.wasm")
	if !fileExists(p) {
		t.Skip("fixture go-wasip1-reactor missing")
	}
	e := newEngine(t, engine.Config{})
	m := compileFile(t, e, p)
	ctx := context.Background()
	snap, err := m.Snapshot(ctx, nil, "_initialize")
	if err != nil {
		t.Fatal(err)
	}
	mem, copied := snap.SnapshotSize()
	t.Logf("snapshot: %d KiB of memory, %d KiB copied per instance", mem>>10, copied>>10)
	for range 3 {
		inst, err := snap.Instantiate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := call1(t, inst, "add", 40, 2); got != 42 {
			t.Fatalf("add = %d", got)
		}
		if a, b := call1(t, inst, "incr"), call1(t, inst, "incr"); a != 1 || b != 2 {
			t.Fatalf("incr = %d, %d; want 1, 2 (state must start fresh)", a, b)
		}
		inst.Close(ctx)
	}
}

// BenchmarkSnapshotInstantiate: a fresh instance of the standard-Go reactor
// ready to serve (instantiate, then _initialize or not, then close), with
// and without a snapshot.
func BenchmarkSnapshotInstantiate(b *testing.B) {
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "go-wasip1-reactor", "reactor.wasm")
	if !fileExists(p) {
		b.Skip("fixture go-wasip1-reactor missing")
	}
	ctx := context.Background()
	e := newEngine(b, engine.Config{})
	m := compileFile(b, e, p)
	snap, err := m.Snapshot(ctx, nil, "_initialize")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		m    *engine.Module
		init bool
	}{{"go-reactor/initialize", m, true}, {"go-reactor/snapshot", snap, false}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				inst, err := tc.m.Instantiate(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				if tc.init {
					if _, err := inst.Call(ctx, "_initialize"); err != nil {
						b.Fatal(err)
					}
				}
				inst.Close(ctx)
			}
		})
	}
}
