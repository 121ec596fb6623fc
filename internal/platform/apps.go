package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/internal/platform/store"
)

// Error is an error with the HTTP status the admin API answers.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// nameRE is a DNS label: app and tenant names appear in host names.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func checkName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return errorf(400, "%s name %q: want lower-case letters, digits and '-', at most 63, not starting or ending with '-'", kind, name)
	}
	return nil
}

// checkHostname validates a custom domain: a DNS name outside the node's
// own domain, so that no app can take <other app>.<domain>.
func (n *Node) checkHostname(h string) error {
	if len(h) > 253 || !strings.Contains(h, ".") {
		return errorf(400, "hostname %q: want a fully qualified domain name", h)
	}
	for _, label := range strings.Split(h, ".") {
		if !nameRE.MatchString(label) {
			return errorf(400, "hostname %q is not a valid lower-case domain name", h)
		}
	}
	if h == n.cfg.Domain || strings.HasSuffix(h, "."+n.cfg.Domain) {
		return errorf(400, "hostname %q is under the node's domain %s, whose names belong to apps of those names", h, n.cfg.Domain)
	}
	return nil
}

// lookupApp returns the caller's app name; another tenant's app is
// reported as missing, so that names do not reveal owners.
func (n *Node) lookupApp(tenant, name string) (*appEntry, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	e := n.apps[name]
	if e == nil || e.rec.Tenant != tenant {
		return nil, errorf(404, "no app %q", name)
	}
	return e, nil
}

// blobStore adapts the store to bundle.BlobStore, recording what it put.
type blobStore struct {
	s   *store.Store
	put []string
}

func (b *blobStore) Put(digest string, r io.Reader) error {
	if err := b.s.PutBlob(digest, r); err != nil {
		if errors.Is(err, store.ErrDigestMismatch) {
			return fmt.Errorf("%w: %v", bundle.ErrDigestMismatch, err)
		}
		return err
	}
	b.put = append(b.put, digest)
	return nil
}

// Deploy stores the bundle read from body as the next revision of the
// tenant's app name (creating the app), after checking that it loads. The
// switch is atomic: until the app's record is replaced on disk, the
// previous revision serves, also across a crash. hostnames, if not nil,
// replace the app's custom domains.
func (n *Node) Deploy(ctx context.Context, tenant, name string, body io.Reader, hostnames []string) (*appEntry, error) {
	if err := checkName("app", name); err != nil {
		return nil, err
	}
	for i, h := range hostnames {
		hostnames[i] = hostKey(h)
		if err := n.checkHostname(hostnames[i]); err != nil {
			return nil, err
		}
	}
	if err := n.checkClaim(tenant, name, hostnames); err != nil {
		return nil, err
	}
	e, pruned, err := n.deploy(ctx, tenant, name, body, hostnames)
	if err != nil {
		return nil, err
	}
	if pruned {
		if err := n.collect(); err != nil {
			n.log.Error("collecting unused blobs", "err", err)
		}
	}
	return e, nil
}

// DeployReference pulls ref with Config.Pull and deploys it like a
// bundle: the same checks, the same atomic switch.
func (n *Node) DeployReference(ctx context.Context, tenant, name, ref string, variables map[string]string, hostnames []string) (*appEntry, error) {
	if n.cfg.Pull == nil {
		return nil, errorf(501, "this server does not deploy from registries")
	}
	if err := checkName("app", name); err != nil {
		return nil, err
	}
	if err := n.checkClaim(tenant, name, nil); err != nil {
		return nil, err
	}
	app, release, err := n.cfg.Pull(ctx, ref)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, errorf(400, "pulling %s: %v", ref, err)
	}
	defer release()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bundle.Write(pw, app, variables)) }()
	defer pr.Close()
	return n.Deploy(ctx, tenant, name, pr, hostnames)
}

// checkClaim checks that tenant may deploy app name with hostnames: the
// name is free or the tenant's, the hostnames are no other app's, and a
// new app fits the tenant's quota.
func (n *Node) checkClaim(tenant, name string, hostnames []string) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	e := n.apps[name]
	if e != nil && e.rec.Tenant != tenant {
		return errorf(409, "the app name %q is taken", name)
	}
	for _, h := range hostnames {
		if owner, ok := n.hosts[h]; ok && owner != name {
			return errorf(409, "hostname %q is taken by another app", h)
		}
	}
	if e == nil {
		count := 0
		for _, a := range n.apps {
			if a.rec.Tenant == tenant {
				count++
			}
		}
		if q := n.quotas(tenant); count >= q.MaxApps {
			return errorf(403, "tenant %q has %d apps, its quota", tenant, q.MaxApps)
		}
	}
	return nil
}

func (n *Node) deploy(ctx context.Context, tenant, name string, body io.Reader, hostnames []string) (_ *appEntry, pruned bool, _ error) {
	// Blobs being uploaded are referenced by no record yet: collection
	// waits for the upload to commit.
	n.gc.RLock()
	defer n.gc.RUnlock()

	bs := &blobStore{s: n.store}
	m, raw, err := bundle.Read(body, bs, bundle.Limits{MaxBytes: n.cfg.MaxBundleBytes, MaxEntries: 100000})
	if err != nil {
		if errors.Is(err, bundle.ErrInvalid) {
			return nil, false, errorf(400, "%v", err)
		}
		return nil, false, err
	}
	sum := sha256.Sum256(raw)
	digest := hex.EncodeToString(sum[:])
	if err := n.store.PutBlob(digest, bytes.NewReader(raw)); err != nil {
		return nil, false, err
	}
	blobs := append(bs.put, digest)
	slices.Sort(blobs)
	blobs = slices.Compact(blobs)

	// Check that the revision loads (and fill the compile cache) before
	// anything points at it. The Runtime rejects trigger types it does
	// not run.
	n.mu.RLock()
	q := n.quotas(tenant)
	n.mu.RUnlock()
	check, err := n.cfg.Runtime.Load(ctx, LoadSpec{
		Name: name, App: m.Resolve(n.store.BlobDir()), Variables: m.Variables,
		MaxInstanceMemory: q.MaxInstanceMemory, MaxConcurrency: q.MaxConcurrency, ValidateOnly: true,
	})
	if err == nil {
		check.Close(context.Background())
	}
	// Validating a big module leaves tens of MiB of garbage (its decoded
	// and compiled code), resident until the next collection otherwise.
	n.pool.reclaimSoon()
	if err != nil {
		return nil, false, errorf(400, "the app does not load: %v", err)
	}

	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	if err := n.checkClaim(tenant, name, hostnames); err != nil {
		return nil, false, err
	}
	n.mu.RLock()
	e := n.apps[name]
	n.mu.RUnlock()
	var rec store.App
	if e != nil {
		rec = *e.rec
		rec.Revisions = slices.Clone(rec.Revisions)
	} else {
		rec = store.App{Name: name, ID: store.RandomID(12), Tenant: tenant, Created: time.Now().UTC()}
	}
	next := 1
	for _, r := range rec.Revisions {
		next = max(next, r.Number+1)
	}
	meta := strings.TrimSpace(m.App.Metadata.Name + " " + m.App.Metadata.Version)
	rec.Revisions = append(rec.Revisions, store.Revision{Number: next, Digest: digest, Blobs: blobs, Created: time.Now().UTC(), Metadata: meta})
	rec.Current = next
	if keep := n.cfg.KeepRevisions; len(rec.Revisions) > keep {
		rec.Revisions = rec.Revisions[len(rec.Revisions)-keep:]
		pruned = true
	}
	oldHosts := rec.Hostnames
	if hostnames != nil {
		rec.Hostnames = hostnames
	}
	l, err := n.start(ctx, &rec, next)
	if err != nil {
		if e == nil {
			n.removeAppDirs(rec.ID)
		}
		return nil, false, err
	}
	if err := n.store.Put(store.KindApp, name, &rec); err != nil {
		if l != nil {
			l.retire()
		}
		return nil, false, err
	}
	if e == nil {
		e = &appEntry{}
	}
	n.swap(e, &rec, l, oldHosts)
	return e, pruned, nil
}

// start loads revision number of rec if it has event triggers, before it
// becomes current: a trigger that cannot start fails the deploy or
// rollback, and the current revision keeps running. It returns nil for
// an app that loads on demand.
func (n *Node) start(ctx context.Context, rec *store.App, number int) (*live, error) {
	spec, err := n.spec(rec, rec.Revision(number))
	if err != nil || !spec.Triggers {
		return nil, err
	}
	cost := loadCost(spec)
	h, err := n.cfg.Runtime.Load(context.WithoutCancel(ctx), spec)
	if err != nil {
		n.pool.reclaimSoon()
		return nil, errorf(400, "the app's triggers do not start: %v", err)
	}
	n.pool.loads.Add(1)
	return n.pool.newLive(h, number, true, cost), nil
}

// swap makes the committed record rec e's, with l (from start) as its
// loaded revision, and retires the revision it replaces: requests running
// on the old one finish there; the next request of an on-demand app loads
// the new one. With l, the new triggers run before the old ones stop.
func (n *Node) swap(e *appEntry, rec *store.App, l *live, oldHosts []string) {
	if l != nil {
		n.pool.install(e, l)
	}
	n.mu.Lock()
	n.apps[rec.Name] = e
	e.rec = rec
	e.listens = l != nil
	for _, h := range oldHosts {
		delete(n.hosts, h)
	}
	for _, h := range rec.Hostnames {
		n.hosts[h] = rec.Name
	}
	n.mu.Unlock()
	if l == nil {
		n.pool.forget(e)
	}
}

// Rollback makes revision (0: the newest one before the current) current.
func (n *Node) Rollback(tenant, name string, revision int) (*appEntry, error) {
	n.deployMu.Lock()
	defer n.deployMu.Unlock()
	e, err := n.lookupApp(tenant, name)
	if err != nil {
		return nil, err
	}
	rec := *e.rec
	if revision == 0 {
		for _, r := range rec.Revisions {
			if r.Number < rec.Current && r.Number > revision {
				revision = r.Number
			}
		}
		if revision == 0 {
			return nil, errorf(409, "app %q has no revision before %d", name, rec.Current)
		}
	}
	if rec.Revision(revision) == nil {
		return nil, errorf(404, "app %q has no revision %d (kept: the last %d)", name, revision, n.cfg.KeepRevisions)
	}
	rec.Current = revision
	l, err := n.start(context.Background(), &rec, revision)
	if err != nil {
		return nil, err
	}
	if err := n.store.Put(store.KindApp, name, &rec); err != nil {
		if l != nil {
			l.retire()
		}
		return nil, err
	}
	n.swap(e, &rec, l, rec.Hostnames)
	return e, nil
}

// DeleteApp removes the app, its revisions, its state and its logs.
func (n *Node) DeleteApp(tenant, name string) error {
	n.deployMu.Lock()
	e, err := n.lookupApp(tenant, name)
	if err != nil {
		n.deployMu.Unlock()
		return err
	}
	if err := n.store.Delete(store.KindApp, name); err != nil {
		n.deployMu.Unlock()
		return err
	}
	n.mu.Lock()
	delete(n.apps, name)
	for _, h := range e.rec.Hostnames {
		delete(n.hosts, h)
	}
	n.mu.Unlock()
	n.deployMu.Unlock()
	n.pool.forget(e)
	if err := n.removeAppDirs(e.rec.ID); err != nil {
		return err
	}
	return n.collect()
}

// Logs writes the last tail lines of each of the app's log files to w.
func (n *Node) Logs(tenant, name string, tail int, w io.Writer) error {
	e, err := n.lookupApp(tenant, name)
	if err != nil {
		return err
	}
	_, dir := n.appDirs(e.rec.ID)
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ents))
	for _, ent := range ents {
		if strings.HasSuffix(ent.Name(), ".txt") {
			names = append(names, ent.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		lines, err := tailFile(filepath.Join(dir, name), tail)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "==> %s <==\n", name)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}

// tailFile returns the last n lines of a file, reading at most its last
// MiB.
func tailFile(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const window = 1 << 20
	off := max(st.Size()-window, 0)
	data := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(data, off); err != nil && err != io.EOF {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // probably cut
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil, nil
	}
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
