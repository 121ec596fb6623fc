// Package bundle is the deployable form of an app: what `wisp deploy`
// uploads and `wisp server` stores. A bundle is a gzip-compressed tar:
//
//	bundle.json              Manifest: the locked app (as the loader made
//	                         it) with every path replaced by a blob name
//	blobs/sha256/<hex>       each component source and file, once
//
// The client runs the loader (the same one `wisp up` runs), so the server
// never downloads remote sources on a tenant's behalf and never reads a
// manifest's relative paths. Blobs are named by the SHA-256 of their
// content, which the server verifies while it stores them; the same
// layout maps onto an OCI artifact (config + content-addressed layers).
package bundle

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// ManifestName is the tar entry holding the Manifest; it comes first.
const ManifestName = "bundle.json"

// Version is the Manifest format this package writes and reads.
const Version = 1

// Manifest describes a bundle.
type Manifest struct {
	Version int `json:"wisp_bundle_version"`
	// App is the locked app whose Source.Path and File.Source values are
	// blob names ("blobs/sha256/<hex>").
	App lockedapp.LockedApp `json:"app"`
	// Variables are application variable values set at deploy time
	// (wisp deploy --variable); they are stored with the revision.
	Variables map[string]string `json:"variables,omitempty"`
}

var blobName = regexp.MustCompile(`^blobs/sha256/[0-9a-f]{64}$`)

// BlobName returns the bundle name of content with the given sha256 hex.
func BlobName(hexDigest string) string { return "blobs/sha256/" + hexDigest }

// Write writes app (whose paths are absolute local files, as the loader
// returns it) and variables as a bundle to w.
func Write(w io.Writer, app *lockedapp.LockedApp, variables map[string]string) error {
	m := Manifest{Version: Version, App: *app, Variables: variables}
	m.App.Components = make([]lockedapp.Component, len(app.Components))
	blobs := map[string]string{} // blob name -> local path
	add := func(path string) (string, error) {
		sum, err := fileSHA256(path)
		if err != nil {
			return "", err
		}
		name := BlobName(sum)
		blobs[name] = path
		return name, nil
	}
	for i, c := range app.Components {
		c.Files = append([]lockedapp.File(nil), c.Files...)
		name, err := add(c.Source.Path)
		if err != nil {
			return fmt.Errorf("component %q: %w", c.ID, err)
		}
		c.Source.Path = name
		for j, f := range c.Files {
			if c.Files[j].Source, err = add(f.Source); err != nil {
				return fmt.Errorf("component %q: %w", c.ID, err)
			}
		}
		m.App.Components[i] = c
	}
	// The origin names a directory on the deploying machine: of no use to
	// the server, and not the server's business.
	m.App.Metadata.Origin = ""

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeEntry(tw, ManifestName, int64(len(data)), strings.NewReader(string(data))); err != nil {
		return err
	}
	for name, path := range blobs {
		if err := writeFile(tw, name, path); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeFile(tw *tar.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return writeEntry(tw, name, st.Size(), f)
}

func writeEntry(tw *tar.Writer, name string, size int64, r io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := io.Copy(tw, r)
	return err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Limits bound what Read accepts.
type Limits struct {
	// MaxBytes bounds the uncompressed size of all entries together.
	MaxBytes int64
	// MaxEntries bounds the number of tar entries.
	MaxEntries int
}

// BlobStore keeps blobs by digest.
type BlobStore interface {
	// Put stores r's content, which must have the given sha256 hex digest;
	// a mismatch is an error and nothing is stored.
	Put(hexDigest string, r io.Reader) error
}

// ErrInvalid marks a bundle that is malformed (as opposed to a storage
// failure); the server answers 400 for it.
var ErrInvalid = errors.New("invalid bundle")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Read reads a bundle from r, puts every blob into store (verifying its
// digest) and returns the manifest and its raw bytes. Every path in the
// manifest must name a blob of this bundle.
func Read(r io.Reader, store BlobStore, lim Limits) (*Manifest, []byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, invalidf("not gzip: %v", err)
	}
	budget := &limitedReader{r: gz, left: lim.MaxBytes}
	tr := tar.NewReader(budget)
	var raw []byte
	seen := map[string]bool{}
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if budget.left < 0 {
				return nil, nil, invalidf("larger than %d bytes", lim.MaxBytes)
			}
			return nil, nil, invalidf("reading tar: %v", err)
		}
		if lim.MaxEntries > 0 && n >= lim.MaxEntries {
			return nil, nil, invalidf("more than %d entries", lim.MaxEntries)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, nil, invalidf("entry %q is not a regular file", h.Name)
		}
		switch {
		case h.Name == ManifestName && raw == nil:
			if raw, err = io.ReadAll(io.LimitReader(tr, 16<<20)); err != nil {
				return nil, nil, invalidf("reading %s: %v", ManifestName, err)
			}
		case blobName.MatchString(h.Name) && !seen[h.Name]:
			src := &errReader{r: tr}
			if err := store.Put(strings.TrimPrefix(h.Name, "blobs/sha256/"), src); err != nil {
				switch {
				case budget.left < 0:
					return nil, nil, invalidf("larger than %d bytes", lim.MaxBytes)
				case src.err != nil:
					// The upload broke off or the archive is corrupt.
					return nil, nil, invalidf("reading %s: %v", h.Name, src.err)
				case errors.Is(err, ErrDigestMismatch):
					return nil, nil, invalidf("%s: %v", h.Name, err)
				}
				return nil, nil, fmt.Errorf("blob %s: %w", h.Name, err)
			}
			seen[h.Name] = true
		default:
			return nil, nil, invalidf("unexpected entry %q (want %s and blobs/sha256/<hex>, each once)", h.Name, ManifestName)
		}
	}
	if raw == nil {
		return nil, nil, invalidf("no %s", ManifestName)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, nil, invalidf("%s: %v", ManifestName, err)
	}
	if m.Version != Version {
		return nil, nil, invalidf("%s: version %d, want %d", ManifestName, m.Version, Version)
	}
	for _, c := range m.App.Components {
		if !seen[c.Source.Path] {
			return nil, nil, invalidf("component %q: source %q is not a blob of this bundle", c.ID, c.Source.Path)
		}
		if c.Source.Digest != "sha256:"+strings.TrimPrefix(c.Source.Path, "blobs/sha256/") {
			return nil, nil, invalidf("component %q: digest %q does not match its blob", c.ID, c.Source.Digest)
		}
		for _, f := range c.Files {
			if !seen[f.Source] {
				return nil, nil, invalidf("component %q: file %q is not a blob of this bundle", c.ID, f.Destination)
			}
		}
	}
	return &m, raw, nil
}

// Resolve returns a copy of the manifest's app with blob names replaced by
// paths under blobDir (the directory holding "sha256/<hex>" files).
func (m *Manifest) Resolve(blobDir string) *lockedapp.LockedApp {
	app := m.App
	app.Components = make([]lockedapp.Component, len(m.App.Components))
	for i, c := range m.App.Components {
		c.Source.Path = filepath.Join(blobDir, filepath.FromSlash(strings.TrimPrefix(c.Source.Path, "blobs/")))
		files := make([]lockedapp.File, len(c.Files))
		for j, f := range c.Files {
			f.Source = filepath.Join(blobDir, filepath.FromSlash(strings.TrimPrefix(f.Source, "blobs/")))
			files[j] = f
		}
		c.Files = files
		app.Components[i] = c
	}
	return &app
}

// ErrDigestMismatch is what a BlobStore returns (wrapped) for content
// that does not have the digest it is named by.
var ErrDigestMismatch = errors.New("content does not match its digest")

// errReader records the first read error other than io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// limitedReader fails once more than left bytes were read.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.left = -1
		return 0, errors.New("size limit reached")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
