package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/logs"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/trigger/http/wagi"
	wasihttpexec "github.com/wisp-dev/wisp/internal/trigger/http/wasihttp"
	"github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type upOptions struct {
	from              string
	listen            string
	findFreePort      bool
	variables         []string
	env               []string
	build             bool
	logDir            string
	runtimeConfig     string
	maxInstanceMemory string
	requestTimeout    time.Duration
	quiet             bool
	follow            []string
	verbose           bool
	sqlite            []string
	keyValues         []string
	snapshot          bool
	tls               tlsFlags
	tlsConfig         *tls.Config // loaded from tls by runUp
}

func newUpCmd() *cobra.Command {
	var o upOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Serve the application",
		Long: `Serve the application described by spin.toml (or a bare .wasm file).
Every request runs in a fresh WebAssembly instance. Ctrl-C stops the server
after in-flight requests have finished.`,
		Example: `  wisp up
  wisp up -f apps/demo --listen 127.0.0.1:8080
  wisp up --build --variable api_key=secret -e RUST_LOG=debug
  wisp up -f hello.wasm --request-timeout 5s --max-instance-memory 64Mi`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUp(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.from, "from", "f", "", "manifest file, app directory or .wasm file (default: ./spin.toml)")
	f.StringVar(&o.listen, "listen", httptrigger.DefaultListen, "address to listen on")
	f.BoolVar(&o.findFreePort, "find-free-port", false, "if the port is taken, use the next free one")
	f.StringArrayVar(&o.variables, "variable", nil, "application variable name=value; repeatable")
	f.StringArrayVarP(&o.env, "env", "e", nil, "environment variable KEY=VALUE for every component; repeatable")
	f.BoolVar(&o.build, "build", false, "run 'wisp build' first")
	f.StringVar(&o.logDir, "log-dir", "", "directory for component logs (default: <app>/.wisp/logs)")
	f.StringVar(&o.runtimeConfig, "runtime-config-file", "", "runtime-config.toml with backend choices")
	f.StringVar(&o.maxInstanceMemory, "max-instance-memory", "256Mi", "linear memory limit per instance (e.g. 64Mi, 1Gi)")
	f.DurationVar(&o.requestTimeout, "request-timeout", 60*time.Second, "deadline per request; a guest still running is stopped (0: none)")
	f.BoolVar(&o.snapshot, "snapshot", false, "start reactor instances from a snapshot taken after _initialize: faster cold starts, but a standard-Go guest's math/rand and map seeds then repeat across requests (crypto/rand does not)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not show component output on the console")
	f.StringArrayVar(&o.follow, "follow", nil, "show only this component's output on the console; repeatable")
	f.BoolVar(&o.verbose, "verbose", false, "log every request")
	f.StringArrayVar(&o.sqlite, "sqlite", nil, "run a SQLite statement (e.g. a migration) against the default database before serving; @file[:label] runs a file's statements; repeatable")
	f.StringArrayVar(&o.keyValues, "key-value", nil, "set KEY=VALUE in the app's default key-value store before serving (overwrites); repeatable")
	o.tls.register(f, "the app")
	return cmd
}

func runUp(cmd *cobra.Command, o upOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	memLimit, err := parseBytes(o.maxInstanceMemory)
	if err != nil {
		return usagef("--max-instance-memory: %v", err)
	}
	if o.tlsConfig, err = o.tls.config(); err != nil {
		return err
	}
	vars, err := parseKeyValues("variable", o.variables)
	if err != nil {
		return err
	}
	env, err := parseKeyValues("env", o.env)
	if err != nil {
		return err
	}
	src, err := resolveSource(o.from)
	if err != nil {
		return err
	}
	if o.build && src.ManifestPath != "" {
		m, err := manifest.Load(src.ManifestPath)
		if err != nil {
			return err
		}
		if err := build.Build(ctx, m, build.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}); err != nil {
			return err
		}
	}
	m, app, err := loadApp(ctx, src)
	if err != nil {
		return err
	}
	appDir := filepath.Dir(m.Path)

	set, err := factors(vars)
	if err != nil {
		return err
	}
	fapp, err := configureFactors(ctx, set, app, appDir, o.runtimeConfig, false)
	if err != nil {
		return err
	}
	defer fapp.Close()
	if err := seedApp(ctx, fapp, seedOptions{sqlite: o.sqlite, keyValues: o.keyValues, appDir: appDir, runtimeConfig: o.runtimeConfig}); err != nil {
		return err
	}
	addEnvironment(app, env)

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := newConsoleLogger(cmd.ErrOrStderr(), level)

	logDir := o.logDir
	if logDir == "" {
		logDir = filepath.Join(appDir, ".wisp", "logs")
	}
	sink, err := logs.New(logDir, cmd.ErrOrStderr(), logs.Options{Quiet: o.quiet, Follow: o.follow})
	if err != nil {
		return err
	}
	defer sink.Close()

	// Snapshots are opt-in: one taken after a Go runtime's init would
	// freeze its random seeds into every request.
	eng, err := engine.New(ctx, engine.Config{CacheDir: compileCacheDir(), MaxInstanceMemory: memLimit, NoSnapshots: !o.snapshot})
	if err != nil {
		return err
	}
	defer eng.Close(context.Background())

	host, err := newHost(set)
	if err != nil {
		return err
	}
	loaded, err := executor.Load(ctx, eng, app, sink, host, executor.WithPrepare(fapp.Prepare))
	if err != nil {
		return err
	}
	defer loaded.Close(context.Background())
	for _, c := range app.Components {
		if l := loaded.Component(c.ID).Linked; l != nil {
			for _, w := range l.Warnings() {
				log.Debug(w, "component", c.ID)
			}
		}
	}

	log.Info("Logging component stdio to " + logDir)
	// Every trigger type of the app (http, redis, mqtt, cron): triggers.go.
	err = serveTriggers(ctx, loaded, fapp, log, o)
	log.Info("Stopped")
	return err
}

// httpHandlers picks an executor for each component an HTTP trigger uses.
// self returns the app's own HTTP trigger, for requests a component sends
// to its own app; chained requests to <component>.spin.internal go straight
// to that component's handler, in process.
func httpHandlers(app *executor.App, log *slog.Logger, self func() http.Handler) (map[string]httptrigger.Handler, error) {
	handlers := map[string]httptrigger.Handler{}
	chain := func(id string) (http.Handler, bool) {
		h, ok := handlers[id]
		if !ok {
			return nil, false
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r, &httptrigger.RequestInfo{
				ComponentID: id, FullURL: r.URL.String(), PathInfo: r.URL.EscapedPath(),
				BasePath: "/", ClientAddr: "127.0.0.1:0",
			})
		}), true
	}
	selfHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { self().ServeHTTP(w, r) })
	for _, t := range app.Locked.Triggers {
		if t.Type != "http" || t.Component == "" {
			continue
		}
		c := app.Component(t.Component)
		if c == nil {
			return nil, fmt.Errorf("trigger %q: component %q is not loaded", t.ID, t.Component)
		}
		h, err := httpHandler(c, t.HTTP.Executor, log, wasihttpexec.Options{Chain: chain, Self: selfHandler})
		if err != nil {
			return nil, err
		}
		// Each trigger keeps its own executor settings (two WAGI triggers
		// of one component may pass different argv): a component with
		// several triggers dispatches on the trigger that matched.
		switch prev := handlers[t.Component].(type) {
		case nil:
			handlers[t.Component] = h
		case byTrigger:
			prev.handlers[t.ID] = h
		default:
			first := httpTriggerOf(app.Locked, t.Component)
			handlers[t.Component] = byTrigger{first: prev, handlers: map[string]httptrigger.Handler{first: prev, t.ID: h}}
		}
	}
	return handlers, nil
}

// byTrigger serves a component that several HTTP triggers route to, each
// with its own executor; chained requests (no trigger) use the first.
type byTrigger struct {
	first    httptrigger.Handler
	handlers map[string]httptrigger.Handler
}

func (b byTrigger) ServeHTTP(w http.ResponseWriter, r *http.Request, info *httptrigger.RequestInfo) {
	if h, ok := b.handlers[info.TriggerID]; ok {
		h.ServeHTTP(w, r, info)
		return
	}
	b.first.ServeHTTP(w, r, info)
}

// httpTriggerOf returns the id of the first HTTP trigger of component id.
func httpTriggerOf(app *lockedapp.LockedApp, id string) string {
	for _, t := range app.Triggers {
		if t.Type == "http" && t.Component == id {
			return t.ID
		}
	}
	return ""
}

func httpHandler(c *executor.Component, ex lockedapp.Executor, log *slog.Logger, opts wasihttpexec.Options) (httptrigger.Handler, error) {
	if ex.Type == manifest.ExecutorWAGI {
		return wagi.New(c, ex, wagi.Options{}), nil
	}
	if c.Linked != nil {
		if _, ok := c.Linked.Export(wasihttp.IncomingHandlerInterface); ok {
			return wasihttpexec.New(c, c.Linked, opts)
		}
	}
	// The default executor expects a wasi:http guest; a WASI command (a
	// preview1 module exporting _start, or a component exporting
	// wasi:cli/run) can serve HTTP through WAGI instead.
	if c.IsCommand() && (c.Module == nil || hasExport(c, "_start")) {
		log.Debug("component is a WASI command: serving it with the WAGI executor", "component", c.ID)
		return wagi.New(c, lockedapp.Executor{Type: manifest.ExecutorWAGI, Argv: "${SCRIPT_NAME} ${ARGS}", Entrypoint: "_start"}, wagi.Options{}), nil
	}
	return nil, fmt.Errorf("component %q exports neither wasi:http/incoming-handler nor a WASI command entrypoint: it cannot serve HTTP", c.ID)
}

func hasExport(c *executor.Component, name string) bool {
	for _, e := range c.Module.Exports() {
		if e == name {
			return true
		}
	}
	return false
}

// addEnvironment adds -e variables to every component; the manifest's own
// environment entries win, as in Spin.
func addEnvironment(app *lockedapp.LockedApp, env map[string]string) {
	if len(env) == 0 {
		return
	}
	for i := range app.Components {
		c := &app.Components[i]
		if c.Environment == nil {
			c.Environment = map[string]string{}
		}
		for k, v := range env {
			if _, set := c.Environment[k]; !set {
				c.Environment[k] = v
			}
		}
	}
}

// parseBytes reads a size such as "268435456", "64Mi", "1Gi", "512MB".
func parseBytes(s string) (uint64, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	if n > 4<<30 {
		return 0, fmt.Errorf("%q is more than the 4 GiB a 32-bit WebAssembly memory can address", s)
	}
	return n, nil
}

// parseSize reads a positive size with an optional unit (Ki, Mi, Gi, KB,
// MB, GB, K, M, G, B), without parseBytes' 4 GiB cap.
func parseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		mult   uint64
	}{
		{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), uint64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size (examples: 64Mi, 1Gi, 268435456)", s)
	}
	return n * mult, nil
}
