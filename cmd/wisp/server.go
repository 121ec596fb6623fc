package main

// wisp server: the multi-tenant node. internal/platform decides which app
// a request goes to and when apps load and unload; serverRuntime below
// loads them with the same factors, executor and HTTP trigger as wisp up.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/oci"
	"github.com/wisp-dev/wisp/internal/platform"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/platformapi"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

type serverOptions struct {
	listen            string
	adminListen       string
	dataDir           string
	domain            string
	idleTimeout       time.Duration
	maxLoaded         int
	keepRevisions     int
	maxApps           int
	maxConcurrency    int
	maxTenantConc     int
	maxInstanceMemory string
	maxBundleSize     string
	requestTimeout    time.Duration
	allowPrivate      bool
	registries        []string
	verbose           bool
}

// adminTokenEnv, if set when the data directory is new, is the admin
// token; otherwise wisp server makes one and prints it once.
const adminTokenEnv = "WISP_ADMIN_TOKEN"

func newServerCmd() *cobra.Command {
	var o serverOptions
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a multi-tenant node serving many apps",
		Long: `Run a node that serves every app deployed to it (wisp deploy).

App <name> answers at http://<name>.<domain>/ (and at its custom domains) on
--listen; tenants manage apps through the admin API on --admin-listen with
bearer tokens. Apps load on their first request and unload when idle.

On first start the node creates an "admin" tenant. Its token is $` + adminTokenEnv + `
if set, otherwise a new random token that is printed once and written to
<data-dir>/admin-token (mode 0600; delete it once you have stored the token).`,
		Example: `  wisp server --data-dir /var/lib/wisp --domain apps.example.com
  wisp server --listen 0.0.0.0:80 --admin-listen 127.0.0.1:3001 --idle-timeout 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:3000", "address apps are served on")
	f.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:3001", "address of the admin API")
	f.StringVar(&o.dataDir, "data-dir", "", "directory holding all state (required)")
	f.StringVar(&o.domain, "domain", "localhost", "app <name> answers at <name>.<domain>")
	f.DurationVar(&o.idleTimeout, "idle-timeout", platform.DefaultIdleTimeout, "unload an app after this long without requests")
	f.IntVar(&o.maxLoaded, "max-loaded", platform.DefaultMaxLoaded, "most apps loaded at once; beyond it the least recently used is unloaded")
	f.IntVar(&o.keepRevisions, "keep-revisions", platform.DefaultKeepRevisions, "revisions kept per app, for rollback")
	f.IntVar(&o.maxApps, "max-apps", platform.DefaultMaxApps, "default quota: apps per tenant")
	f.IntVar(&o.maxConcurrency, "max-concurrency", platform.DefaultMaxConcurrency, "default quota: concurrent requests per app (more get 429)")
	f.IntVar(&o.maxTenantConc, "max-tenant-concurrency", platform.DefaultMaxTenantConcurrency, "default quota: concurrent requests across all of one tenant's apps (more get 429)")
	f.StringVar(&o.maxInstanceMemory, "max-instance-memory", "128Mi", "default quota: linear memory per instance")
	f.StringVar(&o.maxBundleSize, "max-bundle-size", "256Mi", "largest app bundle accepted (uncompressed)")
	f.DurationVar(&o.requestTimeout, "request-timeout", 30*time.Second, "deadline per request (0: none)")
	f.BoolVar(&o.allowPrivate, "allow-private-outbound", false, "let apps connect to loopback and private networks (this node, its admin API, the LAN) when their manifest allows the host")
	f.StringArrayVar(&o.registries, "registry", nil, "registry host[:port] tenants may deploy from by reference (credentials: this user's Docker config); repeatable; none by default")
	f.BoolVar(&o.verbose, "verbose", false, "log every request")
	return cmd
}

func runServer(cmd *cobra.Command, o serverOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.dataDir == "" {
		return usagef("--data-dir is required")
	}
	memLimit, err := parseBytes(o.maxInstanceMemory)
	if err != nil {
		return usagef("--max-instance-memory: %v", err)
	}
	bundleLimit, err := parseBundleSize(o.maxBundleSize)
	if err != nil {
		return usagef("--max-bundle-size: %v", err)
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := newConsoleLogger(cmd.ErrOrStderr(), level)

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	adminLn, err := net.Listen("tcp", o.adminListen)
	if err != nil {
		return err
	}
	defer adminLn.Close()

	rt, err := newServerRuntime(ctx, log, o.requestTimeout, !o.allowPrivate)
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())

	node, err := platform.Open(platform.Config{
		DataDir:        o.dataDir,
		Domain:         o.domain,
		PublicURL:      publicURL(ln.Addr()),
		Runtime:        rt,
		IdleTimeout:    o.idleTimeout,
		MaxLoaded:      o.maxLoaded,
		KeepRevisions:  o.keepRevisions,
		DefaultQuotas:  platformapi.Quotas{MaxApps: o.maxApps, MaxConcurrency: o.maxConcurrency, MaxTenantConcurrency: o.maxTenantConc, MaxInstanceMemory: memLimit},
		MaxBundleBytes: bundleLimit,
		BootstrapToken: os.Getenv(adminTokenEnv),
		Pull:           registryPuller(o.registries),
		Logger:         log,
	})
	if err != nil {
		return err
	}
	defer node.Close()
	if tok := node.Bootstrap(); tok != "" {
		path := filepath.Join(o.dataDir, "admin-token")
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Admin token (shown once; also written to %s):\n  %s\n", path, tok)
	}

	apps := &http.Server{Handler: node.AppHandler(), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: httptrigger.DefaultMaxHeaderBytes}
	admin := &http.Server{Handler: node.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("Serving apps on http://"+ln.Addr().String(), "domain", o.domain)
	log.Info("Admin API on http://" + adminLn.Addr().String())

	errs := make(chan error, 2)
	go func() { errs <- apps.Serve(ln) }()
	go func() { errs <- admin.Serve(adminLn) }()
	go node.Run(ctx)
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), httptrigger.DefaultShutdownTimeout)
	defer cancel()
	apps.Shutdown(shutdown)
	admin.Shutdown(shutdown)
	log.Info("Stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func parseBundleSize(s string) (int64, error) {
	// parseBytes caps sizes at 4 GiB, which suits bundles too.
	n, err := parseBytes(s)
	return int64(n), err
}

// registryPuller pulls apps for deploy-by-reference from the allowed
// registries only: the server must not fetch arbitrary URLs, least of all
// internal ones, on a tenant's behalf.
func registryPuller(allowed []string) func(context.Context, string) (*lockedapp.LockedApp, func(), error) {
	if len(allowed) == 0 {
		return nil
	}
	return func(ctx context.Context, ref string) (*lockedapp.LockedApp, func(), error) {
		r, err := oci.ParseReference(ref)
		if err != nil {
			return nil, nil, &platform.Error{Status: 400, Msg: err.Error()}
		}
		if !slices.Contains(allowed, r.Registry) {
			return nil, nil, &platform.Error{Status: 403, Msg: fmt.Sprintf("this server does not deploy from registry %q", r.Registry)}
		}
		dir, err := os.MkdirTemp("", "wisp-pull-*")
		if err != nil {
			return nil, nil, err
		}
		release := func() { os.RemoveAll(dir) }
		pulled, err := oci.Pull(ctx, ref, oci.Options{CacheDir: dir})
		if err != nil {
			release()
			return nil, nil, err
		}
		return pulled.App, release, nil
	}
}

// publicURL is the base of app URLs: the listener's scheme and port
// (omitted for 80).
func publicURL(addr net.Addr) string {
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil || port == "80" {
		return "http://"
	}
	return "http://:" + port
}

// serverRuntime loads apps for the platform exactly as wisp up does:
// factors (with the app's deployed variables), executor.Load against the
// shared host interfaces, and the HTTP trigger with service chaining
// confined to the app.
type serverRuntime struct {
	log            *slog.Logger
	requestTimeout time.Duration
	host           *component.Host
	// blockPrivate keeps tenants' outbound connections off loopback and
	// private networks: the node's admin API, other local services.
	blockPrivate bool

	mu sync.Mutex
	// engines holds one engine per instance memory limit (tenants may
	// have different ones); all share the on-disk compile cache.
	engines map[uint64]*engine.Engine
}

func newServerRuntime(ctx context.Context, log *slog.Logger, requestTimeout time.Duration, blockPrivate bool) (*serverRuntime, error) {
	set, err := serverFactors(nil)
	if err != nil {
		return nil, err
	}
	// Host functions find their per-app state in the call's context, so
	// one host serves every app.
	host, err := newHost(set)
	if err != nil {
		return nil, err
	}
	return &serverRuntime{log: log, requestTimeout: requestTimeout, host: host, blockPrivate: blockPrivate, engines: map[uint64]*engine.Engine{}}, nil
}

func (rt *serverRuntime) engine(ctx context.Context, memLimit uint64) (*engine.Engine, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if e := rt.engines[memLimit]; e != nil {
		return e, nil
	}
	// No snapshots: one taken after a Go runtime's init would freeze its
	// random seeds into every request (see wisp up --snapshot).
	e, err := engine.New(ctx, engine.Config{CacheDir: compileCacheDir(), MaxInstanceMemory: memLimit, NoSnapshots: true})
	if err != nil {
		return nil, err
	}
	rt.engines[memLimit] = e
	return e, nil
}

// Close closes the engines.
func (rt *serverRuntime) Close(ctx context.Context) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, e := range rt.engines {
		e.Close(ctx)
	}
}

func (rt *serverRuntime) Load(ctx context.Context, spec platform.LoadSpec) (_ platform.Loaded, err error) {
	eng, err := rt.engine(ctx, spec.MaxInstanceMemory)
	if err != nil {
		return nil, err
	}
	set, err := serverFactors(spec.Variables)
	if err != nil {
		return nil, err
	}
	// Tenants bring no runtime config: its paths and addresses are the
	// operator's to choose, and a tenant could point them at another
	// app's state. Backends are the defaults, under the app's StateDir.
	rc := runtimeconfig.Empty()
	if rt.blockPrivate {
		if rc, err = runtimeconfig.Parse([]byte(blockPrivateConfig), "wisp server"); err != nil {
			return nil, err
		}
	}
	fapp, err := set.ConfigureApp(ctx, &factor.AppContext{
		App:           spec.App,
		RuntimeConfig: rc,
		StateDir:      spec.StateDir,
		BaseDir:       spec.StateDir,
		ValidateOnly:  spec.ValidateOnly,
	})
	if err != nil {
		return nil, err
	}
	a := &serverApp{fapp: fapp}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	if !spec.ValidateOnly {
		if a.sink, err = logs.New(spec.LogDir, nil, logs.Options{}); err != nil {
			return nil, err
		}
	}
	if a.loaded, err = executor.Load(ctx, eng, spec.App, a.sink, rt.host, executor.WithPrepare(fapp.Prepare)); err != nil {
		return nil, err
	}
	log := rt.log.With("app", spec.Name)
	handlers, err := httpHandlers(a.loaded, log, func() http.Handler { return a.srv })
	if err != nil {
		return nil, err
	}
	a.srv, err = httptrigger.New(spec.App, handlers, httptrigger.Config{
		RequestTimeout: rt.requestTimeout,
		Logger:         log,
		Version:        version,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// blockPrivateConfig is the runtime config of every app unless
// --allow-private-outbound.
const blockPrivateConfig = "[outbound_networking]\nblock_networks = [\"private\"]\n"

// serverApp is one loaded app.
type serverApp struct {
	fapp   *factor.App
	sink   *logs.Sink
	loaded *executor.App
	srv    *httptrigger.Server
}

func (a *serverApp) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.srv.ServeHTTP(w, r) }

func (a *serverApp) Close(ctx context.Context) error {
	var errs []error
	if a.loaded != nil {
		errs = append(errs, a.loaded.Close(ctx))
	}
	errs = append(errs, a.fapp.Close())
	if a.sink != nil {
		errs = append(errs, a.sink.Close())
	}
	return errors.Join(errs...)
}
