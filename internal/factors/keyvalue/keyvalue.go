// Package keyvalue is the key-value factor: spin:key-value@3.0.0,
// fermyon:spin/key-value@2.0.0 and wasi:keyvalue@0.2.0-draft2 (store,
// atomics, batch) over labelled stores.
//
// A component opens only the labels its manifest grants
// (key_value_stores); anything else is access-denied. The "default" label
// is a SQLite database at <state dir>/key_value.db unless the runtime
// config redefines it; other labels must be defined in the runtime config:
//
//	[key_value_store.<label>]
//	type = "spin"             # SQLite; path relative to the runtime config's
//	path = "data/kv.db"       # directory; no path: in memory
//
//	[key_value_store.<label>]
//	type = "redis"
//	url = "redis://localhost:6379"
//
// Limits (Limits, DefaultLimits): keys up to 255 bytes and values up to
// 1 MiB on writes — Fermyon Cloud's documented limits; Spin itself only
// bounds reads (128 MiB). A write over a limit fails with the WIT error
// "other" and a message giving the size and the limit.
package keyvalue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue/rediskv"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue/sqlitekv"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// Name is the factor's name in a factor.Set.
const Name = "key-value"

// DefaultLabel is the store every app may use without runtime config.
const DefaultLabel = "default"

// DefaultFile is the default store's file name in the state directory.
const DefaultFile = "key_value.db"

// Store is a backend store (one label). Implementations are safe for
// concurrent use; errors must not contain values.
type Store interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	Exists(ctx context.Context, key string) (bool, error)
	// Keys returns every key, in any order.
	Keys(ctx context.Context) ([]string, error)
	Increment(ctx context.Context, key string, delta int64) (int64, error)
	// CompareAndSwap sets key to value if its value is still old (oldOK
	// false: still absent).
	CompareAndSwap(ctx context.Context, key string, old []byte, oldOK bool, value []byte) (swapped bool, err error)
}

var (
	_ Store = (*sqlitekv.Store)(nil)
	_ Store = (*rediskv.Store)(nil)
)

// Limits bound what a guest may write.
type Limits struct {
	MaxKeyBytes   int
	MaxValueBytes int
	// MaxOpenStores bounds the store handles one instance holds at once
	// (Spin: 256); beyond it open fails with store-table-full.
	MaxOpenStores int
	// ListPageSize is how many keys wasi:keyvalue list-keys returns per
	// call before handing back a cursor.
	ListPageSize int
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{MaxKeyBytes: 255, MaxValueBytes: 1 << 20, MaxOpenStores: 256, ListPageSize: 1000}

// Factor is the key-value factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with limits (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.MaxKeyBytes <= 0 {
		l.MaxKeyBytes = DefaultLimits.MaxKeyBytes
	}
	if l.MaxValueBytes <= 0 {
		l.MaxValueBytes = DefaultLimits.MaxValueBytes
	}
	if l.MaxOpenStores <= 0 {
		l.MaxOpenStores = DefaultLimits.MaxOpenStores
	}
	if l.ListPageSize <= 0 {
		l.ListPageSize = DefaultLimits.ListPageSize
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string   { return Name }
func (*Factor) Deps() []string { return nil }

// storeConfig is one [key_value_store.<label>] table, validated.
type storeConfig struct {
	typ  string // "spin" or "redis"
	path string // spin: absolute path, "" for in memory
	url  string // redis
}

func (c storeConfig) String() string {
	switch {
	case c.typ == "redis":
		return "redis"
	case c.path == "":
		return "spin (in memory)"
	default:
		return "spin " + c.path
	}
}

// parseConfig reads the key_value_store section strictly.
func parseConfig(ac *factor.AppContext) (map[string]storeConfig, error) {
	out := map[string]storeConfig{}
	err := ac.RuntimeConfig.TakeLabelled("key_value_store", func(t *runtimeconfig.Table) {
		typ, ok := t.String("type")
		if !ok {
			if !t.Has("type") {
				t.Errorf("missing field \"type\" (\"spin\" or \"redis\")")
			}
			return
		}
		c := storeConfig{typ: typ}
		switch typ {
		case "spin":
			p, ok := t.String("path")
			if t.Err() != nil {
				return
			}
			if ok {
				if p == "" {
					t.Errorf("path must not be empty (leave it out for an in-memory store)")
					return
				}
				if !filepath.IsAbs(p) {
					p = filepath.Join(ac.BaseDir, p)
				}
				var err error
				if c.path, err = filepath.Abs(p); err != nil {
					t.Errorf("path: %w", err)
					return
				}
			}
			t.Strict(typ, "type", "path")
		case "redis":
			u, _ := t.String("url")
			if t.Err() != nil {
				return
			}
			if u == "" {
				t.Errorf("missing field \"url\"")
				return
			}
			c.url = u
			t.Strict(typ, "type", "url")
		default:
			t.Errorf("unknown type %q (wisp supports \"spin\" and \"redis\")", typ)
			return
		}
		out[t.Label] = c
	})
	return out, err
}

// ConfigureApp takes [key_value_store], checks that every label a
// component is granted is defined (or is "default") and opens the stores
// some component uses.
func (f *Factor) ConfigureApp(ctx context.Context, ac *factor.AppContext) (_ factor.AppState, err error) {
	configs, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	if _, ok := configs[DefaultLabel]; !ok {
		c := storeConfig{typ: "spin"}
		if ac.StateDir != "" {
			c.path = filepath.Join(ac.StateDir, DefaultFile)
		}
		configs[DefaultLabel] = c
	}
	s := &AppState{limits: f.limits, stores: map[string]Store{}, grants: map[string]map[string]bool{}}
	var errs []error
	used := map[string]bool{}
	for _, c := range ac.App.Components {
		g := map[string]bool{}
		for _, label := range c.KeyValueStores {
			if _, ok := configs[label]; !ok {
				errs = append(errs, fmt.Errorf("component %q: key-value store %q is not defined: add [key_value_store.%s] to the runtime config", c.ID, label, label))
				continue
			}
			g[label] = true
			used[label] = true
		}
		s.grants[c.ID] = g
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if ac.ValidateOnly {
		return s, nil
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	dbs := map[string]*sqlitekv.DB{} // by path: labels sharing a file share a DB
	for _, label := range slices.Sorted(maps.Keys(used)) {
		c := configs[label]
		switch c.typ {
		case "spin":
			db := dbs[c.path]
			if db == nil || c.path == "" {
				if db, err = sqlitekv.Open(c.path); err != nil {
					return nil, fmt.Errorf("key-value store %q: %w", label, err)
				}
				s.closers = append(s.closers, db.Close)
				if c.path != "" {
					dbs[c.path] = db
				}
			}
			s.stores[label] = db.Store(label)
		case "redis":
			r, err := rediskv.Open(ctx, c.url, "")
			if err != nil {
				return nil, fmt.Errorf("key-value store %q: %w", label, err)
			}
			s.closers = append(s.closers, r.Close)
			s.stores[label] = r
		}
	}
	return s, nil
}

// AppState is the factor's per-app state: the opened stores and which
// component may open which label.
type AppState struct {
	limits  Limits
	stores  map[string]Store
	grants  map[string]map[string]bool // component → labels
	closers []func() error
}

var _ factor.AppState = (*AppState)(nil)

// Store returns the opened store for label (tests, other factors).
func (s *AppState) Store(label string) (Store, bool) {
	st, ok := s.stores[label]
	return st, ok
}

// Prepare records what the instance of componentID may open.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	g, ok := s.grants[componentID]
	if !ok {
		return nil, errors.New("no such component in the app")
	}
	return context.WithValue(ctx, ctxKey{}, &instance{state: s, grants: g}), nil
}

// Close closes every backend.
func (s *AppState) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// listPage returns the keys after cursor ("" = from the start), sorted,
// at most n, and the cursor for the next page if more remain.
func listPage(keys []string, cursor string, n int) ([]string, string) {
	sort.Strings(keys)
	i := 0
	if cursor != "" {
		i = sort.SearchStrings(keys, cursor)
		if i < len(keys) && keys[i] == cursor {
			i++
		}
	}
	keys = keys[i:]
	if len(keys) > n {
		return keys[:n], keys[n-1]
	}
	return keys, ""
}
