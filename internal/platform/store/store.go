// Package store keeps the platform's state on disk: one JSON file per
// record (tenant, token, app) under <data dir>/state/<kind>/<key>.json, and
// content-addressed blobs under <data dir>/blobs/sha256/<hex>.
//
// One file per record, each replaced atomically (write a temporary file,
// fsync, rename, fsync the directory), makes every update O(1) however many
// apps a node holds, and a crash leaves each record either old or new,
// never torn. The server is the only writer; it keeps every record in
// memory and reads the files only at start.
package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// Kinds of records.
const (
	KindTenant = "tenants"
	KindToken  = "tokens"
	KindApp    = "apps"
)

// Tenant is a stored tenant.
type Tenant struct {
	Name    string             `json:"name"`
	Admin   bool               `json:"admin,omitempty"`
	Quotas  platformapi.Quotas `json:"quotas"`
	Created time.Time          `json:"created"`
}

// Token is a stored API token: only the SHA-256 of its secret.
type Token struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Hash    string    `json:"sha256"`
	Created time.Time `json:"created"`
}

// App is a stored app.
type App struct {
	Name string `json:"name"`
	// ID is unique for the app's lifetime: its state and logs live under
	// it, so an app deleted and re-created (by anyone) starts empty.
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	Hostnames []string   `json:"hostnames,omitempty"`
	Current   int        `json:"current"`
	Revisions []Revision `json:"revisions"`
	Created   time.Time  `json:"created"`
}

// Revision is a stored revision: its manifest is the blob Digest.
type Revision struct {
	Number   int       `json:"number"`
	Digest   string    `json:"digest"` // sha256 hex of bundle.json
	Blobs    []string  `json:"blobs"`  // every blob it references, bundle.json included
	Created  time.Time `json:"created"`
	Metadata string    `json:"metadata,omitempty"`
}

// Revision returns the revision numbered n, or nil.
func (a *App) Revision(n int) *Revision {
	for i := range a.Revisions {
		if a.Revisions[i].Number == n {
			return &a.Revisions[i]
		}
	}
	return nil
}

// Store is the on-disk state of one node.
type Store struct {
	dir string
}

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,252}$`)

// Open opens (creating) the store under dataDir.
func Open(dataDir string) (*Store, error) {
	s := &Store{dir: dataDir}
	for _, d := range []string{
		filepath.Join(dataDir, "state", KindTenant),
		filepath.Join(dataDir, "state", KindToken),
		filepath.Join(dataDir, "state", KindApp),
		filepath.Join(dataDir, "blobs", "sha256"),
		filepath.Join(dataDir, "blobs", "tmp"),
	} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	// Leftovers of uploads a crash interrupted.
	tmp := filepath.Join(dataDir, "blobs", "tmp")
	if ents, err := os.ReadDir(tmp); err == nil {
		for _, e := range ents {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return s, nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) recordPath(kind, key string) (string, error) {
	if !keyPattern.MatchString(key) {
		return "", fmt.Errorf("store: bad key %q", key)
	}
	return filepath.Join(s.dir, "state", kind, key+".json"), nil
}

// Put writes record v of kind under key, atomically.
func (s *Store) Put(kind, key string, v any) error {
	p, err := s.recordPath(kind, key)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(p, data)
}

// Delete removes a record; a missing one is not an error.
func (s *Store) Delete(kind, key string) error {
	p, err := s.recordPath(kind, key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(p))
}

// LoadAll calls fn with the raw JSON of every record of kind.
func (s *Store) LoadAll(kind string, fn func(key string, data []byte) error) error {
	dir := filepath.Join(s.dir, "state", kind)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue // a temporary file a crash left behind
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := fn(key, data); err != nil {
			return fmt.Errorf("store: %s/%s: %w", kind, e.Name(), err)
		}
	}
	return nil
}

// writeAtomic replaces path with data: readers (and a crash) see the old
// file or the new one, never a mix.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// BlobDir is the directory holding blobs as "sha256/<hex>".
func (s *Store) BlobDir() string { return filepath.Join(s.dir, "blobs") }

// BlobPath returns the file of blob hexDigest.
func (s *Store) BlobPath(hexDigest string) string {
	return filepath.Join(s.dir, "blobs", "sha256", hexDigest)
}

// ErrDigestMismatch marks a blob whose content is not what its name says.
var ErrDigestMismatch = errors.New("digest mismatch")

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// PutBlob stores a blob, verifying that its content has the digest it claims.
// Storing a blob that exists already only verifies the upload.
func (s *Store) PutBlob(digest string, r io.Reader) error {
	if !hexDigest.MatchString(digest) {
		return fmt.Errorf("blob digest %q is not sha256 hex", digest)
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), "upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: content has sha256 %s, not the %s it is named by", ErrDigestMismatch, got, digest)
	}
	dst := s.BlobPath(digest)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.Chmod(f.Name(), 0o400); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// ReadBlob returns the content of a blob.
func (s *Store) ReadBlob(digest string) ([]byte, error) {
	if !hexDigest.MatchString(digest) {
		return nil, fmt.Errorf("blob digest %q is not sha256 hex", digest)
	}
	return os.ReadFile(s.BlobPath(digest))
}

// CollectBlobs removes every blob not in keep.
func (s *Store) CollectBlobs(keep map[string]bool) error {
	dir := filepath.Join(s.dir, "blobs", "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !keep[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// RandomID returns n random bytes as hex.
func RandomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
