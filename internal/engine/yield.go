package engine

import (
	"context"
	"sync/atomic"

	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// Long-running guests yield the processor. Compiled guest code runs
// without preemption: on a node with few cores, a request that computes
// for a while holds a core, and a short request whose thread wakes behind
// it waits for the kernel's time slice (milliseconds) — the tail latency a
// noisy neighbour inflicts. rewrite.Instrument counts an instance's ticks
// and, once it has run long, calls yieldCPU every few ticks (~every 100 µs
// in a tight loop), which puts the thread behind the other threads waiting
// for its CPU; with nobody waiting it returns at once (~1 µs: a lone long
// request loses ~1%). Short requests never call it. It does not call
// runtime.Gosched: that hands the goroutine to another thread when a
// processor is idle (~10 µs a time, measured), and the Go scheduler
// already preempts a goroutine at a tick after its 10 ms slice.

// yieldCalls counts yieldCPU calls, for tests.
var yieldCalls atomic.Int64

// instantiateYield instantiates the host module every instrumented module
// imports (once per runtime).
func (e *Engine) instantiateYield(ctx context.Context) error {
	_, err := e.rt.NewHostModuleBuilder(rewrite.YieldModule).
		NewFunctionBuilder().WithGoFunction(api.GoFunc(yieldCPU), nil, nil).Export(rewrite.YieldFunc).
		Instantiate(ctx)
	return err
}

func yieldCPU(context.Context, []uint64) {
	yieldCalls.Add(1)
	osYield()
}
