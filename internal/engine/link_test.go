package engine_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

func wat(t testing.TB, e *engine.Engine, name string) *engine.Module {
	t.Helper()
	return compileFile(t, e, testguest.WAT(t, filepath.Join("testdata", "link", name)))
}

// reqState is per-request state, reaching shared host functions through ctx.
type reqState struct {
	logs   []string
	caller *engine.Instance
}

type reqKey struct{}

func state(ctx context.Context) *reqState { return ctx.Value(reqKey{}).(*reqState) }

func withState(ctx context.Context) (context.Context, *reqState) {
	s := &reqState{}
	return context.WithValue(ctx, reqKey{}, s), s
}

// hostModule is shared by all requests of a test.
func hostModule(t testing.TB, e *engine.Engine) *engine.HostModule {
	t.Helper()
	i32 := engine.I32
	h, err := e.NewHostModule(context.Background(), "host", []engine.HostFunc{
		{Name: "log", Params: []engine.ValueType{i32, i32}, Fn: func(ctx context.Context, caller *engine.Instance, stack []uint64) {
			b, ok := caller.Memory("memory").Read(uint32(stack[0]), uint32(stack[1]))
			if !ok {
				panic(errors.New("log: out of bounds"))
			}
			s := state(ctx)
			s.logs = append(s.logs, string(b))
			s.caller = caller
		}},
		{Name: "double", Params: []engine.ValueType{i32}, Results: []engine.ValueType{i32}, Fn: func(ctx context.Context, caller *engine.Instance, stack []uint64) {
			state(ctx).caller = caller
			stack[0] = uint64(uint32(stack[0]) * 2)
		}},
		{Name: "get_string", Params: []engine.ValueType{i32}, Fn: func(ctx context.Context, caller *engine.Instance, stack []uint64) {
			retptr := uint32(stack[0])
			const msg = "hello, re-entrant world"
			// Re-enter the guest to allocate, as the canonical ABI does.
			res := []uint64{0, 0, 1, uint64(len(msg))}
			if err := caller.Func("cabi_realloc").Call(ctx, res); err != nil {
				panic(err)
			}
			ptr := uint32(res[0])
			mem := caller.Memory("memory")
			if !mem.Write(ptr, []byte(msg)) {
				panic(errors.New("get_string: bad pointer"))
			}
			var ret [8]byte
			putU32(ret[:], ptr)
			putU32(ret[4:], uint32(len(msg)))
			mem.Write(retptr, ret[:])
		}},
		{Name: "call_export", Params: []engine.ValueType{i32, i32}, Results: []engine.ValueType{i32}, Fn: func(ctx context.Context, caller *engine.Instance, stack []uint64) {
			name := [...]string{"rec", "boom", "spin"}[stack[0]]
			stack[0] = stack[1]
			if err := caller.Func(name).Call(ctx, stack); err != nil {
				panic(err) // pass the nested outcome through
			}
		}},
		{Name: "fail", Fn: func(ctx context.Context, caller *engine.Instance, stack []uint64) {
			switch state(ctx).logs[0] {
			case "exit":
				panic(&engine.ExitError{Code: 3})
			case "error":
				panic(errNoSuchThing)
			case "nil":
				var p *int
				_ = *p
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

var errNoSuchThing = errors.New("no such thing")

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// chain instantiates mods in order, module k importing earlier instances as
// "#<index>" and the host module as "host", as the component linker does.
func chain(t testing.TB, ctx context.Context, host *engine.HostModule, mods ...*engine.Module) engine.Group {
	t.Helper()
	g, err := instantiateChain(ctx, host, mods...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(context.Background()) })
	return g
}

func instantiateChain(ctx context.Context, host *engine.HostModule, mods ...*engine.Module) (engine.Group, error) {
	g := make(engine.Group, 0, len(mods))
	imports := func(name string) engine.Importable {
		if name == "host" {
			return host
		}
		var k int
		if _, err := fmt.Sscanf(name, "#%d", &k); err == nil && k < len(g) {
			return g[k]
		}
		return nil
	}
	for _, m := range mods {
		inst, err := m.Instantiate(ctx, imports)
		if err != nil {
			g.Close(ctx)
			return nil, err
		}
		g = append(g, inst)
	}
	return g, nil
}

func TestLinkMemoryTableGlobalFunc(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	a, b, c := wat(t, e, "a.wat"), wat(t, e, "b.wat"), wat(t, e, "c.wat")
	ctx, st := withState(context.Background())
	g := chain(t, ctx, host, a, b, c)

	for want := uint64(7 + 42); want < 7+42+3; want++ {
		res, err := g[1].Call(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		if res[0] != want {
			t.Errorf("run() = %d, want %d", res[0], want)
		}
		// b wrote into a's memory.
		got, ok := g[0].Memory("memory").Read(16, 4)
		if !ok || uint64(got[0]) != want {
			t.Errorf("a's memory at 16 = %v, want %d", got, want)
		}
	}
	if _, err := g[2].Call(ctx, "run"); err != nil {
		t.Fatal(err)
	}
	if len(st.logs) != 1 || st.logs[0] != "hello from C" {
		t.Errorf("logs = %q", st.logs)
	}
	if st.caller != g[2] {
		t.Errorf("host saw caller %p, want C's instance %p", st.caller, g[2])
	}
	if got := g[0].ExportedFunctionNames(); fmt.Sprint(got) != "[add]" {
		t.Errorf("ExportedFunctionNames() = %v", got)
	}
	if got := g[0].ExportedMemoryNames(); fmt.Sprint(got) != "[memory]" {
		t.Errorf("ExportedMemoryNames() = %v", got)
	}
	if g[1].Memory("memory") != nil {
		t.Error("b does not export its (imported) memory, but Memory returned it")
	}
	if g[1].DefaultMemory().Size() != g[0].Memory("memory").Size() {
		t.Error("DefaultMemory of b is not a's memory")
	}
}

// TestShimFixup is wit-component's pattern: the shim's table is filled by
// the fixup module's element segment after the main module has linked
// against the shim's trampoline.
func TestShimFixup(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	shim, main, fixup := wat(t, e, "shim.wat"), wat(t, e, "main.wat"), wat(t, e, "fixup.wat")
	ctx, st := withState(context.Background())
	g := chain(t, ctx, host, shim, main, fixup)
	res, err := g[1].Call(ctx, "run", 21)
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != 42 {
		t.Errorf("run(21) = %d, want 42", res[0])
	}
	// The caller is the instance executing call_indirect: the shim.
	if st.caller != g[0] {
		t.Errorf("caller = %p, want the shim %p (main %p, fixup %p)", st.caller, g[0], g[1], g[2])
	}
}

func TestReentrancy(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	m := wat(t, e, "reenter.wat")

	t.Run("realloc from host", func(t *testing.T) {
		ctx, _ := withState(context.Background())
		inst := chain(t, ctx, host, m)[0]
		res, err := inst.Call(ctx, "run")
		if err != nil {
			t.Fatal(err)
		}
		const msg = "hello, re-entrant world"
		if res[0] != uint64(len(msg)) {
			t.Errorf("run() = %d", res[0])
		}
		if b, _ := inst.Memory("memory").Read(1024, uint32(len(msg))); string(b) != msg {
			t.Errorf("memory at 1024 = %q", b)
		}
	})
	t.Run("same export recursively", func(t *testing.T) {
		ctx, _ := withState(context.Background())
		inst := chain(t, ctx, host, m)[0]
		f := inst.Func("rec")
		for range 2 { // the cached Func must be reusable afterwards
			stack := []uint64{10}
			if err := f.Call(ctx, stack); err != nil {
				t.Fatal(err)
			}
			if stack[0] != 55 {
				t.Errorf("rec(10) = %d, want 55", stack[0])
			}
		}
	})
	t.Run("nested trap", func(t *testing.T) {
		ctx, _ := withState(context.Background())
		inst := chain(t, ctx, host, m)[0]
		_, err := inst.Call(ctx, "nested_trap")
		var trap *engine.TrapError
		if !errors.As(err, &trap) || !strings.Contains(trap.Message, "unreachable") {
			t.Fatalf("err = %v, want a TrapError for unreachable", err)
		}
	})
	t.Run("nested deadline", func(t *testing.T) {
		ctx, _ := withState(context.Background())
		inst := chain(t, ctx, host, m)[0]
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := inst.Call(ctx, "nested_loop")
		if !errors.Is(err, engine.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
	})
}

func TestHostAborts(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	m := wat(t, e, "reenter.wat")
	for _, tt := range []struct {
		mode  string
		check func(t *testing.T, err error)
	}{
		{"exit", func(t *testing.T, err error) {
			var exit *engine.ExitError
			if !errors.As(err, &exit) || exit.Code != 3 {
				t.Errorf("err = %v, want ExitError 3", err)
			}
		}},
		{"error", func(t *testing.T, err error) {
			var trap *engine.TrapError
			if !errors.As(err, &trap) || !errors.Is(err, errNoSuchThing) || !strings.Contains(trap.Message, `host function "host"."fail": no such thing`) {
				t.Errorf("err = %#v, want a TrapError wrapping errNoSuchThing", err)
			}
		}},
		{"nil", func(t *testing.T, err error) {
			var trap *engine.TrapError
			if !errors.As(err, &trap) || !strings.Contains(trap.Message, "nil pointer") {
				t.Errorf("err = %v, want a TrapError for the nil dereference", err)
			}
		}},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			ctx, st := withState(context.Background())
			st.logs = []string{tt.mode}
			inst := chain(t, ctx, host, m)[0]
			_, err := inst.Call(ctx, "fail")
			tt.check(t, err)
		})
	}
}

func TestInstanceMemory(t *testing.T) {
	e := newEngine(t, engine.Config{MaxInstanceMemory: 4 * 64 << 10})
	host := hostModule(t, e)
	ctx, _ := withState(context.Background())
	inst := chain(t, ctx, host, wat(t, e, "reenter.wat"))[0]
	mem := inst.Memory("memory")
	if mem.Size() != 64<<10 {
		t.Fatalf("Size() = %d", mem.Size())
	}
	if _, ok := mem.Read(64<<10-2, 4); ok {
		t.Error("Read across the end succeeded")
	}
	if _, ok := mem.Read(0xffffffff, 2); ok {
		t.Error("Read with overflowing range succeeded")
	}
	if mem.Write(64<<10-1, []byte{1, 2}) {
		t.Error("Write across the end succeeded")
	}
	if prev, ok := mem.Grow(1); !ok || prev != 1 {
		t.Errorf("Grow(1) = %d, %v", prev, ok)
	}
	if _, ok := mem.Grow(3); ok {
		t.Error("Grow past the engine limit succeeded")
	}
	// The guest sees the same limit.
	if res, err := inst.Call(ctx, "grow", 3); err != nil || int32(res[0]) != -1 {
		t.Errorf("guest memory.grow(3) = %v, %v; want -1", res, err)
	}
	if nope := inst.Memory("nope"); nope != nil || nope.Size() != 0 || nope.Write(0, []byte{1}) {
		t.Error("Memory(nope) is not a nil, empty memory")
	}
	if inst.Func("nope") != nil {
		t.Error("Func(nope) != nil")
	}
	if _, err := inst.Call(ctx, "grow"); err == nil {
		t.Error("Call with too few params succeeded")
	}
	if err := inst.Func("grow").Call(ctx, nil); err == nil {
		t.Error("Func.Call with a short stack succeeded")
	}
	if err := inst.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if inst.Func("grow") != nil || inst.Memory("memory") != nil {
		t.Error("closed instance still hands out exports")
	}
}

func TestStartFunction(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	ctx, st := withState(context.Background())
	inst := chain(t, ctx, host, wat(t, e, "start.wat"))[0]
	if len(st.logs) != 1 || st.logs[0] != "started" {
		t.Errorf("logs = %q", st.logs)
	}
	if st.caller != inst {
		t.Errorf("start function's caller %p is not the returned instance %p", st.caller, inst)
	}

	_, err := wat(t, e, "start_trap.wat").Instantiate(ctx, nil)
	var trap *engine.TrapError
	if !errors.As(err, &trap) || !strings.Contains(trap.Message, "unreachable") {
		t.Errorf("err = %v, want a TrapError", err)
	}
}

func TestInstantiateErrors(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	ctx, _ := withState(context.Background())
	a, c := wat(t, e, "a.wat"), wat(t, e, "c.wat")
	tests := []struct {
		name string
		mods []*engine.Module
		want string
	}{
		{"no such export", []*engine.Module{c, wat(t, e, "b.wat")}, `import "#0"."table": no such export`},
		{"wrong kind", []*engine.Module{a, wat(t, e, "b_kind.wat")}, `import "#0"."add": is a function, not a memory`},
		{"signature", []*engine.Module{a, wat(t, e, "b_badsig.wat")}, `import func[#0.add]: signature mismatch`},
		{"no module", []*engine.Module{wat(t, e, "b.wat")}, `import "#0"."memory": no module "#0" is provided`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := instantiateChain(ctx, host, tt.mods...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Without a resolver, a host import fails the same way.
	if _, err := c.Instantiate(ctx, nil); err == nil || !strings.Contains(err.Error(), `import "host"."log": no module "host"`) {
		t.Errorf("err = %v", err)
	}
	// WASI preview1 comes from the engine when Imports does not provide it.
	for _, imports := range []engine.Imports{nil, engine.ImportMap(nil)} {
		inst, err := wat(t, e, "wasi.wat").Instantiate(ctx, imports)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := inst.Call(ctx, "rand"); err != nil || res[0] != 0 {
			t.Errorf("random_get = %v, %v", res, err)
		}
		inst.Close(ctx)
	}
	// A typed nil is treated as "not provided", not a crash.
	_, err := c.Instantiate(ctx, engine.ImportMap(map[string]engine.Importable{"host": (*engine.HostModule)(nil)}))
	if err == nil || !strings.Contains(err.Error(), "no module") {
		t.Errorf("err = %v", err)
	}
}

func TestNewHostModuleErrors(t *testing.T) {
	e := newEngine(t, engine.Config{})
	fn := func(context.Context, *engine.Instance, []uint64) {}
	for _, funcs := range [][]engine.HostFunc{
		{{Name: "f", Fn: fn}, {Name: "f", Fn: fn}},
		{{Name: "f"}},
		{{Name: "f", Params: []engine.ValueType{0x42}, Fn: fn}},
	} {
		if _, err := e.NewHostModule(context.Background(), "h", funcs); err == nil {
			t.Errorf("NewHostModule(%v) succeeded", funcs)
		}
	}
	// Two host modules may share a name: names are not a namespace.
	for range 2 {
		h, err := e.NewHostModule(context.Background(), "same", []engine.HostFunc{{Name: "f", Fn: fn, Params: []engine.ValueType{engine.ExternRef, engine.FuncRef, engine.F64, engine.F32, engine.I64}}})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(context.Background())
	}
}

// TestConcurrentRequests is the hammer: many requests link the same modules
// against the same host module at once, each seeing only its own state.
func TestConcurrentRequests(t *testing.T) {
	e := newEngine(t, engine.Config{})
	host := hostModule(t, e)
	a, b, c := wat(t, e, "a.wat"), wat(t, e, "b.wat"), wat(t, e, "c.wat")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ctx, st := withState(context.Background())
				g, err := instantiateChain(ctx, host, a, b, c)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := g[1].Call(ctx, "run")
				if err == nil && res[0] != 49 {
					err = fmt.Errorf("worker %d: run() = %d, want 49 (state leaked between requests)", w, res[0])
				}
				if err == nil {
					_, err = g[2].Call(ctx, "run")
				}
				if err == nil && (len(st.logs) != 1 || st.caller != g[2]) {
					err = fmt.Errorf("worker %d: logs %q, caller %p want %p", w, st.logs, st.caller, g[2])
				}
				g.Close(ctx)
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkInstantiateChain links three modules per iteration (a request of
// a small component): a exports memory/table/global/func, b imports them, c
// imports a host function; then closes them.
func BenchmarkInstantiateChain(b *testing.B) {
	e := newEngine(b, engine.Config{})
	host := hostModule(b, e)
	ma, mb, mc := wat(b, e, "a.wat"), wat(b, e, "b.wat"), wat(b, e, "c.wat")
	ctx, _ := withState(context.Background())
	var g [3]*engine.Instance
	imports := func(name string) engine.Importable {
		switch name {
		case "host":
			return host
		case "#0":
			return g[0]
		}
		return nil
	}
	b.ReportAllocs()
	for b.Loop() {
		for k, m := range []*engine.Module{ma, mb, mc} {
			inst, err := m.Instantiate(ctx, imports)
			if err != nil {
				b.Fatal(err)
			}
			g[k] = inst
		}
		engine.Group(g[:]).Close(ctx)
	}
}

// BenchmarkHostCall measures guest → shim trampoline → host → back, through
// the cached Func: the per-call cost a lowered component import pays.
func BenchmarkHostCall(b *testing.B) {
	e := newEngine(b, engine.Config{})
	host := hostModule(b, e)
	ctx, _ := withState(context.Background())
	g := chain(b, ctx, host, wat(b, e, "shim.wat"), wat(b, e, "main.wat"), wat(b, e, "fixup.wat"))
	f := g[1].Func("run")
	stack := make([]uint64, 1)
	b.ReportAllocs()
	for b.Loop() {
		stack[0] = 21
		if err := f.Call(ctx, stack); err != nil {
			b.Fatal(err)
		}
	}
}
