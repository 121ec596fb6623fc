// Package engine runs WebAssembly core modules. It is the only package that
// imports wazero: it compiles modules (with an optional on-disk cache), holds
// them, creates a fresh instance per run and enforces per-instance limits. It
// knows nothing of manifests, apps or triggers.
//
// Two ways to run a module: Module.Run runs a WASI command start to end
// (WAGI); Module.Instantiate creates a bare instance whose imports come from
// other instances and from HostModules, which is how a component's core
// modules are linked per request (see Instantiate and HostFunc). Host
// modules are defined once per engine and shared; per-request state reaches
// them through the call's context.
package engine

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// DefaultMaxInstanceMemory is the linear memory limit of an instance when
// Config.MaxInstanceMemory is zero.
const DefaultMaxInstanceMemory = 256 << 20

const (
	pageSize = 64 << 10
	maxPages = 1 << 16 // 4 GiB, the wasm32 address space
)

// Config configures an Engine. The zero value is usable.
type Config struct {
	// CacheDir holds compiled machine code, and the engine's rewrite of
	// each module (prepcache.go), between process starts, so a restart
	// does not redo them for every module. "" disables the disk cache.
	CacheDir string
	// MaxInstanceMemory is the most linear memory one instance may have, in
	// bytes, rounded up to whole 64 KiB pages. 0 means
	// DefaultMaxInstanceMemory.
	MaxInstanceMemory uint64
	// NoSnapshots makes Module.Snapshot refuse every module, so that
	// instances always run their initialisation (see snapshot.go for
	// what a snapshot shares between instances).
	NoSnapshots bool
}

// Engine compiles and runs modules. It is safe for concurrent use.
type Engine struct {
	rt    wazero.Runtime
	cache wazero.CompilationCache // nil without CacheDir
	// prepDir holds prepare's output between process starts ("" without
	// CacheDir; see prepcache.go).
	prepDir string
	// memLimit is the per-instance memory limit in bytes (a whole number of
	// pages); Run uses it to tell an out-of-memory trap from other traps.
	memLimit uint64
	// instCfg and hostCfg are the (immutable, shareable) configurations of
	// Module.Instantiate and NewHostModule instances, built once so that
	// instantiation does not rebuild them.
	instCfg, hostCfg wazero.ModuleConfig
	// environs maps an instance's api.Module to its WASI environment
	// (see environ.go).
	environs sync.Map
	// callers maps a Module.Instantiate instance's api.Module to its
	// *Instance, for host functions (see Engine.caller).
	callers sync.Map
	// mems pools guest linear memories outside the Go heap (nil where
	// unsupported: memories then live on the Go heap).
	mems        *memPool
	noSnapshots bool
}

// New creates an Engine with one wazero runtime shared by every module it
// compiles.
func New(ctx context.Context, c Config) (*Engine, error) {
	limit := c.MaxInstanceMemory
	if limit == 0 {
		limit = DefaultMaxInstanceMemory
	}
	pages := (limit + pageSize - 1) / pageSize
	if pages > maxPages {
		pages = maxPages
	}

	// NewRuntimeConfig picks the optimizing compiler on amd64 and arm64 (and
	// the interpreter elsewhere, where the compiler does not exist).
	// Deadlines are not wazero's CloseOnContextDone (which makes tight
	// loops many times slower) but an interrupt flag that Compile's
	// instrumentation checks at function entries and loop headers (see
	// interrupt.go).
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(uint32(pages))

	e := &Engine{
		memLimit:    pages * pageSize,
		mems:        newMemPool(pages * pageSize),
		noSnapshots: c.NoSnapshots,
		// Anonymous, so that any number of instances of one module coexist
		// (imports are resolved by Instantiate's resolver, not by name); no
		// start functions besides the module's own start section. Real
		// clocks and randomness, as in Run, for modules that import WASI.
		instCfg: wazero.NewModuleConfig().
			WithName("").
			WithStartFunctions().
			WithSysWalltime().
			WithSysNanotime().
			WithSysNanosleep().
			WithRandSource(rand.Reader),
		hostCfg: wazero.NewModuleConfig().WithName(""),
	}
	if c.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(c.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("engine: compilation cache %s: %w", c.CacheDir, err)
		}
		e.cache = cache
		rc = rc.WithCompilationCache(cache)
		e.prepDir = prepCacheDir(c.CacheDir)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)

	// WASI preview1 is instantiated once per runtime; every guest instance
	// links against it.
	if err := e.instantiateWASI(ctx); err != nil {
		e.Close(ctx)
		return nil, fmt.Errorf("engine: instantiating wasi_snapshot_preview1: %w", err)
	}
	if err := e.instantiateYield(ctx); err != nil {
		e.Close(ctx)
		return nil, fmt.Errorf("engine: instantiating %s: %w", rewrite.YieldModule, err)
	}
	return e, nil
}

// MaxInstanceMemory returns the effective per-instance memory limit in bytes.
func (e *Engine) MaxInstanceMemory() uint64 { return e.memLimit }

// Close releases the runtime, every module compiled by it and the cache
// handle (the cache's files stay on disk).
func (e *Engine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
	if e.mems != nil {
		e.mems.close()
	}
	if e.cache != nil {
		if cerr := e.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	return err
}
