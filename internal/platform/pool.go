package platform

import (
	"container/list"
	"context"
	"errors"
	"fmt"
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
	handler  Loaded
	revision int
	// pinned: loaded with its event triggers running (LoadSpec.Triggers).
	// A pinned revision is in pool.pinned, never in the LRU: neither
	// idleness nor the MaxLoaded budget unloads it, only a deploy,
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
		l.handler.Close(context.Background())
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
		l.handler.Close(context.Background())
	}
}

func (l *live) isRetired() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.retired
}

// pool tracks loaded apps: those that scale to zero in least-recently-used
// order, the pinned ones (apps with event triggers) apart.
type pool struct {
	node   *Node
	max    int
	idle   time.Duration
	mu     sync.Mutex
	lru    *list.List // of *appEntry, most recently used first
	pinned map[*appEntry]bool
	closed bool // by closeAll: nothing loads any more
	loads  atomic.Int64
}

func newPool(n *Node, max int, idle time.Duration) *pool {
	return &pool{node: n, max: max, idle: idle, lru: list.New(), pinned: map[*appEntry]bool{}}
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
	h, err := n.cfg.Runtime.Load(context.WithoutCancel(ctx), spec)
	if err != nil {
		return nil, err
	}
	p.loads.Add(1)
	return newLive(h, rev.Number, spec.Triggers), nil
}

func newLive(h Loaded, revision int, pinned bool) *live {
	l := &live{handler: h, revision: revision, pinned: pinned}
	l.lastUsed.Store(time.Now().UnixNano())
	return l
}

// admit records a newly loaded app as most recently used and unloads the
// least recently used ones beyond the budget; a pinned one is set apart.
// Called with e.loadMu held. On a closed node it unloads l at once and
// returns false.
func (p *pool) admit(e *appEntry, l *live) bool {
	var evict []*appEntry
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
		p.mu.Unlock()
		return true
	}
	delete(p.pinned, e)
	if e.elem == nil {
		e.elem = p.lru.PushFront(e)
	} else {
		p.lru.MoveToFront(e.elem)
	}
	for p.lru.Len() > p.max {
		back := p.lru.Back()
		victim := back.Value.(*appEntry)
		p.lru.Remove(back)
		victim.elem = nil
		evict = append(evict, victim)
	}
	p.mu.Unlock()
	for _, v := range evict {
		p.unloadIdle(v)
	}
	return true
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
		e.elem = p.lru.PushFront(e)
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
		// No debug.FreeOSMemory here: a forced full collection on every
		// tick that unloads something costs more than it saves; the
		// runtime's background scavenger returns the freed heap to the
		// OS on its own.
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
	p.mu.Unlock()
	for _, e := range all {
		p.unload(e)
	}
}
