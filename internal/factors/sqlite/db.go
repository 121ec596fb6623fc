package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Database is one SQLite database of an app: a pool of connections shared
// by every component the manifest grants its label. Safe for concurrent use.
type Database struct {
	path        string // "" in memory
	allowAttach bool
	db          *sql.DB
	// pin keeps an in-memory database alive: it exists only while some
	// connection to it is open.
	pin *sql.Conn
}

// maxIdleConns bounds the idle connections a database keeps for reuse.
const maxIdleConns = 8

// openDatabase opens (creating it and its directory if needed) the
// database at path; "" opens a private in-memory database that every
// connection of this Database shares. Files use WAL with synchronous=FULL:
// a statement that committed has reached the disk when it returns.
func openDatabase(path string, allowAttach bool) (*Database, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	var dsn string
	if path == "" {
		// The memdb VFS shares one in-memory database between the
		// connections that name it; the random name keeps apps apart.
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		q.Set("vfs", "memdb")
		dsn = "file:/wisp-" + hex.EncodeToString(b[:]) + "?" + q.Encode()
	} else {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("sqlite database directory: %w", err)
		}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		dsn = "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(maxIdleConns)
	d := &Database{path: path, allowAttach: allowAttach, db: db}
	// Connect now so a bad path fails at load, not on the first request.
	c, err := d.conn(context.Background())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", d, err)
	}
	if path == "" {
		d.pin = c
	} else {
		d.release(c)
	}
	return d, nil
}

func (d *Database) String() string {
	if d.path == "" {
		return "an in-memory database"
	}
	return fmt.Sprintf("%q", d.path)
}

// Path is the database file ("" when in memory).
func (d *Database) Path() string { return d.path }

// conn takes a connection from the pool for one guest connection handle.
func (d *Database) conn(ctx context.Context) (*sql.Conn, error) {
	c, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if !d.allowAttach {
		// Spin denies ATTACHing files unless allow_attach_file is set:
		// a guest must reach no file beyond its database.
		if err := withRaw(ctx, c, func(rc rawConn) error { rc.limitAttached(0); return nil }); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// release hands c back to the pool, rolling back a transaction the guest
// left open; a connection that cannot be cleaned is discarded.
func (d *Database) release(c *sql.Conn) {
	_ = c.Raw(func(dc any) error {
		rc, err := handleOf(dc)
		if err != nil {
			return driver.ErrBadConn
		}
		if rc.inTransaction() {
			if err := rc.batch("ROLLBACK"); err != nil || rc.inTransaction() {
				return driver.ErrBadConn // database/sql closes it
			}
		}
		return nil
	})
	c.Close()
}

// Query runs one statement with positional parameters on a connection of
// the pool (the way `wisp up --sqlite "..."` runs a statement).
func (d *Database) Query(ctx context.Context, statement string, params ...Value) (*Result, error) {
	c, err := d.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer d.release(c)
	var res *Result
	err = withRaw(ctx, c, func(rc rawConn) error {
		res, err = rc.query(statement, params, maxResultBytes)
		return err
	})
	return res, err
}

// ExecBatch runs every statement in sql (the way `wisp up --sqlite @file`
// runs a file).
func (d *Database) ExecBatch(ctx context.Context, sql string) error {
	c, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer d.release(c)
	return withRaw(ctx, c, func(rc rawConn) error { return rc.batch(sql) })
}

// OpenConnections is how many connections the pool holds, in use or idle.
func (d *Database) OpenConnections() int { return d.db.Stats().OpenConnections }

// Close closes the pool.
func (d *Database) Close() error {
	var errs []error
	if d.pin != nil {
		errs = append(errs, d.pin.Close())
	}
	errs = append(errs, d.db.Close())
	return errors.Join(errs...)
}
