package rdbms

import (
	"context"
	"sync"
	"time"

	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// TakeLimiter takes the [<section>] runtime-config table (see
// ParseMaxConnections) and returns the app's connection limiter: nil,
// unlimited, when the table is absent or sets no max_connections.
func TakeLimiter(rc *runtimeconfig.Config, section string) (*Limiter, error) {
	raw, ok := rc.Take(section)
	if !ok {
		return nil, nil
	}
	n, err := ParseMaxConnections(section, raw)
	if err != nil {
		return nil, err
	}
	return NewLimiter(n), nil
}

// Reserve takes one of the instance's connections (open, at most max)
// and then one of the app's (l, waiting at most wait). release gives both
// back; on failure nothing is held and the error is connection-failed
// "too many connections", as in Spin.
func Reserve(ctx context.Context, open *Counter, max int, l *Limiter, wait time.Duration) (release func(), e *Error) {
	if !open.Take(max) {
		return nil, Errorf(ConnectionFailed, "too many connections")
	}
	if !l.Acquire(ctx, wait) {
		open.Put()
		return nil, Errorf(ConnectionFailed, "too many connections")
	}
	return func() {
		l.Release()
		open.Put()
	}, nil
}

// Conn is a guest's connection resource: one backend connection, held
// from open until the guest drops the resource.
type Conn[T any] struct {
	mu      sync.Mutex
	c       T
	held    bool    // false once dropped
	close   func(T) // hands the connection back: closes or pools it
	release func()  // gives back the instance's and the app's slot
}

// Drop hands the connection back and frees its slots, once.
func (c *Conn[T]) Drop() {
	c.mu.Lock()
	held := c.held
	c.held = false
	c.mu.Unlock()
	if !held {
		return
	}
	c.close(c.c)
	c.release()
}

// Get returns the connection, or connection-failed "no connection found"
// once the resource was dropped.
func (c *Conn[T]) Get() (T, *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held {
		var zero T
		return zero, Errorf(ConnectionFailed, "no connection found")
	}
	return c.c, nil
}

// Open reserves the connection slots (Reserve: the instance's open, at
// most max; then one of l's) and takes a connection with acquire, all
// within wait. close is how the resource hands the connection back when
// dropped. On failure nothing is held.
func Open[T any](ctx context.Context, open *Counter, max int, l *Limiter, wait time.Duration,
	acquire func(ctx context.Context) (T, *Error), close func(T)) (*Conn[T], *Error) {
	release, e := Reserve(ctx, open, max, l, wait)
	if e != nil {
		return nil, e
	}
	actx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, e := acquire(actx)
	if e != nil {
		release()
		return nil, e
	}
	return &Conn[T]{c: c, held: true, close: close, release: release}, nil
}

// Cache keeps an app's connection handles (a database handle or a pool),
// one per key, at most perComponent per component: making one more drops
// the component's least recently used handle.
type Cache[K comparable, V any] struct {
	closedErr    error
	perComponent int
	drop         func(V)

	mu      sync.Mutex
	closed  bool
	handles map[K]*cached[V]
	clock   uint64 // use counter for least-recently-used eviction
}

type cached[V any] struct {
	v         V
	component string
	lastUse   uint64
}

// NewCache returns an empty cache. drop is called, with the cache locked,
// for a handle evicted to make room; closedErr is what Get returns once
// the cache is closed.
func NewCache[K comparable, V any](perComponent int, drop func(V), closedErr error) *Cache[K, V] {
	return &Cache[K, V]{closedErr: closedErr, perComponent: perComponent, drop: drop, handles: map[K]*cached[V]{}}
}

// Get returns component's handle for key, making it with create if there
// is none.
func (c *Cache[K, V]) Get(component string, key K, create func() (V, error)) (V, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	if c.closed {
		return zero, c.closedErr
	}
	c.clock++
	if h, ok := c.handles[key]; ok {
		h.lastUse = c.clock
		return h.v, nil
	}
	var oldest K
	n := 0
	for k, h := range c.handles {
		if h.component != component {
			continue
		}
		if n == 0 || h.lastUse < c.handles[oldest].lastUse {
			oldest = k
		}
		n++
	}
	if n >= c.perComponent {
		c.drop(c.handles[oldest].v)
		delete(c.handles, oldest)
	}
	v, err := create()
	if err != nil {
		return zero, err
	}
	c.handles[key] = &cached[V]{v: v, component: component, lastUse: c.clock}
	return v, nil
}

// Close closes the cache and returns the handles it held, for the caller
// to close.
func (c *Cache[K, V]) Close() []V {
	c.mu.Lock()
	defer c.mu.Unlock()
	handles := make([]V, 0, len(c.handles))
	for _, h := range c.handles {
		handles = append(handles, h.v)
	}
	c.handles, c.closed = nil, true
	return handles
}
