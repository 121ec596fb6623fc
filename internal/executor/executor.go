// Package executor prepares an app once and instantiates its components per
// request: Load reads, verifies and compiles every component's Wasm, builds
// its file system, environment and log writers. Triggers then run
// components through the executors that build on it (WAGI, wasi:http, ...).
package executor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/wisp-dev/wisp/internal/appfs"
	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/binary"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// App is a loaded application.
type App struct {
	Locked     *lockedapp.LockedApp
	components map[string]*Component
}

// Component is a loaded component: what an executor needs to run it.
type Component struct {
	ID     string
	Locked *lockedapp.Component
	// Module is the compiled core module of a plain WASI program (a WAGI
	// command); nil otherwise.
	Module *engine.Module
	// Linked is the linked component of a Component Model binary, or of a
	// core module that speaks the canonical ABI (it exports
	// "<interface>#<func>"); nil otherwise, and nil when Load had no Host.
	Linked *component.Component
	// FS holds exactly the component's granted files, read-only.
	FS fs.FS
	// Env is the component's environment as sorted "KEY=value" entries.
	Env []string

	componentModel bool
	logs           *logs.Sink
	prepare        PrepareFunc
}

// Load prepares every component of app: plain WASI modules are compiled,
// components (and canonical-ABI core modules) are linked against host.
// With a nil host, Component Model binaries are recorded, not linked, so a
// trigger can answer a clear error for them while the rest of the app works.
// sink may be nil (output is discarded).
func Load(ctx context.Context, eng *engine.Engine, app *lockedapp.LockedApp, sink *logs.Sink, host *component.Host, opts ...Option) (*App, error) {
	a := &App{Locked: app, components: make(map[string]*Component, len(app.Components))}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for i := range app.Components {
		c, err := load(ctx, eng, &app.Components[i], sink, host)
		if err != nil {
			a.Close(ctx)
			return nil, fmt.Errorf("component %q: %w", app.Components[i].ID, err)
		}
		c.prepare = o.prepare
		a.components[c.ID] = c
	}
	return a, nil
}

// Option configures Load.
type Option func(*options)

type options struct {
	prepare PrepareFunc
}

// PrepareFunc puts what a component may reach through host capabilities
// (its key-value stores, its variables, ...) into the context of one
// instance. The composition root passes the factors' Prepare.
type PrepareFunc func(ctx context.Context, componentID string) (context.Context, error)

// WithPrepare sets the per-instance preparation of every component.
func WithPrepare(fn PrepareFunc) Option {
	return func(o *options) { o.prepare = fn }
}

// Prepare returns ctx with the per-instance state of the host capabilities
// granted to the component; executors call it before running a guest.
func (c *Component) Prepare(ctx context.Context) (context.Context, error) {
	if c.prepare == nil {
		return ctx, nil
	}
	return c.prepare(ctx, c.ID)
}

func load(ctx context.Context, eng *engine.Engine, lc *lockedapp.Component, sink *logs.Sink, host *component.Host) (*Component, error) {
	wasm, err := os.ReadFile(lc.Source.Path)
	if err != nil {
		return nil, fmt.Errorf("reading source: %w", err)
	}
	if err := verifyDigest(wasm, lc.Source.Digest); err != nil {
		return nil, err
	}
	fsys, err := appfs.New(lc.Files)
	if err != nil {
		return nil, err
	}
	c := &Component{ID: lc.ID, Locked: lc, FS: fsys, Env: environ(lc.Environment), logs: sink}
	if engine.IsComponent(wasm) {
		c.componentModel = true
		if host != nil {
			if c.Linked, err = component.Load(ctx, eng, wasm, host); err != nil {
				return nil, fmt.Errorf("%s: %w", lc.Source.Path, err)
			}
		}
		return c, nil
	}
	if host != nil && speaksCanonicalABI(coreExportNames(wasm)) {
		// The Wisp Go SDK's form: a core module importing and exporting
		// interfaces by their canonical names. It runs like a component,
		// and LoadCore compiles it.
		if c.Linked, err = component.LoadCore(ctx, eng, wasm, host); err != nil {
			return nil, fmt.Errorf("%s: %w", lc.Source.Path, err)
		}
		return c, nil
	}
	if c.Module, err = eng.Compile(ctx, wasm); err != nil {
		return nil, fmt.Errorf("%s: %w", lc.Source.Path, err)
	}
	return c, nil
}

// coreExportNames lists a core module's export names, read from its export
// section without compiling it: compiling a standard-Go module only to see
// its exports was half of its load. A module whose exports cannot be read
// gets none, and Compile then reports what is wrong with it.
func coreExportNames(wasm []byte) []string {
	exps, err := binary.CoreExports(wasm)
	if err != nil {
		return nil
	}
	names := make([]string, len(exps))
	for i, e := range exps {
		names[i] = e.Name
	}
	return names
}

// speaksCanonicalABI reports whether a core module exports functions named
// the canonical ABI's way, "<namespace>:<package>/<interface>#<func>".
func speaksCanonicalABI(exports []string) bool {
	for _, e := range exports {
		iface, _, ok := strings.Cut(e, "#")
		if ok && strings.Contains(iface, ":") && strings.Contains(iface, "/") {
			return true
		}
		// A world-level function of a known world (the MQTT trigger's
		// handle-message, cron's handle-cron-event).
		if _, ok := wit.Builtin().WorldExportFunc(e); ok {
			return true
		}
	}
	return false
}

// verifyDigest checks the source against the digest recorded when the app
// was locked, so a file changed since then is never run.
func verifyDigest(wasm []byte, digest string) error {
	want, ok := strings.CutPrefix(digest, "sha256:")
	if !ok {
		return fmt.Errorf("source digest %q: want \"sha256:<hex>\"", digest)
	}
	sum := sha256.Sum256(wasm)
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return fmt.Errorf("source digest mismatch: file has sha256:%s, app was locked with %s", got, digest)
	}
	return nil
}

// environ returns env as sorted "KEY=value" entries, so every instance (and
// every test) sees the same order.
func environ(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Component returns the loaded component with the given id, or nil.
func (a *App) Component(id string) *Component { return a.components[id] }

// Close releases the compiled modules.
func (a *App) Close(ctx context.Context) error {
	var first error
	for _, c := range a.components {
		if c.Module != nil {
			if err := c.Module.Close(ctx); err != nil && first == nil {
				first = err
			}
		}
		if c.Linked != nil {
			if err := c.Linked.Close(ctx); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// IsComponentModel reports whether the source is a Component Model binary.
func (c *Component) IsComponentModel() bool { return c.componentModel }

// Output returns line-buffered stdout and stderr log writers for one
// instance; close them when the instance is done.
func (c *Component) Output() (stdout, stderr io.WriteCloser) { return c.logs.Request(c.ID) }

// Logf writes a host message about the component to its stderr log.
func (c *Component) Logf(format string, args ...any) { c.logs.Hostf(c.ID, format, args...) }
