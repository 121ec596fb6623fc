package wasi

import (
	"context"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// ExitError is returned by the wasi:cli/exit functions so that the guest
// unwinds at once: the linker turns it into a trap whose cause is this
// error. Executors recognise a guest's exit with errors.As and decide what
// the code means (for WAGI, exit 0 is success).
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("wasi: guest exited with code %d", e.Code) }

func cliInterfaces() []component.Interface {
	none := func(context.Context, *component.Call, []any) ([]any, error) {
		return []any{cabi.None}, nil
	}
	return []component.Interface{
		iface("cli/environment", map[string]component.HostFunc{
			"get-environment": getEnvironment,
			"get-arguments":   getArguments,
			"initial-cwd":     initialCwd,
		}),
		iface("cli/exit", map[string]component.HostFunc{
			"exit":           exit,
			"exit-with-code": exitWithCode,
		}),
		iface("cli/stdin", map[string]component.HostFunc{"get-stdin": getStdin}),
		iface("cli/stdout", map[string]component.HostFunc{"get-stdout": getStdout}),
		iface("cli/stderr", map[string]component.HostFunc{"get-stderr": getStderr}),
		// No instance has a terminal. terminal-input and terminal-output
		// declare only their resource, so they bind no functions.
		iface("cli/terminal-input", map[string]component.HostFunc{}),
		iface("cli/terminal-output", map[string]component.HostFunc{}),
		iface("cli/terminal-stdin", map[string]component.HostFunc{"get-terminal-stdin": none}),
		iface("cli/terminal-stdout", map[string]component.HostFunc{"get-terminal-stdout": none}),
		iface("cli/terminal-stderr", map[string]component.HostFunc{"get-terminal-stderr": none}),
	}
}

func getEnvironment(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	env := ctxOf(ctx).Env
	out := make([]any, len(env))
	for i, kv := range env {
		out[i] = []any{kv[0], kv[1]}
	}
	return []any{out}, nil
}

func getArguments(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	args := ctxOf(ctx).Args
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return []any{out}, nil
}

// initialCwd is the preopen's "/" when there is one: relative paths in
// guest libc then resolve against the granted files.
func initialCwd(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	if ctxOf(ctx).FS == nil {
		return []any{cabi.None}, nil
	}
	return []any{cabi.Some("/")}, nil
}

func exit(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	status, err := arg[cabi.Result](args, 0)
	if err != nil {
		return nil, err
	}
	if status.IsErr {
		return nil, &ExitError{Code: 1}
	}
	return nil, &ExitError{Code: 0}
}

func exitWithCode(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	code, err := arg[uint8](args, 0)
	if err != nil {
		return nil, err
	}
	return nil, &ExitError{Code: int(code)}
}

// Each get-std* call returns a new handle value over the instance's one
// stream, so the guest may hold (and drop) several handles independently.
type (
	stdinHandle  struct{ *readerStream }
	stdoutHandle struct{ *writerStream }
)

func getStdin(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	return []any{&stdinHandle{ctxOf(ctx).stdinStream()}}, nil
}

func getStdout(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	return []any{&stdoutHandle{ctxOf(ctx).stdoutStream()}}, nil
}

func getStderr(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	return []any{&stdoutHandle{ctxOf(ctx).stderrStream()}}, nil
}
