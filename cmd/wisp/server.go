package main

// wisp server: the multi-tenant node. internal/platform decides which app
// a request goes to and when apps load and unload; serverRuntime below
// loads them with the same factors, executor and triggers (HTTP, and
// Redis, MQTT and cron for the apps the platform keeps loaded) as wisp up.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/logs"
	"github.com/wisp-dev/wisp/internal/oci"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/platform"
	"github.com/wisp-dev/wisp/internal/trigger"
	crontrigger "github.com/wisp-dev/wisp/internal/trigger/cron"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	mqtttrigger "github.com/wisp-dev/wisp/internal/trigger/mqtt"
	redistrigger "github.com/wisp-dev/wisp/internal/trigger/redis"
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
	maxLoadedMemory   string
	keepRevisions     int
	maxApps           int
	maxConcurrency    int
	maxTenantConc     int
	maxInstanceMemory string
	maxBundleSize     string
	requestTimeout    time.Duration
	allowPrivate      bool
	tls               tlsFlags
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
bearer tokens. Apps load on their first request and unload when idle; apps
with Redis, MQTT or cron triggers load at deploy and stay loaded, their
triggers running, until redeployed or deleted.

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
	f.StringVar(&o.maxLoadedMemory, "max-loaded-memory", defaultMaxLoadedMemory, "estimated memory of the loaded apps (compiled code, ~6× their Wasm size; apps with event triggers included); beyond it the least recently used are unloaded; 0: no limit")
	f.IntVar(&o.keepRevisions, "keep-revisions", platform.DefaultKeepRevisions, "revisions kept per app, for rollback")
	f.IntVar(&o.maxApps, "max-apps", platform.DefaultMaxApps, "default quota: apps per tenant")
	f.IntVar(&o.maxConcurrency, "max-concurrency", platform.DefaultMaxConcurrency, "default quota: concurrent requests per app (more get 429)")
	f.IntVar(&o.maxTenantConc, "max-tenant-concurrency", platform.DefaultMaxTenantConcurrency, "default quota: concurrent requests across all of one tenant's apps (more get 429)")
	f.StringVar(&o.maxInstanceMemory, "max-instance-memory", "128Mi", "default quota: linear memory per instance")
	f.StringVar(&o.maxBundleSize, "max-bundle-size", "256Mi", "largest app bundle accepted (uncompressed)")
	f.DurationVar(&o.requestTimeout, "request-timeout", 30*time.Second, "deadline per request (0: none)")
	f.BoolVar(&o.allowPrivate, "allow-private-outbound", false, "let apps connect to loopback and private networks (this node, its admin API, the LAN) when their manifest allows the host")
	o.tls.register(f, "apps and the admin API")
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
	loadedLimit, err := parseLoadedMemory(o.maxLoadedMemory)
	if err != nil {
		return usagef("--max-loaded-memory: %v", err)
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := newConsoleLogger(cmd.ErrOrStderr(), level)

	tlsConfig, err := o.tls.config()
	if err != nil {
		return err
	}
	scheme := "http://"
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
	if tlsConfig != nil {
		// One certificate for both listeners (e.g. for *.<domain> and the
		// admin host): admin tokens never cross the network in clear.
		scheme = "https://"
		ln, adminLn = tls.NewListener(ln, tlsConfig), tls.NewListener(adminLn, tlsConfig)
	}

	rt, err := newServerRuntime(ctx, log, o.requestTimeout, !o.allowPrivate)
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())

	node, err := platform.Open(platform.Config{
		DataDir:        o.dataDir,
		Domain:         o.domain,
		PublicURL:      publicURL(scheme, ln.Addr()),
		Runtime:        rt,
		IdleTimeout:    o.idleTimeout,
		MaxLoaded:      o.maxLoaded,
		MaxLoadedBytes: loadedLimit,
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
	log.Info("Serving apps on "+scheme+ln.Addr().String(), "domain", o.domain)
	log.Info("Admin API on " + scheme + adminLn.Addr().String())

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

// defaultMaxLoadedMemory bounds what loaded apps hold by default. Measured
// (BenchmarkDensity; see costPerWasmByte in internal/platform): a loaded
// standard-Go app holds 40-57 MiB, a C one ~0.1 MiB, so --max-loaded's
// default count of 1,000 alone would let Go apps take ~50 GiB. 2 GiB holds
// ~43 such Go apps (charged 47 MiB each), or all 1,000 C apps (the count
// binds first), and fits a small node's RAM with room left for running
// instances' linear memory (up to --max-instance-memory each) and the node
// itself; larger nodes raise it.
const defaultMaxLoadedMemory = "2Gi"

// parseLoadedMemory reads --max-loaded-memory: a size (parseSize: a node's
// budget may exceed the 4 GiB cap of parseBytes), or 0 for no limit.
func parseLoadedMemory(s string) (int64, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	n, err := parseSize(s)
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
// (omitted when it is the scheme's default).
func publicURL(scheme string, addr net.Addr) string {
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil || (scheme == "http://" && port == "80") || (scheme == "https://" && port == "443") {
		return scheme
	}
	return scheme + ":" + port
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
	has, err := triggerKinds(spec.App, "wisp server")
	if err != nil {
		return nil, err
	}
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
	if has[redistrigger.Type] || has[mqtttrigger.Type] || has[crontrigger.Type] {
		// The same triggers as wisp up, with the app's factors (its
		// state, its variables, its outbound policy for what the guest
		// does) and its HTTP components for chaining and self requests.
		if err := checkTriggerConcurrency(spec.App, spec.MaxConcurrency); err != nil {
			return nil, err
		}
		invoke := eventInvoke(rt.requestTimeout, handlers, func() http.Handler { return a.srv })
		policy, err := rt.triggerPolicy()
		if err != nil {
			return nil, err
		}
		// Every connection the Redis and MQTT triggers open, reconnections
		// included, goes through the policy, which checks the address the
		// name resolved to at that moment.
		triggers, err := eventTriggers(ctx, a.loaded, fapp, log, invoke, policy.DialContext)
		if err != nil {
			return nil, err
		}
		if spec.Triggers && !spec.ValidateOnly {
			if err := checkTriggerServers(ctx, policy, spec.App, variableResolver(fapp)); err != nil {
				return nil, err
			}
			if err := a.runTriggers(triggers, log); err != nil {
				return nil, err
			}
		}
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
	// stop stops the event triggers, which triggers counts; nil when none
	// runs.
	stop     context.CancelFunc
	triggers sync.WaitGroup
}

func (a *serverApp) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.srv.ServeHTTP(w, r) }

func (a *serverApp) Close(ctx context.Context) error {
	if a.stop != nil {
		// Calls in flight finish (within their timeout) before the
		// components they run are closed.
		a.stop()
		a.triggers.Wait()
	}
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

// checkTriggerConcurrency checks that the calls the app's event triggers
// may make at once (each MQTT and cron trigger one, each Redis trigger its
// concurrency) fit in the tenant's per-app limit, which otherwise bounds
// only HTTP requests.
func checkTriggerConcurrency(app *lockedapp.LockedApp, limit int) error {
	if limit <= 0 {
		return nil
	}
	total := 0
	for _, t := range app.Triggers {
		switch t.Type {
		case redistrigger.Type:
			c, err := trigger.Int(t.Config, "concurrency", 1)
			if err != nil {
				return fmt.Errorf("redis trigger %q: %w", t.ID, err)
			}
			total += max(c, 0)
		case mqtttrigger.Type, crontrigger.Type:
			total++
		}
	}
	if total > limit {
		return fmt.Errorf("the app's event triggers may run %d calls at once, more than the tenant's limit of %d per app", total, limit)
	}
	return nil
}

// triggerStartTimeout bounds the wait for the event triggers to subscribe
// when an app loads (Redis and MQTT connect, then subscribe, each within
// 10s).
const triggerStartTimeout = 30 * time.Second

// runTriggers starts the event triggers and returns once they listen, or
// with the first one's failure (after stopping them all). After that, a
// trigger that fails (it can only fail while starting) is logged for the
// app and started again with backoff: the node keeps serving.
func (a *serverApp) runTriggers(triggers []trigger.Trigger, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(context.Background())
	a.stop = cancel
	first := make(chan error, len(triggers))
	// Redis and MQTT tell how many of their [[trigger.*]] entries have
	// subscribed; cron needs nothing. The load returns once all have, so
	// a message published after the deploy reaches the app.
	type subscriber interface{ Subscribed() int }
	var subs []subscriber
	for _, t := range triggers {
		if s, ok := t.(subscriber); ok {
			subs = append(subs, s)
		}
		a.triggers.Go(func() { superviseTrigger(ctx, t, log, first) })
	}
	want := 0
	for _, t := range a.loaded.Locked.Triggers {
		if t.Type == redistrigger.Type || t.Type == mqtttrigger.Type {
			want++
		}
	}
	subscribed := func() bool {
		n := 0
		for _, s := range subs {
			n += s.Subscribed()
		}
		return n >= want
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(triggerStartTimeout)
	for !subscribed() {
		select {
		case err := <-first:
			cancel()
			a.triggers.Wait()
			return err
		case <-deadline:
			cancel()
			a.triggers.Wait()
			return fmt.Errorf("the Redis and MQTT triggers did not subscribe within %v", triggerStartTimeout)
		case <-tick.C:
		}
	}
	return nil
}

// superviseTrigger runs t until ctx is done. Run fails only when t cannot
// start; the first failure goes to first (the load is waiting for it),
// later ones are logged and t is started again after a backoff.
func superviseTrigger(ctx context.Context, t trigger.Trigger, log *slog.Logger, first chan<- error) {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		err := t.Run(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		if attempt == 0 {
			first <- err
		}
		log.Error("Trigger failed; starting it again", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Minute)
	}
}

// triggerServerTimeout bounds checkTriggerServers' connection to each
// server.
const triggerServerTimeout = 5 * time.Second

// checkTriggerServers connects to the server of each Redis and MQTT
// trigger the way the node's policy lets the tenant's components connect:
// unless --allow-private-outbound, not to loopback or private networks
// (this node, its admin API, the operator's Redis), and not over Unix
// sockets. A trigger's subscription is opened by the host, not the guest
// (allowed_outbound_hosts does not apply to it, as in Spin), but its
// address is the tenant's to choose, so it must not reach what the
// tenant's own code may not. Redis servers also get a PING with the
// trigger's credentials, so a wrong password fails the load too.
//
// This check gives a deploy a clear early error; it is not the guard. The
// triggers' clients resolve the host name again on each connection, and
// dial through the same policy (eventTriggers' dial), so a name that
// re-resolves into a blocked network later is refused then.
func checkTriggerServers(ctx context.Context, policy *outbound.Policy, app *lockedapp.LockedApp, resolve trigger.Resolver) error {
	redisDefault, _ := app.Metadata.TriggerConfig[redistrigger.Type]["address"].(string)
	mqttAddress, _ := app.Metadata.TriggerConfig[mqtttrigger.Type]["address"].(string)
	checked := map[string]bool{}
	for _, t := range app.Triggers {
		var addr string
		switch t.Type {
		case redistrigger.Type:
			addr, _ = t.Config["address"].(string)
			if addr == "" {
				addr = redisDefault
			}
		case mqtttrigger.Type:
			addr = mqttAddress
		default:
			continue
		}
		addr, err := trigger.Resolve(ctx, resolve, t.Component, "address", addr)
		if err != nil {
			return fmt.Errorf("%s trigger %q: %w", t.Type, t.ID, err)
		}
		if checked[addr] {
			continue
		}
		checked[addr] = true
		cctx, cancel := context.WithTimeout(ctx, triggerServerTimeout)
		if t.Type == redistrigger.Type {
			err = pingRedis(cctx, policy, addr)
		} else {
			err = dialMQTT(cctx, policy, addr)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("%s trigger %q: %w", t.Type, t.ID, err)
		}
	}
	return nil
}

// triggerPolicy is the policy the event triggers' connections dial under:
// unless --allow-private-outbound, no loopback or private networks; TCP
// and UDP only in any case. It has no allowlist (the trigger's address is
// the host's connection, as in Spin) and no per-app connection cap.
func (rt *serverRuntime) triggerPolicy() (*outbound.Policy, error) {
	var blocked *outbound.BlockedNetworks
	if rt.blockPrivate {
		var err error
		if blocked, err = outbound.ParseBlockedNetworks([]string{"private"}); err != nil {
			return nil, err
		}
	}
	return outbound.NewPolicyBlocking(nil, blocked)
}

// pingRedis sends a PING to the Redis server at addr (a redis:// or
// rediss:// URL, as the trigger has already checked) through policy.
func pingRedis(ctx context.Context, policy *outbound.Policy, addr string) error {
	opts, err := goredis.ParseURL(addr)
	if err != nil {
		return errors.New("address is not a redis:// or rediss:// URL")
	}
	if opts.Network != "tcp" {
		return fmt.Errorf("address: wisp server connects triggers over TCP only, not %s", opts.Network)
	}
	tlsConfig := opts.TLSConfig
	opts.Dialer = func(ctx context.Context, network, hostport string) (net.Conn, error) {
		c, err := policy.DialContext(ctx, network, hostport)
		if err != nil || tlsConfig == nil {
			return c, err
		}
		return tls.Client(c, tlsConfig), nil
	}
	opts.MaxRetries = -1
	c := goredis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cannot connect to %s: %v", opts.Addr, err)
	}
	return nil
}

// dialMQTT opens and closes a TCP connection to the broker at addr through
// policy: the policy check and a reachability check (credentials are
// checked when the trigger subscribes).
func dialMQTT(ctx context.Context, policy *outbound.Policy, addr string) error {
	u, err := url.Parse(addr)
	if err != nil || u.Hostname() == "" {
		return errors.New(`address is not a broker URL such as "mqtt://localhost:1883"`)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"mqtts": "8883", "ssl": "8883", "tls": "8883", "ws": "80", "wss": "443"}[u.Scheme]
		if port == "" {
			port = "1883"
		}
	}
	hostport := net.JoinHostPort(u.Hostname(), port)
	c, err := policy.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %v", hostport, err)
	}
	c.Close()
	return nil
}
