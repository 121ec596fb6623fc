// Package loader turns a parsed manifest into a self-contained
// lockedapp.LockedApp: component sources are located (or downloaded and
// verified) and digested, file mounts are expanded into individual files
// that are proven to lie inside the application directory, and executor
// defaults are filled in so that runtimes never have to guess.
package loader

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Options configure Load. The zero value is usable when the manifest has a Path.
type Options struct {
	// AppDir is the directory relative paths in the manifest are resolved
	// against. Default: the directory of the manifest's Path.
	AppDir string
	// CacheDir holds downloaded component sources, addressed by digest.
	// Default: os.UserCacheDir()/wisp/downloads.
	CacheDir string
	// HTTPClient downloads remote sources. Default: http.DefaultClient
	// (requests are bounded by ctx).
	HTTPClient *http.Client
}

// Default WAGI executor settings, as Spin defines them.
const (
	defaultWAGIArgv       = "${SCRIPT_NAME} ${ARGS}"
	defaultWAGIEntrypoint = "_start"
)

// Load resolves m into a LockedApp. Every error names the component or
// trigger at fault and, where there is one, the path or URL involved.
func Load(ctx context.Context, m *manifest.Manifest, opts Options) (*lockedapp.LockedApp, error) {
	if m == nil {
		return nil, errors.New("loader: nil manifest")
	}
	l, err := newLoader(m, opts)
	if err != nil {
		return nil, err
	}

	app := &lockedapp.LockedApp{
		Version:   lockedapp.Version,
		Metadata:  l.metadata(),
		Variables: lockVariables(m.Variables),
	}

	for _, t := range m.Triggers {
		lt, err := lockTrigger(t, m.Components)
		if err != nil {
			return nil, err
		}
		app.Triggers = append(app.Triggers, lt)
	}

	// Like Spin, every component is loaded, not only those a trigger uses:
	// components can also be reached through service chaining or tooling.
	// Sorted ids make the output independent of map order.
	for _, id := range slices.Sorted(maps.Keys(m.Components)) {
		c, err := l.lockComponent(ctx, id, m.Components[id])
		if err != nil {
			return nil, err
		}
		app.Components = append(app.Components, c)
	}
	return app, nil
}

// loader carries what every step of Load needs.
type loader struct {
	m *manifest.Manifest
	// appDir is the absolute application directory with symlinks resolved,
	// so that containment checks compare like with like.
	appDir     string
	cacheDir   string
	httpClient *http.Client
}

func newLoader(m *manifest.Manifest, opts Options) (*loader, error) {
	dir := opts.AppDir
	if dir == "" {
		if m.Path == "" {
			return nil, errors.New("loader: application directory unknown: set Options.AppDir or Manifest.Path")
		}
		dir = filepath.Dir(m.Path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("application directory %q: %w", dir, err)
	}
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("application directory %q: %w", dir, err)
	}

	l := &loader{m: m, appDir: resolved, cacheDir: opts.CacheDir, httpClient: opts.HTTPClient}
	if l.httpClient == nil {
		l.httpClient = http.DefaultClient
	}
	return l, nil
}

// downloadDir returns the download cache, created lazily so that apps with
// only local sources never touch the user's cache directory.
func (l *loader) downloadDir() (string, error) {
	if l.cacheDir != "" {
		return l.cacheDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for downloads (set Options.CacheDir): %w", err)
	}
	return filepath.Join(base, "wisp", "downloads"), nil
}

func (l *loader) metadata() lockedapp.Metadata {
	a := l.m.Application
	md := lockedapp.Metadata{
		Name:          a.Name,
		Version:       a.Version,
		Description:   a.Description,
		Authors:       slices.Clone(a.Authors),
		TriggerConfig: maps.Clone(a.TriggerConfig),
	}
	if l.m.Path != "" {
		if abs, err := filepath.Abs(l.m.Path); err == nil {
			md.Origin = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
		}
	}
	return md
}

func lockVariables(vars map[string]manifest.Variable) map[string]lockedapp.Variable {
	if len(vars) == 0 {
		return nil
	}
	out := make(map[string]lockedapp.Variable, len(vars))
	for name, v := range vars {
		lv := lockedapp.Variable{Required: v.Required, Secret: v.Secret, Description: v.Description}
		if v.Default != nil {
			d := *v.Default
			lv.Default = &d
		}
		out[name] = lv
	}
	return out
}

func lockTrigger(t manifest.Trigger, components map[string]*manifest.Component) (lockedapp.Trigger, error) {
	lt := lockedapp.Trigger{ID: t.ID, Type: t.Type, Component: t.Component}
	where := fmt.Sprintf("trigger %q (%s)", t.ID, t.Type)

	if t.Component != "" {
		if _, ok := components[t.Component]; !ok {
			return lt, fmt.Errorf("%s: component %q is not defined: add a [component.%s] table", where, t.Component, t.Component)
		}
	}

	switch {
	case t.HTTP != nil:
		h, err := lockHTTP(t.HTTP)
		if err != nil {
			return lt, fmt.Errorf("%s: %w", where, err)
		}
		if t.Component == "" && h.StaticResponse == nil {
			return lt, fmt.Errorf("%s: no component: set component or static_response", where)
		}
		lt.HTTP = h
	case t.Redis != nil:
		cfg := map[string]any{"channel": t.Redis.Channel}
		if t.Redis.Address != "" {
			cfg["address"] = t.Redis.Address
		}
		if t.Redis.Concurrency > 0 {
			cfg["concurrency"] = t.Redis.Concurrency
		}
		lt.Config = cfg
	default:
		lt.Config = maps.Clone(t.Config)
	}
	if t.Component == "" && lt.HTTP == nil {
		return lt, fmt.Errorf("%s: no component: set component", where)
	}
	return lt, nil
}

func lockHTTP(h *manifest.HTTPTrigger) (*lockedapp.HTTPTrigger, error) {
	out := &lockedapp.HTTPTrigger{Route: h.Route, Private: h.Private}

	e := h.Executor
	switch e.Type {
	case "", manifest.ExecutorSpin, "http": // "http" is Spin's older spelling
		out.Executor = lockedapp.Executor{Type: manifest.ExecutorSpin}
	case manifest.ExecutorWAGI:
		out.Executor = lockedapp.Executor{Type: manifest.ExecutorWAGI, Argv: e.Argv, Entrypoint: e.Entrypoint}
		if out.Executor.Argv == "" {
			out.Executor.Argv = defaultWAGIArgv
		}
		if out.Executor.Entrypoint == "" {
			out.Executor.Entrypoint = defaultWAGIEntrypoint
		}
	default:
		return nil, fmt.Errorf("unknown executor type %q: use \"spin\" or \"wagi\"", e.Type)
	}

	if sr := h.StaticResponse; sr != nil {
		out.StaticResponse = &lockedapp.StaticResponse{
			StatusCode: sr.StatusCode,
			Headers:    maps.Clone(sr.Headers),
			Body:       sr.Body,
		}
		if out.StaticResponse.StatusCode == 0 {
			out.StaticResponse.StatusCode = http.StatusOK
		}
	}
	return out, nil
}

func (l *loader) lockComponent(ctx context.Context, id string, c *manifest.Component) (lockedapp.Component, error) {
	lc := lockedapp.Component{
		ID:                   id,
		Description:          c.Description,
		Environment:          maps.Clone(c.Environment),
		Variables:            maps.Clone(c.Variables),
		AllowedOutboundHosts: slices.Clone(c.AllowedOutboundHosts),
		KeyValueStores:       slices.Clone(c.KeyValueStores),
		SQLiteDatabases:      slices.Clone(c.SQLiteDatabases),
		AIModels:             slices.Clone(c.AIModels),
	}
	if len(c.Dependencies) > 0 {
		return lc, fmt.Errorf("component %q: dependencies are not supported yet: remove [component.%s.dependencies]", id, id)
	}
	if err := l.checkTemplates(id, c); err != nil {
		return lc, err
	}

	src, err := l.lockSource(ctx, id, c.Source)
	if err != nil {
		return lc, err
	}
	lc.Source = src

	files, err := l.lockFiles(id, c.Files, c.ExcludeFiles)
	if err != nil {
		return lc, err
	}
	lc.Files = files
	return lc, nil
}

// checkTemplates rejects templates that cannot be parsed or that name an
// undeclared application variable. Spin refuses these at load too; finding
// them here turns a per-request failure into a load-time one.
func (l *loader) checkTemplates(id string, c *manifest.Component) error {
	check := func(what, s string) error {
		t, err := manifest.ParseTemplate(s)
		if err != nil {
			return fmt.Errorf("component %q: %s: %w", id, what, err)
		}
		for _, name := range t.Vars() {
			if _, ok := l.m.Variables[name]; !ok {
				return fmt.Errorf("component %q: %s refers to undefined variable %q: declare it under [variables]", id, what, name)
			}
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(c.Variables)) {
		if err := check(fmt.Sprintf("variable %q", name), c.Variables[name]); err != nil {
			return err
		}
	}
	for _, h := range c.AllowedOutboundHosts {
		if err := check(fmt.Sprintf("allowed_outbound_hosts entry %q", h), h); err != nil {
			return err
		}
	}
	return nil
}
