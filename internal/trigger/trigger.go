// Package trigger holds what Wisp's event triggers (redis, mqtt, cron) share:
// the Trigger interface the composition root runs, and Invoker, which calls
// one exported function of a component in a fresh instance with the
// component's host capabilities prepared, its output logged and a deadline.
//
// The HTTP trigger (package http) serves requests through its own
// executors; the composition root runs it as a Trigger with Func.
package trigger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// Trigger turns events into calls of components.
type Trigger interface {
	// Run serves events until ctx is cancelled, waits for the calls in
	// flight, and returns nil. An error means the trigger could not work
	// at all (it cannot reach its server at startup, for example); a
	// failing guest is never such an error.
	Run(ctx context.Context) error
}

// Func adapts a function to Trigger (http.Server.Serve with its listener,
// for example).
type Func func(ctx context.Context) error

// Run calls f.
func (f Func) Run(ctx context.Context) error { return f(ctx) }

// Export names an exported function a trigger may call, and the type the
// trigger calls it with. Interface is "" for a function the component
// exports directly (a world-level export such as the MQTT and cron
// plugins' handlers).
type Export struct {
	Interface string
	Func      string
	Type      *cabi.FuncType
}

func (e Export) String() string {
	if e.Interface == "" {
		return e.Func
	}
	return e.Interface + "#" + e.Func
}

// Options tunes an Invoker.
type Options struct {
	// Timeout, if positive, is the deadline of one call; a guest still
	// running then is stopped.
	Timeout time.Duration
	// Context, if set, adds per-call state a host capability outside the
	// factors needs (the composition root passes wasi:http's outbound
	// configuration, for example).
	Context func(ctx context.Context, c *executor.Component) context.Context
}

// Invoker calls one export of one component, each call in a fresh
// instance. It is safe for concurrent use.
type Invoker struct {
	c      *executor.Component
	comp   *component.Component
	export Export
	opts   Options
	env    [][2]string
}

// NewInvoker returns an Invoker of the first of candidates that c exports
// with the expected type. It fails with a message naming the candidates if
// c exports none of them, or exports one with another type.
func NewInvoker(c *executor.Component, opts Options, candidates ...Export) (*Invoker, error) {
	if c.Linked == nil {
		return nil, fmt.Errorf("component %q is neither a WebAssembly component nor a core module speaking the canonical ABI, so it cannot export %s", c.ID, names(candidates))
	}
	for _, want := range candidates {
		name, ok := want.Interface, true
		if want.Interface != "" {
			name, ok = c.Linked.Export(want.Interface)
		}
		if !ok {
			continue
		}
		got, ok := c.Linked.ExportType(name, want.Func)
		if !ok {
			continue
		}
		if why := compareFunc(got, want.Type); why != "" {
			return nil, fmt.Errorf("component %q exports %s with the wrong type: %s", c.ID, want, why)
		}
		inv := &Invoker{c: c, comp: c.Linked, export: Export{Interface: name, Func: want.Func, Type: got}, opts: opts}
		for _, kv := range c.Env {
			k, v, _ := strings.Cut(kv, "=")
			inv.env = append(inv.env, [2]string{k, v})
		}
		return inv, nil
	}
	return nil, fmt.Errorf("component %q exports none of %s", c.ID, names(candidates))
}

func names(exports []Export) string {
	out := make([]string, len(exports))
	for i, e := range exports {
		out[i] = e.String()
	}
	return strings.Join(out, ", ")
}

// Component returns the component the Invoker calls.
func (inv *Invoker) Component() *executor.Component { return inv.c }

// Export returns the export the Invoker calls, as the component names it.
func (inv *Invoker) Export() Export { return inv.export }

// ErrGuest marks a call whose guest returned result::err: the guest ran
// and reported a failure.
var ErrGuest = errors.New("guest returned an error")

// Call runs the export with args in a fresh instance: the factors prepare
// the instance's host capabilities, the guest's stdout and stderr go to the
// component's log, and the instance is closed before Call returns. A
// result::err of the guest is returned as an error wrapping ErrGuest; a
// trap, a timeout (wrapping engine.ErrTimeout or
// context.DeadlineExceeded) or a failure to instantiate as other errors.
func (inv *Invoker) Call(ctx context.Context, args ...any) error {
	if inv.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inv.opts.Timeout)
		defer cancel()
	}
	stdout, stderr := inv.c.Output()
	wctx := &wasi.Ctx{Env: inv.env, Stdout: stdout, Stderr: stderr, FS: inv.c.FS}
	callCtx := wasi.WithCtx(ctx, wctx)
	// Core modules that also use WASI preview1 (the Go runtime of a Wisp Go
	// SDK guest) see the same environment, output and files through it.
	callCtx = engine.WithWASI(callCtx, engine.RunConfig{Env: inv.c.Env, Stdout: stdout, Stderr: stderr, FS: inv.c.FS})
	if inv.opts.Context != nil {
		callCtx = inv.opts.Context(callCtx, inv.c)
	}
	results, err := inv.call(callCtx, args)

	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	wctx.Flush(flushCtx)
	cancel()
	stdout.Close()
	stderr.Close()

	if err != nil {
		return err
	}
	return guestResult(inv.export.Type, results)
}

func (inv *Invoker) call(ctx context.Context, args []any) ([]any, error) {
	ctx, err := inv.c.Prepare(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing host capabilities: %w", err)
	}
	inst, err := inv.comp.Instantiate(ctx)
	if err != nil {
		return nil, fmt.Errorf("instantiating: %w", err)
	}
	defer inst.Close(context.WithoutCancel(ctx))
	return inst.Call(ctx, inv.export.Interface, inv.export.Func, args...)
}

// guestResult turns a result<_, E> into an error wrapping ErrGuest.
func guestResult(ft *cabi.FuncType, results []any) error {
	if len(ft.Results) != 1 || len(results) != 1 {
		return nil
	}
	r, ok := results[0].(cabi.Result)
	if !ok || !r.IsErr {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrGuest, Describe(ft.Results[0].Type.Err, r.Value))
}

// Describe renders a guest's error value for a log line: an enum as its
// label, a variant as its case name and payload ("other: bad input").
func Describe(t *cabi.Type, v any) string {
	if t == nil {
		return "(no details)"
	}
	switch t.Kind {
	case cabi.KindEnum:
		if i, ok := v.(uint32); ok && int(i) < len(t.Labels) {
			return t.Labels[i]
		}
	case cabi.KindVariant:
		if vv, ok := v.(cabi.Variant); ok && int(vv.Case) < len(t.Cases) {
			c := t.Cases[vv.Case]
			if c.Type == nil {
				return c.Name
			}
			return c.Name + ": " + Describe(c.Type, vv.Value)
		}
	case cabi.KindString:
		if s, ok := v.(string); ok {
			return s
		}
	}
	return fmt.Sprint(v)
}

// IsTimeout reports whether err is a call that ran out of time.
func IsTimeout(err error) bool {
	return errors.Is(err, engine.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// DescribeError renders a failed call for the component's log, with the
// trap's stack trace when there is one.
func DescribeError(err error) string {
	msg := err.Error()
	var trap *engine.TrapError
	if errors.As(err, &trap) && trap.Trace != "" {
		msg += "\n" + trap.Trace
	}
	return msg
}

// Stats counts what a trigger did. Its fields are updated atomically; read
// them with Load.
type Stats struct {
	// Handled counts calls whose guest returned success.
	Handled atomic.Int64
	// Failed counts calls that failed: the guest returned an error,
	// trapped, ran out of time or could not be instantiated.
	Failed atomic.Int64
	// Skipped counts events that were not delivered (a cron tick that
	// fired while the previous run was still going).
	Skipped atomic.Int64
}

// Record counts the outcome of one call.
func (s *Stats) Record(err error) {
	if err != nil {
		s.Failed.Add(1)
		return
	}
	s.Handled.Add(1)
}
