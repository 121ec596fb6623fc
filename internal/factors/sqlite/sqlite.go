// Package sqlite is the SQLite factor: spin:sqlite/sqlite@3.1.0 and
// fermyon:spin/sqlite@2.0.0 over labelled databases.
//
// A component opens only the labels its manifest grants
// (sqlite_databases); anything else is access-denied. The "default" label
// is <state dir>/sqlite_db.db (Spin's file name; in memory without a state
// directory) unless the runtime config redefines it; other labels must be
// defined in the runtime config:
//
//	[sqlite_database.<label>]
//	type = "spin"              # a local SQLite file; path relative to the
//	path = "data/app.db"       # runtime config's directory; no path: in memory
//	allow_attach_file = false  # Spin's option: may statements ATTACH files?
//
// Spin's type "libsql" (a remote libSQL server) is not supported.
//
// Each database is one connection pool per app, shared by every component
// granted its label (same label, same app: same data, as in Spin). A guest
// connection handle holds one pooled connection until it is dropped, so
// transactions, changes() and last-insert-rowid() behave as on a SQLite
// connection of its own; a transaction left open is rolled back when the
// handle is dropped. Per-connection settings a guest changes (PRAGMAs,
// temporary tables) may be seen by a later handle to the same database of
// the same app.
package sqlite

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// Name is the factor's name in a factor.Set.
const Name = "sqlite"

// DefaultLabel is the database every app may use without runtime config.
const DefaultLabel = "default"

// DefaultFile is the default database's file name in the state directory
// (Spin's DEFAULT_SQLITE_DB_FILENAME).
const DefaultFile = "sqlite_db.db"

// Limits bound what one instance may hold and read.
type Limits struct {
	// MaxOpenConnections bounds the connection handles one instance holds
	// at once (Spin: 256); beyond it open fails with io("too many
	// connections opened").
	MaxOpenConnections int
	// MaxResultBytes bounds one execute's rows (Spin: 128 MiB).
	MaxResultBytes int
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{MaxOpenConnections: 256, MaxResultBytes: maxResultBytes}

const maxResultBytes = 128 << 20

// Factor is the SQLite factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with limits (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.MaxOpenConnections <= 0 {
		l.MaxOpenConnections = DefaultLimits.MaxOpenConnections
	}
	if l.MaxResultBytes <= 0 {
		l.MaxResultBytes = DefaultLimits.MaxResultBytes
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string   { return Name }
func (*Factor) Deps() []string { return nil }

// dbConfig is one [sqlite_database.<label>] table, validated.
type dbConfig struct {
	path        string // absolute; "" in memory
	allowAttach bool
}

// parseConfig reads the sqlite_database section strictly.
func parseConfig(ac *factor.AppContext) (map[string]dbConfig, error) {
	out := map[string]dbConfig{}
	err := ac.RuntimeConfig.TakeLabelled("sqlite_database", func(t *runtimeconfig.Table) {
		typ, ok := t.String("type")
		switch {
		case !ok && t.Has("type"): // String recorded the error
			return
		case !ok:
			t.Errorf("missing field \"type\" (\"spin\")")
			return
		case typ == "libsql":
			t.Errorf("type \"libsql\" (a remote libSQL database) is not supported by wisp; use type \"spin\"")
			return
		case typ != "spin":
			t.Errorf("unknown type %q (wisp supports \"spin\")", typ)
			return
		}
		var c dbConfig
		if v, ok := t.Value("path"); ok {
			p, ok := v.(string)
			if !ok || p == "" {
				t.Errorf("path must be a non-empty string (leave it out for an in-memory database)")
			} else {
				if !filepath.IsAbs(p) {
					p = filepath.Join(ac.BaseDir, p)
				}
				abs, err := filepath.Abs(p)
				if err != nil {
					t.Errorf("path: %w", err)
				}
				c.path = abs
			}
		}
		c.allowAttach, _ = t.Bool("allow_attach_file")
		t.Strict(typ, "type", "path", "allow_attach_file")
		if t.Err() == nil {
			out[t.Label] = c
		}
	})
	return out, err
}

// ConfigureApp takes [sqlite_database], checks that every label a
// component is granted is defined (or is "default") and opens the
// databases some component uses.
func (f *Factor) ConfigureApp(ctx context.Context, ac *factor.AppContext) (_ factor.AppState, err error) {
	configs, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	if _, ok := configs[DefaultLabel]; !ok {
		var c dbConfig
		if ac.StateDir != "" {
			c.path = filepath.Join(ac.StateDir, DefaultFile)
		}
		configs[DefaultLabel] = c
	}
	s := &AppState{
		limits:  f.limits,
		configs: configs,
		dbs:     map[string]*Database{},
		byPath:  map[string]*Database{},
		grants:  map[string]map[string]bool{},
	}
	var missing []string
	used := map[string]bool{}
	for _, c := range ac.App.Components {
		g := map[string]bool{}
		for _, label := range c.SQLiteDatabases {
			if _, ok := configs[label]; !ok {
				missing = append(missing, fmt.Sprintf("component %q uses database %q", c.ID, label))
				continue
			}
			g[label] = true
			used[label] = true
		}
		s.grants[c.ID] = g
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("SQLite databases are not defined (check the spelling, or add [sqlite_database.<label>] to the runtime config): %s", strings.Join(missing, "; "))
	}
	if ac.ValidateOnly {
		return s, nil
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	for _, label := range slices.Sorted(maps.Keys(used)) {
		if _, err := s.Database(label); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// AppState is the factor's per-app state: the databases and which
// component may open which label.
type AppState struct {
	limits  Limits
	configs map[string]dbConfig
	grants  map[string]map[string]bool // component → labels

	mu     sync.Mutex
	dbs    map[string]*Database // by label
	byPath map[string]*Database // labels naming one file share its pool
	closed bool
}

var _ factor.AppState = (*AppState)(nil)

// Database returns the database of label, opening its pool on first use.
// It serves any label the app defines, granted or not: the CLI's --sqlite
// seeds databases before any guest runs, as Spin's does.
func (s *AppState) Database(label string) (*Database, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("sqlite: the app is closed")
	}
	if d := s.dbs[label]; d != nil {
		return d, nil
	}
	c, ok := s.configs[label]
	if !ok {
		return nil, fmt.Errorf("no SQLite database %q is defined (add [sqlite_database.%s] to the runtime config)", label, label)
	}
	d := s.byPath[c.path]
	if d == nil || c.path == "" || d.allowAttach != c.allowAttach {
		var err error
		if d, err = openDatabase(c.path, c.allowAttach); err != nil {
			return nil, fmt.Errorf("sqlite database %q: %w", label, err)
		}
		if c.path != "" && s.byPath[c.path] == nil {
			s.byPath[c.path] = d
		}
	}
	s.dbs[label] = d
	return d, nil
}

// Prepare records what the instance of componentID may open.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	g, ok := s.grants[componentID]
	if !ok {
		return nil, errors.New("no such component in the app")
	}
	return context.WithValue(ctx, ctxKey{}, &instance{state: s, grants: g}), nil
}

// Close closes every database.
func (s *AppState) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	seen := map[*Database]bool{}
	for _, d := range s.dbs {
		if !seen[d] {
			seen[d] = true
			errs = append(errs, d.Close())
		}
	}
	s.dbs = map[string]*Database{}
	return errors.Join(errs...)
}
