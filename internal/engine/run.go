package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// RunConfig describes one run of a WASI command.
type RunConfig struct {
	// Args is argv; Args[0] is the program name the guest sees.
	Args []string
	// Env holds "KEY=value" entries, passed in order.
	Env    []string
	Stdin  io.Reader // nil: empty
	Stdout io.Writer // nil: discarded
	Stderr io.Writer // nil: discarded
	// FS is mounted read-only at "/"; nil mounts nothing.
	FS fs.FS
	// Entrypoint is the exported function to call; "" means "_start".
	Entrypoint string
}

// Run runs the module as a WASI command in a fresh instance and returns its
// exit code: 0 when the entrypoint returns or calls proc_exit(0), n for
// proc_exit(n). err is a *TrapError for a trap, wraps ErrTimeout when ctx's
// deadline ends the run, and is never a panic.
func (m *Module) Run(ctx context.Context, rc RunConfig) (exitCode uint32, err error) {
	defer func() {
		if r := recover(); r != nil {
			exitCode, err = 0, fmt.Errorf("engine: internal error running guest: %v", r)
		}
	}()

	cfg, env, err := moduleConfig(rc)
	if err != nil {
		return 0, err
	}
	mod, alloc, err := m.instantiate(ctx, cfg)
	if err != nil {
		alloc.release()
		return m.result(ctx, nil, err)
	}
	m.eng.setEnviron(mod, env)
	defer func() {
		m.eng.environs.Delete(mod)
		mod.Close(context.WithoutCancel(ctx))
	}()

	// The deadline interrupts the guest through its interrupt flag.
	dom := &domain{}
	if g, ok := mod.ExportedGlobal(m.interrupt).(api.MutableGlobal); ok {
		dom.add(g)
	}
	stop := dom.arm(ctx)
	defer stop()

	if m.start != "" && m.snap == nil {
		if _, err := mod.ExportedFunction(m.start).Call(ctx); err != nil {
			return m.result(ctx, mod, err)
		}
	}
	entry := rc.Entrypoint
	if entry == "" {
		entry = "_start"
	}
	fn := mod.ExportedFunction(entry)
	if fn == nil || entry == m.start || entry == m.interrupt {
		return 0, fmt.Errorf("module has no exported function %q", entry)
	}
	_, err = fn.Call(ctx)
	return m.result(ctx, mod, err)
}

// moduleConfig builds the instance configuration, and the environment,
// which the engine serves itself (see environ.go). The entrypoint is called
// explicitly rather than as a start function so that the instance (and its
// memory size) is still inspectable after a trap.
func moduleConfig(rc RunConfig) (wazero.ModuleConfig, [][]byte, error) {
	cfg := wazero.NewModuleConfig().
		// An anonymous instance: names must be unique per runtime, and many
		// runs of one module happen at once.
		WithName("").
		WithStartFunctions().
		WithArgs(rc.Args...).
		// wazero's defaults are deterministic fakes; guests need real time,
		// sleeps and randomness.
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	env, err := environ(rc.Env)
	if err != nil {
		return nil, nil, err
	}
	if rc.Stdin != nil {
		cfg = cfg.WithStdin(rc.Stdin)
	}
	if rc.Stdout != nil {
		cfg = cfg.WithStdout(rc.Stdout)
	}
	if rc.Stderr != nil {
		cfg = cfg.WithStderr(rc.Stderr)
	}
	if rc.FS != nil {
		cfg = cfg.WithFSConfig(wazero.NewFSConfig().WithFSMount(rc.FS, "/"))
	}
	return cfg, env, nil
}

// result turns the outcome of instantiation or of the entrypoint call into
// Run's results. mod is nil when instantiation failed.
func (m *Module) result(ctx context.Context, mod api.Module, err error) (uint32, error) {
	if err == nil {
		return 0, nil
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return 0, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
		case sys.ExitCodeContextCanceled:
			return 0, fmt.Errorf("guest run canceled: %w", context.Canceled)
		}
		return exit.ExitCode(), nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return 0, fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded)
	}
	if errors.Is(ctx.Err(), context.Canceled) && mod != nil {
		return 0, fmt.Errorf("guest run canceled: %w", context.Canceled)
	}
	if mod == nil {
		// Instantiation itself failed: unresolved imports, a bad config, or
		// a trap in the start section.
		return 0, fmt.Errorf("instantiating module: %w", err)
	}
	trap := newTrapError(err)
	if mem := memoryOf(mod); mem != nil {
		trap.noteMemory(uint64(mem.Size()), m.eng.memLimit)
	}
	return 0, trap
}
