// Package sqlitekv is the "spin" key-value backend: every store of a
// database lives in one SQLite table, as in Spin's key-value-spin (so a
// database file Spin wrote opens here and back). It uses modernc.org/sqlite
// (pure Go). Files are opened in WAL mode with synchronous=FULL: a set that
// returned has reached the disk and survives the process being killed.
package sqlitekv

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is one SQLite database holding any number of named stores.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens (creating it and its directory if needed) the database at
// path; "" or ":memory:" opens a private in-memory database.
func Open(path string) (*DB, error) {
	var dsn string
	memory := path == "" || path == ":memory:"
	if memory {
		dsn = "file::memory:?_pragma=busy_timeout(10000)"
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("key-value store directory: %w", err)
		}
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		dsn = "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("key-value store %s: %w", path, err)
	}
	if memory {
		// Each connection to :memory: is its own database: keep one.
		db.SetMaxOpenConns(1)
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS spin_key_value (
		store TEXT NOT NULL,
		key   TEXT NOT NULL,
		value BLOB NOT NULL,
		PRIMARY KEY (store, key)
	)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("key-value store %s: %w", path, err)
	}
	return &DB{db: db, path: path}, nil
}

// Path is the database file ("" when in memory).
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Store returns the store named name (Spin's label) in the database.
func (d *DB) Store(name string) *Store { return &Store{db: d.db, name: name} }

// Store is one named store. Safe for concurrent use.
type Store struct {
	db   *sql.DB
	name string
}

// Get returns the value of key; ok is false if there is none.
func (s *Store) Get(ctx context.Context, key string) (value []byte, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT value FROM spin_key_value WHERE store=? AND key=?`, s.name, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if value == nil {
		value = []byte{}
	}
	return value, true, nil
}

const upsert = `INSERT INTO spin_key_value (store, key, value) VALUES (?, ?, ?)
	ON CONFLICT(store, key) DO UPDATE SET value=excluded.value`

// Set stores value under key.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.db.ExecContext(ctx, upsert, s.name, key, value)
	return err
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM spin_key_value WHERE store=? AND key=?`, s.name, key)
	return err
}

// Exists reports whether key has a value.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM spin_key_value WHERE store=? AND key=?`, s.name, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Keys returns every key of the store, sorted.
func (s *Store) Keys(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM spin_key_value WHERE store=? ORDER BY key`, s.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// Increment adds delta to the counter at key (0 if absent) and returns
// the new value. As in Spin's SQLite store, a counter is an 8-byte
// little-endian signed integer.
func (s *Store) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var v []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM spin_key_value WHERE store=? AND key=?`, s.name, key).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case len(v) != 8:
			return fmt.Errorf("value of %q is not a counter (%d bytes, want 8)", key, len(v))
		default:
			n = int64(binary.LittleEndian.Uint64(v))
		}
		n += delta
		_, err = tx.ExecContext(ctx, upsert, s.name, key, binary.LittleEndian.AppendUint64(nil, uint64(n)))
		return err
	})
	return n, err
}

// CompareAndSwap sets key to value if its current value is still old
// (oldOK false: still absent), atomically; swapped reports whether it did.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old []byte, oldOK bool, value []byte) (swapped bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var cur []byte
		err := tx.QueryRowContext(ctx, `SELECT value FROM spin_key_value WHERE store=? AND key=?`, s.name, key).Scan(&cur)
		curOK := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if curOK != oldOK || (curOK && !bytes.Equal(cur, old)) {
			return nil
		}
		if value == nil {
			value = []byte{}
		}
		if _, err := tx.ExecContext(ctx, upsert, s.name, key, value); err != nil {
			return err
		}
		swapped = true
		return nil
	})
	return swapped, err
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE for file databases).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
