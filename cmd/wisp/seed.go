package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// seedOptions are `wisp up`'s --sqlite and --key-value flags.
type seedOptions struct {
	// sqlite statements run in order: "SQL" against the default database
	// (one statement), "@file" or "@file:label" runs every statement of
	// the file against that database.
	sqlite []string
	// keyValues are KEY=VALUE pairs set in the default key-value store.
	keyValues []string
	// appDir and runtimeConfig locate the default key-value store when no
	// component uses it (see defaultKeyValueStore).
	appDir, runtimeConfig string
}

// parseKeyValuePairs checks --key-value flags (key=value; the value may
// be empty or contain '=', as in Spin) and keeps their order.
func parseKeyValuePairs(values []string) ([][2]string, error) {
	var out [][2]string
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, usagef("--key-value %q: key/values must be of the form key=value", kv)
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// seedApp runs the --sqlite statements, then sets the --key-value pairs,
// against the configured app before it serves — Spin's SQL-statement and
// initial-key-value executor hooks, in Spin's order.
func seedApp(ctx context.Context, fapp *factor.App, o seedOptions) error {
	pairs, err := parseKeyValuePairs(o.keyValues)
	if err != nil {
		return err
	}
	if len(o.sqlite) > 0 {
		st, ok := fapp.State(sqlite.Name)
		if !ok {
			return errors.New("--sqlite: the SQLite factor is not configured")
		}
		if err := runSQLite(ctx, st.(*sqlite.AppState), o.sqlite); err != nil {
			return err
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	store, closeStore, err := defaultKeyValueStore(ctx, fapp, o)
	if err != nil {
		return fmt.Errorf("--key-value: %w", err)
	}
	defer closeStore()
	for _, p := range pairs {
		if err := store.Set(ctx, p[0], []byte(p[1])); err != nil {
			return fmt.Errorf("--key-value: setting %q: %w", p[0], err)
		}
	}
	return nil
}

func runSQLite(ctx context.Context, st *sqlite.AppState, statements []string) error {
	for _, s := range statements {
		spec, isFile := strings.CutPrefix(s, "@")
		if !isFile {
			db, err := st.Database(sqlite.DefaultLabel)
			if err != nil {
				return fmt.Errorf("--sqlite: %w", err)
			}
			if _, err := db.Query(ctx, s); err != nil {
				return fmt.Errorf("--sqlite: failed to execute the statement %q against the default database: %w", s, err)
			}
			continue
		}
		file, label, err := parseFileAndLabel(spec)
		if err != nil {
			return fmt.Errorf("--sqlite @%s: %w", spec, err)
		}
		db, err := st.Database(label)
		if err != nil {
			return fmt.Errorf("--sqlite @%s: %w", spec, err)
		}
		sql, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("--sqlite @%s: could not read the file of SQL statements: %w", spec, err)
		}
		if err := db.ExecBatch(ctx, string(sql)); err != nil {
			return fmt.Errorf("--sqlite @%s: failed to execute %s against database %q: %w", spec, file, label, err)
		}
	}
	return nil
}

// parseFileAndLabel reads Spin's "@file" / "@file:label" (default label:
// "default").
func parseFileAndLabel(spec string) (file, label string, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return "", "", errors.New("no file named after '@'")
	}
	file, label, ok := strings.Cut(spec, ":")
	if !ok {
		return spec, sqlite.DefaultLabel, nil
	}
	file, label = strings.TrimSpace(file), strings.TrimSpace(label)
	switch {
	case file == "":
		return "", "", errors.New("the file path is empty")
	case label == "":
		return "", "", errors.New("the database label is empty")
	}
	return file, label, nil
}

// defaultKeyValueStore returns the app's default key-value store. The app
// opens only stores some component is granted; Spin sets --key-value
// pairs in the default store regardless, so when no component uses it,
// it is opened here on its own — by the key-value factor, from the same
// runtime config and state directory as configureFactors uses, so the
// keys land where a component granted "default" will later find them.
func defaultKeyValueStore(ctx context.Context, fapp *factor.App, o seedOptions) (keyvalue.Store, func(), error) {
	if st, ok := fapp.State(keyvalue.Name); ok {
		if s, ok := st.(*keyvalue.AppState).Store(keyvalue.DefaultLabel); ok {
			return s, func() {}, nil
		}
	}
	rc := runtimeconfig.Empty()
	baseDir := o.appDir
	if o.runtimeConfig != "" {
		var err error
		if rc, err = runtimeconfig.Load(o.runtimeConfig); err != nil {
			return nil, nil, err
		}
		baseDir = filepath.Dir(o.runtimeConfig)
	}
	probe := &lockedapp.LockedApp{
		Version:    lockedapp.Version,
		Components: []lockedapp.Component{{ID: "wisp-up-key-value", KeyValueStores: []string{keyvalue.DefaultLabel}}},
	}
	st, err := keyvalue.New().ConfigureApp(ctx, &factor.AppContext{
		App:           probe,
		RuntimeConfig: rc,
		StateDir:      filepath.Join(o.appDir, ".wisp"),
		BaseDir:       baseDir,
	})
	if err != nil {
		return nil, nil, err
	}
	s, ok := st.(*keyvalue.AppState).Store(keyvalue.DefaultLabel)
	if !ok {
		st.Close()
		return nil, nil, errors.New("the default key-value store could not be opened")
	}
	return s, func() { st.Close() }, nil
}
