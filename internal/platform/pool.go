package platform

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wisp-dev/wisp/internal/platform/store"
)

// appEntry is an app known to the node. An idle app is only this: its
// record and three words; nothing compiled, no instance, no memory.
type appEntry struct {
	rec *store.App // replaced under Node.mu, never mutated
	// listens: rec's current revision has triggers other than HTTP, so
	// it is pinned (kept loaded while deployed). Set with rec, under
	// Node.mu.
	listens bool

	loadMu   sync.Mutex           // one load at a time
	live     atomic.Pointer[live] // nil while unloaded
	inflight atomic.Int32         // requests running now
	elem     *list.Element        // in pool.lru while loaded; guarded by pool.mu
	// charged is what e counts against pool.maxBytes while it is in
	// pool.lru or pool.pinned (its live's cost), else 0; guarded by
	// pool.mu.
	charged int64
}

func (e *appEntry) loaded() bool { return e.current() != nil }

func (e *appEntry) current() *live {
	if l := e.live.Load(); l != nil && !l.isRetired() {
		return l
	}
	return nil
}

// live is one loaded revision. Requests hold a reference; once retired
// (unloaded, replaced by a deploy or deleted) it is closed when the last
// reference is released.
type live struct {
	pool     *pool
	handler  Loaded
	revision int
	// cost is the memory the loaded revision is estimated to hold (see
	// loadCost), charged against the node's MaxLoadedBytes.
	cost int64
	// pinned: loaded with its event triggers running (LoadSpec.Triggers).
	// A pinned revision is in pool.pinned, never in the LRU: neither
	// idleness nor the budgets (MaxLoaded, MaxLoadedBytes: it is charged
	// against the latter, though) unload it, only a deploy,
	// rollback or delete of its app, or closing the node.
	pinned   bool
	lastUsed atomic.Int64 // unix nanoseconds

	mu      sync.Mutex
	refs    int
	retired bool
	closed  bool
}

func (l *live) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.retired {
		return false
	}
	l.refs++
	return true
}

func (l *live) release() {
	l.mu.Lock()
	l.refs--
	closeNow := l.refs == 0 && l.retired && !l.closed
	if closeNow {
		l.closed = true
	}
	l.mu.Unlock()
	if closeNow {
		l.close()
	}
}

// close closes the handler and asks for the memory it held back.
func (l *live) close() {
	l.handler.Close(context.Background())
	if l.pool != nil {
		l.pool.reclaimSoon()
	}
}

func (l *live) retire() {
	l.mu.Lock()
	l.retired = true
	closeNow := l.refs == 0 && !l.closed
	if closeNow {
		l.closed = true
	}
	l.mu.Unlock()
	if closeNow {
		l.close()
	}
}

func (l *live) isRetired() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.retired
}

// pool tracks loaded apps: those that scale to zero in least-recently-used
// order, the pinned ones (apps with event triggers) apart.
//
// Two budgets bound the apps in the LRU: max, a count, and maxBytes (0:
// none), on the sum of the loaded apps' costs (loadCost), pinned ones
// included: they hold memory too, but only apps in the LRU are unloaded to
// make room. Admitting an app unloads the least recently used others until
// both hold, but never the app being admitted: one that alone exceeds
// maxBytes (or that pinned apps leave no room for) still loads, and is the
// first to go when another loads.
type pool struct {
	node     *Node
	max      int
	maxBytes int64
	idle     time.Duration
	mu       sync.Mutex
	lru      *list.List // of *appEntry, most recently used first
	pinned   map[*appEntry]bool
	bytes    int64 // sum of charged over lru and pinned
	closed   bool  // by closeAll: nothing loads any more
	loads    atomic.Int64

	// reclaim asks reclaimLoop to return freed memory to the OS; free
	// (debug.FreeOSMemory) and reclaimEvery (reclaimInterval) are
	// replaced by tests.
	reclaim      chan struct{}
	free         func()
	reclaimEvery time.Duration
}

func newPool(n *Node, max int, maxBytes int64, idle time.Duration) *pool {
	return &pool{node: n, max: max, maxBytes: maxBytes, idle: idle, lru: list.New(), pinned: map[*appEntry]bool{},
		reclaim: make(chan struct{}, 1), free: debug.FreeOSMemory, reclaimEvery: reclaimInterval}
}

// errGone means the app was deleted while a request was looking it up.
var errGone = errors.New("app deleted")

// errClosed means the node is closed.
var errClosed = errors.New("the node is shutting down")

// acquire returns the app's loaded current revision with a reference
// held, loading it on first use.
func (p *pool) acquire(ctx context.Context, e *appEntry) (*live, error) {
	for {
		if l := e.live.Load(); l != nil && l.acquire() {
			p.touch(e, l)
			return l, nil
		}
		e.loadMu.Lock()
		if l := e.live.Load(); l != nil && !l.isRetired() {
			e.loadMu.Unlock()
			continue
		}
		l, err := p.load(ctx, e)
		if err != nil {
			e.loadMu.Unlock()
			return nil, err
		}
		e.live.Store(l)
		ok := p.admit(e, l)
		e.loadMu.Unlock()
		if !ok {
			return nil, errClosed
		}
	}
}

// ensure loads e's current revision unless it is loaded.
func (p *pool) ensure(ctx context.Context, e *appEntry) error {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	if e.current() != nil {
		return nil
	}
	l, err := p.load(ctx, e)
	if err != nil {
		return err
	}
	e.live.Store(l)
	if !p.admit(e, l) {
		return errClosed
	}
	return nil
}

// install makes l, loaded by a deploy or rollback before it committed, e's
// loaded revision, and retires the one it replaces. The new revision's
// triggers run before the old one's stop: for a moment both receive
// events, rather than neither.
func (p *pool) install(e *appEntry, l *live) {
	e.loadMu.Lock()
	old := e.live.Swap(l)
	p.admit(e, l) // on a closed node, l is unloaded at once
	e.loadMu.Unlock()
	if old != nil {
		old.retire()
	}
}

// load loads e's current revision. Loading is not tied to the request
// that triggered it: a client hanging up must not fail the next one.
func (p *pool) load(ctx context.Context, e *appEntry) (*live, error) {
	n := p.node
	n.mu.RLock()
	rec := e.rec
	current := n.apps[rec.Name] == e
	n.mu.RUnlock()
	if !current {
		return nil, errGone
	}
	rev := rec.Revision(rec.Current)
	if rev == nil {
		return nil, fmt.Errorf("app %q has no revision %d", rec.Name, rec.Current)
	}
	spec, err := n.spec(rec, rev)
	if err != nil {
		return nil, err
	}
	cost := loadCost(spec)
	h, err := n.cfg.Runtime.Load(context.WithoutCancel(ctx), spec)
	if err != nil {
		p.reclaimSoon() // a failed load leaves its garbage too
		return nil, err
	}
	p.loads.Add(1)
	return p.newLive(h, rev.Number, spec.Triggers, cost), nil
}

func (p *pool) newLive(h Loaded, revision int, pinned bool, cost int64) *live {
	l := &live{pool: p, handler: h, revision: revision, pinned: pinned, cost: cost}
	l.lastUsed.Store(time.Now().UnixNano())
	return l
}

// costPerWasmByte converts the size of an app's Wasm files into the
// memory the app holds while loaded: its compiled code (mapped by wazero,
// several times the Wasm's size), the decoded module wazero keeps on the
// Go heap, the collector's headroom on it, and the app's trigger and
// router. Measured with BenchmarkDensity (bench/: RSS of a real wisp
// server, growth once every app of a kind is loaded, ÷ apps), 2026-11-22:
//
//   - C WAGI, 17.8 KiB module: 88 KiB per loaded app (4.9 per byte; 200
//     loaded, not settled);
//   - Go SDK, 8035 KiB module: 39.8 MiB (5.1; 4 loaded, settled), and in
//     bench/README.md's runs 52 MiB (6.6; 20 loaded) and 57 MiB (7.3; 40).
//   - Go SDK after it stopped linking net/http's transport, 5321 KiB
//     module: 28.4 MiB (5.5; 65 loaded, settled), session 5.
//
// 6 is within ~20 % of each, for the tiny module as for the big one, so
// no per-app constant is added.
//
// The Wasm size is a proxy, not a measurement of this app: compiled code
// varies with the code's shape, and data segments count though they are
// not compiled. It is known before loading, costs one stat per component,
// and depends on nothing inside the engine.
const costPerWasmByte = 6

// loadCost estimates the memory spec's app holds while loaded (see
// costPerWasmByte). A component file shared by several components counts
// once, as it compiles once; one that cannot be read counts as empty
// (loading it fails anyway).
func loadCost(spec LoadSpec) int64 {
	if spec.App == nil {
		return 0
	}
	var size int64
	seen := map[string]bool{}
	for _, c := range spec.App.Components {
		if seen[c.Source.Path] {
			continue
		}
		seen[c.Source.Path] = true
		if fi, err := os.Stat(c.Source.Path); err == nil {
			size += fi.Size()
		}
	}
	return costPerWasmByte * size
}

// admit records a newly loaded app as most recently used and unloads the
// least recently used ones beyond the budgets; a pinned one is set apart
// (but charged). Called with e.loadMu held. On a closed node it unloads l
// at once and returns false.
func (p *pool) admit(e *appEntry, l *live) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		e.live.CompareAndSwap(l, nil)
		l.retire()
		return false
	}
	if e.live.Load() != l {
		p.mu.Unlock()
		return true // replaced already
	}
	if l.pinned {
		if e.elem != nil {
			p.lru.Remove(e.elem)
			e.elem = nil
		}
		p.pinned[e] = true
	} else {
		delete(p.pinned, e)
		if e.elem == nil {
			e.elem = p.lru.PushFront(e)
		} else {
			p.lru.MoveToFront(e.elem)
		}
	}
	p.charge(e, l.cost)
	evict := p.overBudget(e)
	p.mu.Unlock()
	for _, v := range evict {
		p.unloadIdle(v)
	}
	return true
}

// charge sets what e, now in lru or pinned, counts against maxBytes.
// Called with p.mu held.
func (p *pool) charge(e *appEntry, cost int64) {
	p.bytes += cost - e.charged
	e.charged = cost
}

// discharge is for e leaving lru and pinned. Called with p.mu held.
func (p *pool) discharge(e *appEntry) { p.charge(e, 0) }

// overBudget takes the least recently used apps other than keep out of
// the LRU until both budgets hold, and returns them for unloading. Called
// with p.mu held.
func (p *pool) overBudget(keep *appEntry) []*appEntry {
	var evict []*appEntry
	for p.lru.Len() > p.max || (p.maxBytes > 0 && p.bytes > p.maxBytes) {
		back := p.lru.Back()
		if back == nil || back == keep.elem {
			break // nothing else to unload: keep stays, over the budget
		}
		victim := back.Value.(*appEntry)
		p.lru.Remove(back)
		victim.elem = nil
		p.discharge(victim)
		evict = append(evict, victim)
	}
	return evict
}

func (p *pool) touch(e *appEntry, l *live) {
	l.lastUsed.Store(time.Now().UnixNano())
	if l.pinned || e.live.Load() != l {
		// Not in the LRU, or a request finishing on a revision a deploy
		// replaced meanwhile (maybe by a pinned one): nothing to order.
		return
	}
	p.mu.Lock()
	if e.elem != nil {
		p.lru.MoveToFront(e.elem)
	} else {
		// Taken out of the LRU (idle, or over budget) while this request
		// started on it: back in, and charged, until it is reaped again.
		e.elem = p.lru.PushFront(e)
		p.charge(e, l.cost)
	}
	p.mu.Unlock()
}

// unload retires e's loaded revision, if any; requests still running on it
// finish first.
func (p *pool) unload(e *appEntry) {
	if l := e.live.Swap(nil); l != nil {
		l.retire()
	}
}

// unloadIdle unloads e for idleness or the LRU budget, unless what is
// loaded now is pinned (a deploy may have pinned it since e was picked).
func (p *pool) unloadIdle(e *appEntry) {
	if l := e.live.Load(); l != nil && !l.pinned && e.live.CompareAndSwap(l, nil) {
		l.retire()
	}
}

// forget unloads e and drops it from the LRU and the pinned set (deploy,
// rollback, delete). It waits for a load in progress, so that the load
// cannot leave behind the revision (or the running triggers) of an app
// that changed or is gone.
func (p *pool) forget(e *appEntry) {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	p.mu.Lock()
	if e.elem != nil {
		p.lru.Remove(e.elem)
		e.elem = nil
	}
	delete(p.pinned, e)
	p.discharge(e)
	p.mu.Unlock()
	p.unload(e)
}

// reap unloads apps idle for longer than p.idle until ctx is done.
func (p *pool) reap(ctx context.Context) {
	tick := min(max(p.idle/4, 10*time.Millisecond), 10*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Closing what this unloads asks reclaimLoop to return the
		// memory (rate-limited: see reclaimInterval).
		p.reapOnce(time.Now())
	}
}

func (p *pool) reapOnce(now time.Time) int {
	cutoff := now.Add(-p.idle).UnixNano()
	var idle []*appEntry
	p.mu.Lock()
	for el := p.lru.Back(); el != nil; {
		e := el.Value.(*appEntry)
		prev := el.Prev()
		l := e.live.Load()
		if l == nil || (l.lastUsed.Load() < cutoff && e.inflight.Load() == 0) {
			p.lru.Remove(el)
			e.elem = nil
			p.discharge(e)
			idle = append(idle, e)
		} else if l.lastUsed.Load() >= cutoff {
			break // the rest were used more recently
		}
		el = prev
	}
	p.mu.Unlock()
	for _, e := range idle {
		p.unloadIdle(e)
	}
	return len(idle)
}

// loadedCount is how many apps are loaded.
func (p *pool) loadedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lru.Len() + len(p.pinned)
}

// loadedBytes is the sum of the loaded apps' costs.
func (p *pool) loadedBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

func (p *pool) closeAll() {
	p.mu.Lock()
	p.closed = true
	var all []*appEntry
	for el := p.lru.Front(); el != nil; el = el.Next() {
		all = append(all, el.Value.(*appEntry))
	}
	p.lru.Init()
	for _, e := range all {
		e.elem = nil
	}
	for e := range p.pinned {
		all = append(all, e)
	}
	clear(p.pinned)
	for _, e := range all {
		p.discharge(e)
	}
	p.mu.Unlock()
	for _, e := range all {
		p.unload(e)
	}
}

// reclaimInterval is the least time between two forced collections by
// reclaimLoop.
//
// Why force them at all: an unloaded app's compiled code is unmapped by a
// finalizer and its decoded module is heap garbage, so neither leaves the
// process before the next collection, and an idle node collects only every
// 2 minutes (BenchmarkDensity: after 4 Go SDK deploys, whose validation
// loads each leave ~90 MiB of garbage, the node was at 337 MiB, 189 MiB
// once scavenged, 55 MiB after a forced collection). Why rate-limit: a
// forced collection marks the whole live heap and returns every free page
// (later allocations fault them in again), CPU a busy node would spend on
// every unload of an LRU churning through apps. Measured (a standalone Go
// program, pointer-dense live heap, 2-core VM, busy): debug.FreeOSMemory
// took 12-25 ms with 50 MiB live, 40-60 ms with 200 MiB, 90-100 ms with
// 400 MiB (about 40 loaded Go SDK apps' decoded modules). Once every 5 s
// bounds that to ~2 % of the node's time whatever the churn, while memory
// freed by a burst of unloads goes back within seconds, not minutes.
const reclaimInterval = 5 * time.Second

// reclaimSoon asks reclaimLoop to return freed memory to the OS. It never
// blocks: requests made while one is pending or while reclaimLoop waits
// out reclaimInterval coalesce into one.
func (p *pool) reclaimSoon() {
	select {
	case p.reclaim <- struct{}{}:
	default:
	}
}

// reclaimLoop returns freed memory to the OS when asked (reclaimSoon), at
// most once per reclaimInterval (reclaimEvery), until ctx is done. A burst of requests
// gets one collection at once and, if more came meanwhile, one more after
// the interval, which catches what the burst's last unloads freed.
func (p *pool) reclaimLoop(ctx context.Context) {
	t := time.NewTimer(reclaimInterval)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.reclaim:
		}
		p.free()
		t.Reset(p.reclaimEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
