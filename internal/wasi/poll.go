package wasi

import (
	"context"
	"errors"
	"math"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

func pollInterface() component.Interface {
	return iface("io/poll", map[string]component.HostFunc{
		"[method]pollable.ready": pollableReady,
		"[method]pollable.block": pollableBlock,
		"poll":                   poll,
	})
}

func pollableReady(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	p, err := arg[wasiio.Pollable](args, 0)
	if err != nil {
		return nil, err
	}
	return []any{p.Ready()}, nil
}

func pollableBlock(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	p, err := arg[wasiio.Pollable](args, 0)
	if err != nil {
		return nil, err
	}
	if err := p.Block(ctx); err != nil {
		return nil, blockErr(ctx, err)
	}
	return nil, nil
}

// poll waits until at least one pollable is ready and returns the indices
// of all that are.
func poll(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	list, err := arg[[]any](args, 0)
	if err != nil {
		return nil, err
	}
	// The WIT makes an empty list (it would block forever) and more than
	// u32 indices a trap.
	if len(list) == 0 {
		return nil, errors.New("wasi: poll with an empty list")
	}
	if uint64(len(list)) > math.MaxUint32 {
		return nil, errors.New("wasi: poll list too long")
	}
	ps := make([]wasiio.Pollable, len(list))
	for i, v := range list {
		p, ok := v.(wasiio.Pollable)
		if !ok {
			return nil, errors.New("wasi: poll list holds a non-pollable")
		}
		ps[i] = p
	}
	if ready := readyIndices(ps, -1); len(ready) > 0 {
		return []any{ready}, nil
	}
	woke, err := blockAny(ctx, ps)
	if err != nil {
		return nil, blockErr(ctx, err)
	}
	return []any{readyIndices(ps, woke)}, nil
}

// readyIndices lists the ready pollables; woke (if >= 0) is included even if
// it has become unready again, so a successful wait never returns nothing.
func readyIndices(ps []wasiio.Pollable, woke int) []any {
	var out []any
	for i, p := range ps {
		if i == woke || p.Ready() {
			out = append(out, uint32(i))
		}
	}
	return out
}

// blockAny blocks until one pollable's Block returns and reports its index.
// A single pollable is waited on directly; several each get a goroutine,
// all of which are cancelled and waited for before returning, so poll never
// leaves goroutines or timers behind.
func blockAny(ctx context.Context, ps []wasiio.Pollable) (int, error) {
	if len(ps) == 1 {
		err := ps[0].Block(ctx)
		if err != nil && ctx.Err() == nil {
			err = nil // see below
		}
		return 0, err
	}
	wctx, cancel := context.WithCancel(ctx)
	type done struct {
		i   int
		err error
	}
	ch := make(chan done, len(ps))
	for i, p := range ps {
		go func() { ch <- done{i, p.Block(wctx)} }()
	}
	first := <-ch
	cancel()
	for range len(ps) - 1 {
		<-ch
	}
	if first.err != nil && ctx.Err() == nil {
		// A pollable failed on its own: treat it as ready, as the guest
		// learns the cause from the operation it polled for.
		return first.i, nil
	}
	return first.i, first.err
}

// blockErr is what a blocking call returns when its wait ends in err: the
// request's context error (deadline, cancellation) unwinds the guest.
func blockErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// readyPollable is always ready: for things that never wait (files) or
// never exist (sockets).
type readyPollable struct{}

func (readyPollable) Ready() bool                 { return true }
func (readyPollable) Block(context.Context) error { return nil }
