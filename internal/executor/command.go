package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// cliRun is the export a WASI 0.2 command component runs through.
const cliRun = "wasi:cli/run@0.2.0"

// IsCommand reports whether the component can run as a WASI command: a
// preview1 module (its entrypoint runs) or a component exporting
// wasi:cli/run.
func (c *Component) IsCommand() bool {
	if c.Module != nil {
		return true
	}
	if c.Linked != nil {
		_, ok := c.Linked.Export(cliRun)
		return ok
	}
	return false
}

// RunCommand runs the component as a WASI command in a fresh instance and
// returns its exit code, so executors such as WAGI serve preview1 modules
// and command components alike. rc.Entrypoint applies to modules only.
func (c *Component) RunCommand(ctx context.Context, rc engine.RunConfig) (uint32, error) {
	if c.Module != nil {
		return c.Module.Run(ctx, rc)
	}
	if c.Linked == nil {
		return 0, errors.New("component is not a WASI command")
	}
	iface, ok := c.Linked.Export(cliRun)
	if !ok {
		return 0, errors.New("component exports neither _start nor wasi:cli/run")
	}
	wctx := &wasi.Ctx{Args: rc.Args, Env: splitEnv(rc.Env), Stdin: rc.Stdin, Stdout: rc.Stdout, Stderr: rc.Stderr, FS: rc.FS}
	ctx = wasi.WithCtx(ctx, wctx)
	ctx, err := c.Prepare(ctx)
	if err != nil {
		return 0, err
	}
	inst, err := c.Linked.Instantiate(ctx)
	if err != nil {
		return 0, err
	}
	results, err := inst.Call(ctx, iface, "run")
	// Output the guest wrote just before returning is still in flight.
	if ferr := wctx.Flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	inst.Close(ctx)
	return exitCode(results, err)
}

// exitCode maps the outcome of wasi:cli/run to a process exit code:
// ok → 0, err → 1, wasi:cli/exit → its code.
func exitCode(results []any, err error) (uint32, error) {
	var exit *wasi.ExitError
	if errors.As(err, &exit) {
		return uint32(exit.Code), nil
	}
	if err != nil {
		return 0, err
	}
	if len(results) != 1 {
		return 0, fmt.Errorf("wasi:cli/run returned %d results, want 1", len(results))
	}
	if r, ok := results[0].(cabi.Result); ok && r.IsErr {
		return 1, nil
	}
	return 0, nil
}

func splitEnv(env []string) [][2]string {
	out := make([][2]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, [2]string{k, v})
	}
	return out
}
