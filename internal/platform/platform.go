// Package platform is the multi-tenant node behind `wisp server`: tenants
// and their tokens, apps and their revisions (stored by package store, as
// bundles of package bundle), routing by Host header, and the lifecycle of
// loaded apps (scale to zero, an LRU budget, per-app concurrency limits).
//
// It does not run WebAssembly itself: a Runtime, supplied by the
// composition root (cmd/wisp), turns a locked app into an http.Handler
// (and running Redis, MQTT and cron triggers) with the same loader
// output, executor, factors and triggers as `wisp up`. The platform only
// decides which app a request goes to, when that app is loaded and
// unloaded (an app with event triggers stays loaded: see pinned.go), and
// who may change it.
package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/internal/platform/store"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// Runtime loads apps. Load must not keep anything of the app alive after
// the returned Loaded is closed: closing is how an idle app goes to zero.
type Runtime interface {
	Load(ctx context.Context, spec LoadSpec) (Loaded, error)
}

// LoadSpec is one app revision to load.
type LoadSpec struct {
	// Name is the app's name (for messages).
	Name string
	// App is the locked app; its paths point into the node's blob store.
	App *lockedapp.LockedApp
	// Variables are the values deployed with the revision.
	Variables map[string]string
	// StateDir is the app's own directory for factor state (key-value,
	// SQLite); no other app's StateDir is reachable from it.
	StateDir string
	// LogDir is where the app's component logs go.
	LogDir string
	// MaxInstanceMemory is the tenant's linear memory limit per instance.
	MaxInstanceMemory uint64
	// MaxConcurrency is the tenant's limit of concurrent calls per app:
	// what the app's event triggers may run at once must fit in it.
	MaxConcurrency int
	// ValidateOnly asks for a check of the app (compiling its code, which
	// fills the on-disk compile cache, and checking its triggers'
	// settings) without opening backends or connecting anything; the
	// result is closed at once.
	ValidateOnly bool
	// Triggers asks for the app's triggers other than HTTP (Redis, MQTT,
	// cron) to run too, from Load until Close. Load fails if one cannot
	// start (its server is unreachable, or in a network the node keeps
	// tenants out of). The platform sets it exactly for apps that have
	// such triggers, and keeps those apps loaded while deployed.
	Triggers bool
}

// Loaded is a loaded app: its HTTP trigger and, if it was loaded with
// LoadSpec.Triggers, its running event triggers, which Close stops.
type Loaded interface {
	http.Handler
	Close(ctx context.Context) error
}

// Defaults of Config's zero values.
const (
	DefaultIdleTimeout          = 5 * time.Minute
	DefaultMaxLoaded            = 1000
	DefaultKeepRevisions        = 10
	DefaultMaxApps              = 100
	DefaultMaxConcurrency       = 64
	DefaultMaxTenantConcurrency = 256
	DefaultMaxBundleBytes       = 256 << 20
	DefaultMemoryLimit          = 128 << 20
)

// Config configures a Node.
type Config struct {
	// DataDir holds all state (required).
	DataDir string
	// Domain: app <name> answers at <name>.<Domain> (required).
	Domain string
	// PublicURL is how clients reach the app listener, used to print app
	// URLs: scheme and optional port, e.g. "http://:3000" (default
	// "http://").
	PublicURL string
	Runtime   Runtime
	// IdleTimeout unloads an app that served no request for this long.
	IdleTimeout time.Duration
	// MaxLoaded bounds how many apps are loaded at once; loading one more
	// unloads the least recently used.
	MaxLoaded int
	// MaxLoadedBytes (0: none) bounds the estimated memory of the loaded
	// apps (compiled code, mostly; see loadCost), apps with event triggers
	// included; loading one more unloads the least recently used others
	// until the sum fits. Apps with event triggers are never unloaded for
	// it, and an app larger than the whole budget still loads, alone.
	// Linear memories of running instances are not in it (they are
	// bounded per instance by the tenants' MaxInstanceMemory).
	MaxLoadedBytes int64
	// KeepRevisions is how many revisions of each app are kept.
	KeepRevisions int
	// DefaultQuotas apply where a tenant's quota is zero.
	DefaultQuotas platformapi.Quotas
	// MaxBundleBytes bounds an uploaded bundle (uncompressed).
	MaxBundleBytes int64
	// Pull fetches an app from an OCI registry for deploy-by-reference and
	// returns it with local paths, and a function releasing them; nil
	// disables deploy-by-reference. It decides which registries are
	// allowed.
	Pull func(ctx context.Context, ref string) (*lockedapp.LockedApp, func(), error)
	// BootstrapToken, if set when the node has no tenant yet, becomes the
	// admin token; otherwise a random one is made (see Node.Bootstrap).
	BootstrapToken string
	Logger         *slog.Logger
}

// Node is one platform node.
type Node struct {
	cfg   Config
	store *store.Store
	log   *slog.Logger

	// mu guards the maps and every record in them; records are replaced,
	// never mutated in place, so readers may keep one after unlocking.
	mu      sync.RWMutex
	tenants map[string]*store.Tenant
	tokens  map[string]*store.Token // by hash
	apps    map[string]*appEntry    // by name
	hosts   map[string]string       // custom hostname -> app name
	// running counts each tenant's requests in flight, across its apps.
	running map[string]*atomic.Int32

	// gc excludes blob collection (writer) from uploads (readers), whose
	// blobs are not referenced by any record until the deploy commits.
	gc sync.RWMutex
	// deployMu serialises changes to one node's app records.
	deployMu sync.Mutex

	pool *pool

	bootstrap string
}

// Open restores the node's state from DataDir. A node without tenants is
// given an "admin" tenant with one admin token (see Bootstrap).
func Open(cfg Config) (*Node, error) {
	if cfg.DataDir == "" || cfg.Domain == "" || cfg.Runtime == nil {
		return nil, errors.New("platform: DataDir, Domain and Runtime are required")
	}
	cfg.Domain = strings.ToLower(strings.Trim(cfg.Domain, "."))
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://"
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxLoaded <= 0 {
		cfg.MaxLoaded = DefaultMaxLoaded
	}
	if cfg.MaxLoadedBytes < 0 {
		cfg.MaxLoadedBytes = 0
	}
	if cfg.KeepRevisions <= 0 {
		cfg.KeepRevisions = DefaultKeepRevisions
	}
	if cfg.MaxBundleBytes <= 0 {
		cfg.MaxBundleBytes = DefaultMaxBundleBytes
	}
	q := &cfg.DefaultQuotas
	if q.MaxApps <= 0 {
		q.MaxApps = DefaultMaxApps
	}
	if q.MaxConcurrency <= 0 {
		q.MaxConcurrency = DefaultMaxConcurrency
	}
	if q.MaxTenantConcurrency <= 0 {
		q.MaxTenantConcurrency = DefaultMaxTenantConcurrency
	}
	if q.MaxInstanceMemory == 0 {
		q.MaxInstanceMemory = DefaultMemoryLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg: cfg, store: st, log: cfg.Logger,
		tenants: map[string]*store.Tenant{},
		tokens:  map[string]*store.Token{},
		apps:    map[string]*appEntry{},
		hosts:   map[string]string{},
		running: map[string]*atomic.Int32{},
	}
	n.pool = newPool(n, cfg.MaxLoaded, cfg.MaxLoadedBytes, cfg.IdleTimeout)
	if err := n.restore(); err != nil {
		return nil, err
	}
	if len(n.tenants) == 0 {
		if err := n.createBootstrap(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Bootstrap returns the admin token made when this Open found no tenant
// (and Config.BootstrapToken was empty), else "". The caller shows it
// once; only its hash is stored.
func (n *Node) Bootstrap() string { return n.bootstrap }

func (n *Node) restore() error {
	err := n.store.LoadAll(store.KindTenant, func(_ string, data []byte) error {
		var t store.Tenant
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		n.tenants[t.Name] = &t
		return nil
	})
	if err != nil {
		return err
	}
	err = n.store.LoadAll(store.KindToken, func(_ string, data []byte) error {
		var t store.Token
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		n.tokens[t.Hash] = &t
		return nil
	})
	if err != nil {
		return err
	}
	err = n.store.LoadAll(store.KindApp, func(_ string, data []byte) error {
		var a store.App
		if err := json.Unmarshal(data, &a); err != nil {
			return err
		}
		e := &appEntry{rec: &a}
		if rev := a.Revision(a.Current); rev != nil {
			if m, err := n.manifest(rev); err == nil {
				e.listens = listens(&m.App)
			} else {
				n.log.Error("reading the app's manifest", "app", a.Name, "err", err)
			}
		}
		n.apps[a.Name] = e
		for _, h := range a.Hostnames {
			n.hosts[h] = a.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Blobs of a deploy a crash interrupted are referenced by no record.
	return n.collect()
}

func (n *Node) createBootstrap() error {
	secret := n.cfg.BootstrapToken
	if secret == "" {
		secret = newSecret()
		n.bootstrap = secret
	}
	t := &store.Tenant{Name: "admin", Admin: true, Created: time.Now().UTC()}
	if err := n.store.Put(store.KindTenant, t.Name, t); err != nil {
		return err
	}
	n.tenants[t.Name] = t
	_, err := n.addToken(t.Name, secret)
	return err
}

// DataDir returns the node's data directory.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Close unloads every app, stopping their triggers; a closed node loads
// nothing any more.
func (n *Node) Close() {
	n.pool.closeAll()
}

// Run loads the apps with event triggers (at once, and again whenever one
// is found unloaded), unloads idle apps and returns the memory of unloaded
// ones to the OS, until ctx is done.
func (n *Node) Run(ctx context.Context) {
	go n.pool.keepPinned(ctx)
	go n.pool.reclaimLoop(ctx)
	n.pool.reap(ctx)
}

// quotas returns the tenant's quotas with the node's defaults filled in.
func (n *Node) quotas(tenant string) platformapi.Quotas {
	q := n.cfg.DefaultQuotas
	if t := n.tenants[tenant]; t != nil {
		if t.Quotas.MaxApps > 0 {
			q.MaxApps = t.Quotas.MaxApps
		}
		if t.Quotas.MaxConcurrency > 0 {
			q.MaxConcurrency = t.Quotas.MaxConcurrency
		}
		if t.Quotas.MaxInstanceMemory > 0 {
			q.MaxInstanceMemory = t.Quotas.MaxInstanceMemory
		}
		if t.Quotas.MaxTenantConcurrency > 0 {
			q.MaxTenantConcurrency = t.Quotas.MaxTenantConcurrency
		}
	}
	return q
}

// appDirs returns the app's state and log directories, by app ID.
func (n *Node) appDirs(id string) (stateDir, logDir string) {
	return filepath.Join(n.cfg.DataDir, "apps", id, "state"), filepath.Join(n.cfg.DataDir, "apps", id, "logs")
}

// manifest reads the bundle manifest of revision rev.
func (n *Node) manifest(rev *store.Revision) (*bundle.Manifest, error) {
	raw, err := n.store.ReadBlob(rev.Digest)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", rev.Number, err)
	}
	var m bundle.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("revision %d: %w", rev.Number, err)
	}
	return &m, nil
}

// spec reads revision rev of app a into a LoadSpec; an app with event
// triggers is loaded with them.
func (n *Node) spec(a *store.App, rev *store.Revision) (LoadSpec, error) {
	m, err := n.manifest(rev)
	if err != nil {
		return LoadSpec{}, err
	}
	stateDir, logDir := n.appDirs(a.ID)
	n.mu.RLock()
	q := n.quotas(a.Tenant)
	n.mu.RUnlock()
	return LoadSpec{
		Name:              a.Name,
		App:               m.Resolve(n.store.BlobDir()),
		Variables:         m.Variables,
		StateDir:          stateDir,
		LogDir:            logDir,
		MaxInstanceMemory: q.MaxInstanceMemory,
		MaxConcurrency:    q.MaxConcurrency,
		Triggers:          listens(&m.App),
	}, nil
}

// collect removes blobs no revision references. Called with no deploy in
// progress (it takes gc).
func (n *Node) collect() error {
	n.gc.Lock()
	defer n.gc.Unlock()
	keep := map[string]bool{}
	n.mu.RLock()
	for _, a := range n.apps {
		for _, r := range a.rec.Revisions {
			for _, b := range r.Blobs {
				keep[b] = true
			}
		}
	}
	n.mu.RUnlock()
	return n.store.CollectBlobs(keep)
}

// routes lists the HTTP routes of the app's current revision, read from
// its manifest (the app need not be loaded).
func (n *Node) routes(a *store.App) []string {
	rev := a.Revision(a.Current)
	if rev == nil {
		return nil
	}
	raw, err := n.store.ReadBlob(rev.Digest)
	if err != nil {
		return nil
	}
	var m bundle.Manifest
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for _, t := range m.App.Triggers {
		if t.HTTP == nil {
			continue
		}
		target := t.Component
		if target == "" {
			target = "static response"
		}
		out = append(out, t.HTTP.Route+" -> "+target)
	}
	return out
}

// appURL is where app name answers.
func (n *Node) appURL(name string) string {
	scheme, port, _ := strings.Cut(n.cfg.PublicURL, "://")
	return scheme + "://" + name + "." + n.cfg.Domain + port + "/"
}

// describe renders an app record for the API.
func (n *Node) describe(e *appEntry, full bool) platformapi.App {
	a := e.rec
	out := platformapi.App{
		Name: a.Name, Tenant: a.Tenant, URL: n.appURL(a.Name),
		Hostnames: a.Hostnames, Current: a.Current, Loaded: e.loaded(),
	}
	if full {
		for _, r := range a.Revisions {
			out.Revisions = append(out.Revisions, platformapi.Revision{
				Number: r.Number, Digest: "sha256:" + r.Digest, Created: r.Created, Metadata: r.Metadata,
			})
		}
		sort.Slice(out.Revisions, func(i, j int) bool { return out.Revisions[i].Number > out.Revisions[j].Number })
		out.Routes = n.routes(a)
	}
	return out
}

func newSecret() string { return "wisp_" + store.RandomID(32) }

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// addToken stores a token for tenant with the given secret.
func (n *Node) addToken(tenant, secret string) (*store.Token, error) {
	t := &store.Token{ID: store.RandomID(6), Tenant: tenant, Hash: hashSecret(secret), Created: time.Now().UTC()}
	if err := n.store.Put(store.KindToken, t.ID, t); err != nil {
		return nil, err
	}
	n.tokens[t.Hash] = t
	return t, nil
}

// removeAppDirs deletes an app's state and logs.
func (n *Node) removeAppDirs(id string) error {
	return os.RemoveAll(filepath.Join(n.cfg.DataDir, "apps", id))
}
