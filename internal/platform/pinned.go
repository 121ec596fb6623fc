package platform

// Apps with event triggers (Redis, MQTT, cron) are pinned: an HTTP app
// loads when a request comes, but nothing would ever come to an app whose
// events arrive on a subscription only a loaded app holds. So such an app
// is loaded at deploy (a trigger that cannot start fails the deploy), at
// node start, and again whenever it is found unloaded (its trigger's
// server was down when the node started); it is exempt from the idle
// timeout and never evicted to fit MaxLoaded or MaxLoadedBytes (its cost
// counts toward the latter; tenants' MaxApps bounds it); and
// its triggers stop when a deploy, rollback or delete replaces it. It
// holds its compiled code and its triggers' connections between events,
// but no instance and no linear memory: each event still gets a fresh
// instance.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// listens reports whether app has triggers other than HTTP, which listen
// for events the node does not route to it.
func listens(app *lockedapp.LockedApp) bool {
	for _, t := range app.Triggers {
		if t.Type != "http" {
			return true
		}
	}
	return false
}

const (
	// pinnedCheck is how often the node looks for pinned apps that are
	// not loaded.
	pinnedCheck = time.Second
	// pinnedRetryMax caps the wait between attempts to load a pinned app
	// that failed to load, doubling from pinnedCheck.
	pinnedRetryMax = time.Minute
	// pinnedParallel bounds the loads at once (compiling is CPU-bound).
	pinnedParallel = 4
)

// keepPinned loads the pinned apps that are not loaded, at once and then
// every pinnedCheck, until ctx is done. A failed load is logged for the
// app and retried with backoff; it never stops the node.
func (p *pool) keepPinned(ctx context.Context) {
	type retry struct {
		at   time.Time
		wait time.Duration
	}
	var mu sync.Mutex
	retries := map[*appEntry]*retry{}
	t := time.NewTicker(pinnedCheck)
	defer t.Stop()
	for {
		now := time.Now()
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return
		}
		type app struct {
			e    *appEntry
			name string
		}
		var due []app
		p.node.mu.RLock()
		for _, e := range p.node.apps {
			if !e.listens || e.current() != nil {
				continue
			}
			mu.Lock()
			r := retries[e]
			mu.Unlock()
			if r == nil || !now.Before(r.at) {
				due = append(due, app{e, e.rec.Name})
			}
		}
		p.node.mu.RUnlock()

		sem := make(chan struct{}, pinnedParallel)
		var wg sync.WaitGroup
		for _, a := range due {
			e := a.e
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				err := p.ensure(ctx, e)
				mu.Lock()
				defer mu.Unlock()
				if err == nil || errors.Is(err, errGone) || errors.Is(err, errClosed) {
					delete(retries, e)
					return
				}
				r := retries[e]
				if r == nil {
					r = &retry{wait: pinnedCheck}
					retries[e] = r
				} else {
					r.wait = min(r.wait*2, pinnedRetryMax)
				}
				r.at = time.Now().Add(r.wait)
				p.node.log.Error("starting the app's triggers failed; retrying", "app", a.name, "in", r.wait, "err", err)
			})
		}
		wg.Wait()
		// Entries of deleted or redeployed apps drop out here.
		mu.Lock()
		p.node.mu.RLock()
		for e := range retries {
			if p.node.apps[e.rec.Name] != e || !e.listens {
				delete(retries, e)
			}
		}
		p.node.mu.RUnlock()
		mu.Unlock()

		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
