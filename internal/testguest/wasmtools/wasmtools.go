// Package wasmtools builds test components with wasm-tools, without
// installing it: the Go module go.bytecodealliance.org ships wasm-tools
// compiled to WASI preview1 (internal/wasmtools/wasm-tools.wasm.gz), which
// this package takes from the module cache and runs on Wisp's own engine.
//
// That build has the `component` subcommands only (new, embed, wit, ...),
// not the text-format parser, so a test component is made the way real
// toolchains make them: a core module (WAT assembled by wat2wasm) with the
// component's WIT embedded, then `component new`.
package wasmtools

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
)

// Module is the Go module that carries the wasm-tools build; pinned.
const Module = "go.bytecodealliance.org@v0.7.0"

var (
	once   sync.Once
	eng    *engine.Engine
	tool   *engine.Module
	setErr error
)

func load(t testing.TB) *engine.Module {
	t.Helper()
	once.Do(func() {
		out, err := exec.Command("go", "mod", "download", "-json", Module).Output()
		if err != nil {
			setErr = fmt.Errorf("go mod download %s: %v", Module, err)
			return
		}
		var info struct{ Dir, Error string }
		if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
			setErr = fmt.Errorf("go mod download %s: %v %s", Module, err, info.Error)
			return
		}
		gz, err := os.ReadFile(filepath.Join(info.Dir, "internal", "wasmtools", "wasm-tools.wasm.gz"))
		if err != nil {
			setErr = err
			return
		}
		r, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			setErr = err
			return
		}
		wasm, err := io.ReadAll(r)
		if err != nil {
			setErr = err
			return
		}
		ctx := context.Background()
		eng, err = engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t), MaxInstanceMemory: 1 << 30})
		if err != nil {
			setErr = err
			return
		}
		tool, setErr = eng.Compile(ctx, wasm)
	})
	if setErr != nil {
		t.Fatalf("wasmtools: %v", setErr)
	}
	return tool
}

// Run runs `wasm-tools args...` with the files of dir visible at "/" and
// returns its stdout.
func Run(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	m := load(t)
	var stdout, stderr bytes.Buffer
	code, err := m.Run(context.Background(), engine.RunConfig{
		Args:   append([]string{"wasm-tools"}, args...),
		Stdout: &stdout,
		Stderr: &stderr,
		FS:     os.DirFS(dir),
	})
	if err != nil || code != 0 {
		t.Fatalf("wasm-tools %s: exit %d, %v\n%s", strings.Join(args, " "), code, err, stderr.String())
	}
	return stdout.Bytes()
}

// Component assembles a component from a core module in WAT and the WIT
// world it implements (world is the world's name in witText). The core
// module must follow the canonical ABI's naming: imports by interface name,
// exports "<iface>#<func>", "memory", "cabi_realloc". Results are cached by
// content hash like every test guest.
func Component(t testing.TB, witText, world, coreWAT string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(witText + "\x00" + world + "\x00" + coreWAT))
	key := hex.EncodeToString(sum[:16])
	cacheDir := filepath.Join(testguest.CompilationCacheDir(t), "..", "components")
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(cacheDir, key+".wasm")
	if _, err := os.Stat(final); err == nil {
		return final
	}
	dir := t.TempDir()
	watFile := filepath.Join(dir, "core.wat")
	if err := os.WriteFile(watFile, []byte(coreWAT), 0o644); err != nil {
		t.Fatal(err)
	}
	core := testguest.WAT(t, watFile)
	copyTo(t, core, filepath.Join(dir, "core.wasm"))
	if err := os.WriteFile(filepath.Join(dir, "world.wit"), []byte(witText), 0o644); err != nil {
		t.Fatal(err)
	}
	embedded := Run(t, dir, "component", "embed", "/world.wit", "/core.wasm", "--world", world)
	if err := os.WriteFile(filepath.Join(dir, "embedded.wasm"), embedded, 0o644); err != nil {
		t.Fatal(err)
	}
	comp := Run(t, dir, "component", "new", "/embedded.wasm")
	tmp := final + ".tmp" + hex.EncodeToString(sum[16:20])
	if err := os.WriteFile(tmp, comp, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, final); err != nil {
		t.Fatal(err)
	}
	return final
}

func copyTo(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
