package main

// Loading an application: shared by up and doctor.

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/wisp-dev/wisp/internal/loader"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// appSource is what -f named: a manifest or a bare Wasm file.
type appSource struct {
	ManifestPath string // set for a manifest
	WasmPath     string // set for a bare .wasm
	OCIRef       string // set for a registry reference (registry.go)
}

// resolveSource turns -f ("" means the current directory) into a manifest
// path or a Wasm file.
func resolveSource(from string) (appSource, error) {
	if from == "" {
		from = "."
	}
	info, err := os.Stat(from)
	if src, ok := ociSource(from, err == nil); ok {
		return src, nil
	}
	if err != nil {
		if os.IsNotExist(err) {
			if from == "." || from == "spin.toml" {
				return appSource{}, usagef("no spin.toml in this directory: run in an app directory, pass -f <manifest|dir|file.wasm>, or create one with 'wisp new'")
			}
			return appSource{}, usagef("%s does not exist", from)
		}
		return appSource{}, err
	}
	if info.IsDir() {
		p := filepath.Join(from, "spin.toml")
		if _, err := os.Stat(p); err != nil {
			return appSource{}, usagef("no spin.toml in %s: pass -f <manifest|dir|file.wasm>", from)
		}
		return appSource{ManifestPath: p}, nil
	}
	if strings.HasSuffix(from, ".wasm") {
		return appSource{WasmPath: from}, nil
	}
	return appSource{ManifestPath: from}, nil
}

// readManifest parses the manifest of src; a bare Wasm file becomes a
// one-component app serving every path, as `spin up -f x.wasm` does.
func readManifest(src appSource) (*manifest.Manifest, error) {
	if src.OCIRef != "" {
		return ociManifest(src.OCIRef)
	}
	if src.ManifestPath != "" {
		return manifest.Load(src.ManifestPath)
	}
	abs, err := filepath.Abs(src.WasmPath)
	if err != nil {
		return nil, err
	}
	id := componentIDFromFile(abs)
	return &manifest.Manifest{
		Path:                filepath.Join(filepath.Dir(abs), "spin.toml"),
		SpinManifestVersion: 2,
		Application:         manifest.Application{Name: id},
		Triggers: []manifest.Trigger{{
			Type: "http", ID: id + "-http-trigger", Component: id,
			HTTP: &manifest.HTTPTrigger{Route: "/...", Executor: manifest.Executor{Type: manifest.ExecutorSpin}},
		}},
		Components: map[string]*manifest.Component{id: {ID: id, Source: manifest.Source{Path: abs}}},
	}, nil
}

// componentIDFromFile derives a kebab-case component id from a file name.
func componentIDFromFile(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	id := strings.TrimSuffix(b.String(), "-")
	if id == "" {
		return "app"
	}
	return id
}

// loadApp reads and resolves the app at src.
func loadApp(ctx context.Context, src appSource) (*manifest.Manifest, *lockedapp.LockedApp, error) {
	if src.OCIRef != "" {
		return loadOCIApp(ctx, src.OCIRef)
	}
	m, err := readManifest(src)
	if err != nil {
		return nil, nil, err
	}
	locked, err := loader.Load(ctx, m, loader.Options{CacheDir: downloadCacheDir()})
	if err != nil {
		return m, nil, err
	}
	return m, locked, nil
}

// wispCacheDir is where Wisp keeps compiled code and downloads between runs
// ($WISP_CACHE_DIR, else the user cache directory).
func wispCacheDir() string {
	if d := os.Getenv("WISP_CACHE_DIR"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "wisp-cache")
	}
	return filepath.Join(d, "wisp")
}

func downloadCacheDir() string { return filepath.Join(wispCacheDir(), "downloads") }
func compileCacheDir() string  { return filepath.Join(wispCacheDir(), "compiled") }

// parseKeyValues parses repeated "k=v" flag values.
func parseKeyValues(flag string, values []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--%s %q: want key=value", flag, kv)
		}
		out[k] = v
	}
	return out, nil
}

// describeSource names the app for messages.
func describeSource(src appSource) string {
	if src.OCIRef != "" {
		return src.OCIRef
	}
	if src.WasmPath != "" {
		return src.WasmPath
	}
	return src.ManifestPath
}
