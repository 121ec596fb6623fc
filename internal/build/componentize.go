package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Componentizing: `wisp build --component` turns a canonical-ABI core
// module (the form the Wisp Go SDK builds, DESIGN.md §1 form 2) into a
// Component Model binary that any component host runs (Wasmtime, Spin,
// jco): the module's imports and exports name their WIT interfaces, so a
// world is written from them, embedded with `wasm-tools component embed`,
// and wrapped with `wasm-tools component new`, with the WASI preview1
// adapter for what the Go runtime itself imports (wasi_snapshot_preview1).
//
// wasm-tools comes from the Go module go.bytecodealliance.org (its
// wasm-tools build compiled to WASI preview1), fetched through the Go
// module cache and run on Wisp's own engine, so nothing is installed. The
// adapter is the one npm's @bytecodealliance/jco ships, fetched at build
// time with `npm pack` and checked against a pinned digest; it is never
// committed.

const (
	// WasmToolsModule carries wasm-tools; pinned.
	WasmToolsModule = "go.bytecodealliance.org@v0.7.0"
	// AdapterPackage is the npm package the adapter comes from; pinned.
	AdapterPackage = "@bytecodealliance/jco@1.35.0"
	// AdapterSHA256 is the digest of its lib/wasi_snapshot_preview1.reactor.wasm.
	AdapterSHA256 = "b857310c4753c8fafaa0f890e9ccf978dc3d9dbe8804b1125291a627485041d0"
	adapterPath   = "package/lib/wasi_snapshot_preview1.reactor.wasm"
)

// ErrAlreadyComponent is returned by Componentize for a component.
var ErrAlreadyComponent = errors.New("already a component")

// ComponentizeOptions configure Componentize.
type ComponentizeOptions struct {
	// Adapter is the path of a WASI preview1 reactor adapter; "" uses
	// $WISP_WASI_ADAPTER, else the pinned one from npm (cached).
	Adapter string
	// CacheDir keeps the adapter and wasm-tools' compiled code.
	CacheDir string
	// Log receives progress lines; nil discards.
	Log io.Writer
}

// Componentize turns a canonical-ABI core module into a component.
func Componentize(ctx context.Context, core []byte, opts ComponentizeOptions) ([]byte, error) {
	if bytes.HasPrefix(core, componentMagic) {
		return nil, ErrAlreadyComponent
	}
	m, err := parseCore(core)
	if err != nil {
		return nil, err
	}
	world, needsAdapter, err := worldFor(m)
	if err != nil {
		return nil, err
	}
	if core, err = dedupeImports(core); err != nil {
		return nil, err
	}
	if core, err = prepareGoModule(core); err != nil {
		return nil, err
	}
	files := fstest.MapFS{
		"core.wasm":     {Data: core},
		"wit/world.wit": {Data: []byte(world)},
	}
	defs, err := embeddedWIT()
	if err != nil {
		return nil, err
	}
	for name, data := range defs {
		files["wit/deps/"+name] = &fstest.MapFile{Data: data}
	}
	tool, err := wasmTools(ctx, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	embedded, err := tool.run(ctx, files, "component", "embed", "/wit", "/core.wasm", "--world", "wisp:app/app")
	if err != nil {
		return nil, err
	}
	files["embedded.wasm"] = &fstest.MapFile{Data: embedded}
	args := []string{"component", "new", "/embedded.wasm"}
	if needsAdapter {
		adapter, err := findAdapter(ctx, opts)
		if err != nil {
			return nil, err
		}
		files["adapter.wasm"] = &fstest.MapFile{Data: adapter}
		args = append(args, "--adapt", "wasi_snapshot_preview1=/adapter.wasm")
	}
	return tool.run(ctx, files, args...)
}

// worldFor writes the WIT world of a core module from its import and
// export names. needsAdapter reports preview1 imports.
func worldFor(m *coreModule) (world string, needsAdapter bool, err error) {
	imports, exports := map[string]bool{}, map[string]bool{}
	for _, im := range m.imports {
		switch {
		case im.module == "wasi_snapshot_preview1":
			needsAdapter = true
		case im.kind != 0:
			return "", false, fmt.Errorf("import %s %s: a component's core module imports functions only", im.module, im.name)
		case strings.Contains(im.module, ":") && strings.Contains(im.module, "/"):
			imports[im.module] = true
		default:
			return "", false, fmt.Errorf("import %q %q is not a WIT interface (namespace:package/interface)", im.module, im.name)
		}
	}
	for _, e := range m.exports {
		if iface, _, ok := strings.Cut(e.name, "#"); ok && e.kind == 0 {
			exports[iface] = true
		}
	}
	if len(exports) == 0 {
		return "", false, errors.New("the module exports no WIT interface function (\"<interface>#<function>\"): it is not a canonical-ABI core module (a WAGI module or a command cannot be made a component this way)")
	}
	var b strings.Builder
	b.WriteString("package wisp:app;\n\nworld app {\n")
	for _, name := range sortedKeys(imports) {
		fmt.Fprintf(&b, "  import %s;\n", name)
	}
	for _, name := range sortedKeys(exports) {
		fmt.Fprintf(&b, "  export %s;\n", name)
	}
	b.WriteString("}\n")
	return b.String(), needsAdapter, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wasmToolsModule is wasm-tools compiled for Wisp's engine.
type wasmToolsModule struct{ m *engine.Module }

var (
	toolOnce sync.Once
	toolMod  *wasmToolsModule
	toolErr  error
)

func wasmTools(ctx context.Context, cacheDir string) (*wasmToolsModule, error) {
	toolOnce.Do(func() {
		toolMod, toolErr = loadWasmTools(ctx, cacheDir)
	})
	return toolMod, toolErr
}

func loadWasmTools(ctx context.Context, cacheDir string) (*wasmToolsModule, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return nil, fmt.Errorf("componentizing needs the go command, which fetches wasm-tools (%s): %w", WasmToolsModule, err)
	}
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", WasmToolsModule).Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		return nil, fmt.Errorf("go mod download %s: %v %s", WasmToolsModule, err, info.Error)
	}
	gz, err := os.ReadFile(filepath.Join(info.Dir, "internal", "wasmtools", "wasm-tools.wasm.gz"))
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	wasm, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	cfg := engine.Config{MaxInstanceMemory: 1 << 30}
	if cacheDir != "" {
		cfg.CacheDir = filepath.Join(cacheDir, "compiled")
	}
	eng, err := engine.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m, err := eng.Compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compiling wasm-tools: %w", err)
	}
	return &wasmToolsModule{m}, nil
}

// run runs wasm-tools with files at "/" and returns its stdout.
func (t *wasmToolsModule) run(ctx context.Context, files fs.FS, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	code, err := t.m.Run(ctx, engine.RunConfig{
		Args:   append([]string{"wasm-tools"}, args...),
		Stdout: &stdout,
		Stderr: &stderr,
		FS:     files,
	})
	if err != nil || code != 0 {
		return nil, fmt.Errorf("wasm-tools %s: exit %d %v\n%s", strings.Join(args, " "), code, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// findAdapter returns the WASI preview1 reactor adapter: opts.Adapter,
// $WISP_WASI_ADAPTER, the cached copy, or a fresh one from npm.
func findAdapter(ctx context.Context, opts ComponentizeOptions) ([]byte, error) {
	for _, p := range []string{opts.Adapter, os.Getenv("WISP_WASI_ADAPTER")} {
		if p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("WASI adapter: %w", err)
			}
			return b, nil
		}
	}
	if opts.CacheDir == "" {
		return nil, errors.New("no WASI adapter: give its path or a cache directory")
	}
	cached := filepath.Join(opts.CacheDir, "wasi-adapter", AdapterSHA256+".wasm")
	if b, err := os.ReadFile(cached); err == nil && digest(b) == AdapterSHA256 {
		return b, nil
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "Fetching the WASI preview1 adapter from npm (%s)\n", AdapterPackage)
	}
	b, err := fetchAdapter(ctx)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return nil, err
	}
	tmp := cached + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, err
	}
	return b, os.Rename(tmp, cached)
}

// fetchAdapter runs `npm pack` for AdapterPackage and takes the adapter
// out of the tarball, checking its digest.
func fetchAdapter(ctx context.Context) ([]byte, error) {
	if _, err := exec.LookPath("npm"); err != nil {
		return nil, fmt.Errorf("the WASI preview1 adapter comes from npm (%s), and npm is not installed; or pass --wasi-adapter <wasi_snapshot_preview1.reactor.wasm>", AdapterPackage)
	}
	dir, err := os.MkdirTemp("", "wisp-adapter")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, "npm", "pack", "--silent", "--pack-destination", dir, AdapterPackage)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm pack %s: %v\n%s", AdapterPackage, err, out)
	}
	tgzs, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if len(tgzs) != 1 {
		return nil, fmt.Errorf("npm pack %s made no tarball", AdapterPackage)
	}
	f, err := os.Open(tgzs[0])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s has no %s: %v", AdapterPackage, adapterPath, err)
		}
		if path.Clean(h.Name) != adapterPath {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 16<<20))
		if err != nil {
			return nil, err
		}
		if d := digest(b); d != AdapterSHA256 {
			return nil, fmt.Errorf("the WASI adapter from %s has digest %s, want %s", AdapterPackage, d, AdapterSHA256)
		}
		return b, nil
	}
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ComponentizeApp componentizes the local source of the selected
// components (all when ids is empty) in place, after a build. A source that
// already is a component is left alone.
func ComponentizeApp(ctx context.Context, m *manifest.Manifest, ids []string, opts ComponentizeOptions) error {
	comps, err := selectComponents(m, ids)
	if err != nil {
		return err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	for _, c := range comps {
		if c.Source.Path == "" {
			continue
		}
		p := c.Source.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(m.Path), p)
		}
		core, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("component %s: %w", c.ID, err)
		}
		comp, err := Componentize(ctx, core, opts)
		if errors.Is(err, ErrAlreadyComponent) {
			fmt.Fprintf(log, "Component %s: %s is already a component\n", c.ID, c.Source.Path)
			continue
		}
		if err != nil {
			return fmt.Errorf("componentizing %s (%s): %w", c.ID, c.Source.Path, err)
		}
		tmp := p + ".component.tmp"
		if err := os.WriteFile(tmp, comp, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
		fmt.Fprintf(log, "Component %s: %s is now a component (%d bytes)\n", c.ID, c.Source.Path, len(comp))
	}
	return nil
}
