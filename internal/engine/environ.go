package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The engine serves WASI's environ_get and environ_sizes_get itself, from
// environs, instead of through wazero's ModuleConfig.WithEnv: each WithEnv
// copies the whole configuration and its key map, so the ~35 CGI variables
// of a WAGI request cost ~30 KiB of Go heap (quadratic in their number),
// where the engine's own copy costs one slice.

// instantiateWASI instantiates WASI preview1 (once per runtime; every guest
// instance links against it) with the engine's environment functions.
func (e *Engine) instantiateWASI(ctx context.Context) error {
	b := e.rt.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	i32 := api.ValueTypeI32
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(e.environSizesGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("result.environc", "result.environv_len").
		Export("environ_sizes_get")
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(e.environGet), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("environ", "environ_buf").
		Export("environ_get")
	_, err := b.Instantiate(ctx)
	return err
}

// environ checks "KEY=value" entries and returns them NUL-terminated, as
// the guest receives them. A repeated key keeps its first place and takes
// the last value (as wazero's WithEnv did).
func environ(entries []string) ([][]byte, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	size := 0
	keep := make([]string, 0, len(entries))
next:
	for _, kv := range entries {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.IndexByte(kv, 0) >= 0 {
			return nil, fmt.Errorf("invalid environment entry %q: want KEY=value", kv)
		}
		for i, prev := range keep { // a few dozen entries: no map
			if len(prev) > len(k) && prev[len(k)] == '=' && prev[:len(k)] == k {
				size += len(kv) - len(prev)
				keep[i] = kv
				continue next
			}
		}
		keep = append(keep, kv)
		size += len(kv) + 1
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, len(keep))
	for i, kv := range keep {
		start := len(buf)
		buf = append(append(buf, kv...), 0)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out, nil
}

func (e *Engine) setEnviron(mod api.Module, env [][]byte) {
	if len(env) > 0 {
		e.environs.Store(mod, env)
	}
}

func (e *Engine) environOf(mod api.Module) [][]byte {
	if v, ok := e.environs.Load(mod); ok {
		return v.([][]byte)
	}
	return nil
}

// WASI errno values.
const (
	errnoSuccess = 0
	errnoFault   = 21
)

func (e *Engine) environSizesGet(_ context.Context, mod api.Module, stack []uint64) {
	env := e.environOf(mod)
	size := 0
	for _, kv := range env {
		size += len(kv)
	}
	mem := mod.Memory()
	if mem == nil || !mem.WriteUint32Le(uint32(stack[0]), uint32(len(env))) || !mem.WriteUint32Le(uint32(stack[1]), uint32(size)) {
		stack[0] = errnoFault
		return
	}
	stack[0] = errnoSuccess
}

// environGet writes the pointers to environ and the strings after each
// other to environBuf, as wasi-libc expects.
func (e *Engine) environGet(_ context.Context, mod api.Module, stack []uint64) {
	env := e.environOf(mod)
	ptrs, buf := uint32(stack[0]), uint32(stack[1])
	mem := mod.Memory()
	if mem == nil {
		stack[0] = errnoFault
		return
	}
	for i, kv := range env {
		if !mem.WriteUint32Le(ptrs+uint32(4*i), buf) || !mem.Write(buf, kv) {
			stack[0] = errnoFault
			return
		}
		buf += uint32(len(kv))
	}
	stack[0] = errnoSuccess
}
