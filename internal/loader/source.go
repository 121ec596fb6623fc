package loader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

const digestPrefix = "sha256:"

func (l *loader) lockSource(ctx context.Context, id string, s manifest.Source) (lockedapp.Source, error) {
	switch {
	case s.Path != "":
		return l.localSource(id, s.Path)
	case s.URL != "":
		return l.remoteSource(ctx, id, s.URL, s.Digest)
	case s.Registry != "" || s.Package != "" || s.Version != "":
		return lockedapp.Source{}, fmt.Errorf("component %q: registry sources are not supported yet: use a local path or { url, digest }", id)
	default:
		return lockedapp.Source{}, fmt.Errorf("component %q: no source: set source to a .wasm path or { url, digest }", id)
	}
}

// localSource locates a source on disk. Unlike files, sources may live
// anywhere the author chose (Spin allows ../shared/x.wasm): the source is
// code the author runs, not data exposed to the guest.
func (l *loader) localSource(id, p string) (lockedapp.Source, error) {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(l.appDir, filepath.FromSlash(p))
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return lockedapp.Source{}, fmt.Errorf("component %q: source %q does not exist: build the component first, or fix the path", id, p)
	case err != nil:
		return lockedapp.Source{}, fmt.Errorf("component %q: source %q: %w", id, p, err)
	case !fi.Mode().IsRegular():
		return lockedapp.Source{}, fmt.Errorf("component %q: source %q is not a regular file", id, p)
	}
	digest, err := fileDigest(abs)
	if err != nil {
		return lockedapp.Source{}, fmt.Errorf("component %q: source %q: %w", id, p, err)
	}
	return lockedapp.Source{Path: abs, Digest: digest}, nil
}

// remoteSource returns the cached copy of rawURL's content, downloading it
// on a cache miss. The cache is addressed by the manifest's digest, so a
// hit needs no network I/O; the cached file is still re-hashed, because a
// cache that was corrupted or tampered with must not be trusted blindly.
func (l *loader) remoteSource(ctx context.Context, id, rawURL, digest string) (lockedapp.Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return lockedapp.Source{}, fmt.Errorf("component %q: source url %q is not an http(s) URL", id, rawURL)
	}
	shown := u.Redacted() // never echo credentials embedded in the URL
	want, err := parseDigest(digest)
	if err != nil {
		return lockedapp.Source{}, fmt.Errorf("component %q: source url %s: %w", id, shown, err)
	}

	dir, err := l.downloadDir()
	if err != nil {
		return lockedapp.Source{}, fmt.Errorf("component %q: %w", id, err)
	}
	dir = filepath.Join(dir, "sha256")
	dest := filepath.Join(dir, want)
	src := lockedapp.Source{Path: dest, Digest: digestPrefix + want}

	if got, err := fileDigest(dest); err == nil {
		if got == src.Digest {
			return src, nil
		}
		// Corrupt entry: drop it and download again.
		if err := os.Remove(dest); err != nil {
			return lockedapp.Source{}, fmt.Errorf("component %q: removing corrupt cache entry %s: %w", id, dest, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return lockedapp.Source{}, fmt.Errorf("component %q: reading cache entry %s: %w", id, dest, err)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return lockedapp.Source{}, fmt.Errorf("component %q: creating download cache: %w", id, err)
	}
	got, err := l.download(ctx, rawURL, dir, dest)
	if err != nil {
		return lockedapp.Source{}, fmt.Errorf("component %q: downloading %s: %w", id, shown, err)
	}
	if got != want {
		return lockedapp.Source{}, fmt.Errorf("component %q: digest mismatch for %s: expected %s%s, got %s%s: fix the digest in the manifest, or check the URL", id, shown, digestPrefix, want, digestPrefix, got)
	}
	return src, nil
}

// download fetches rawURL into dest, atomically: the body goes to a
// temporary file in the same directory, renamed into place only when its
// hash equals dest's name. Otherwise nothing is left behind, and the hex
// digest that was actually received is returned for the error message.
func (l *loader) download(ctx context.Context, rawURL, dir, dest string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := l.httpClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is already named by the caller, redacted
		}
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}

	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), resp.Body); err != nil {
		return "", fmt.Errorf("reading response: %w", err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != filepath.Base(dest) {
		return got, nil
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", err
	}
	committed = true
	return got, nil
}

// parseDigest checks a "sha256:<64 hex>" digest and returns its hex part,
// lower-cased so that it can name the cache file.
func parseDigest(d string) (string, error) {
	hexPart, ok := strings.CutPrefix(d, digestPrefix)
	if d == "" {
		return "", errors.New("digest is required with url: add digest = \"sha256:<hex>\"")
	}
	hexPart = strings.ToLower(hexPart)
	if b, err := hex.DecodeString(hexPart); !ok || err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("digest %q is not of the form \"sha256:<64 hex digits>\"", d)
	}
	return hexPart, nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return digestPrefix + hex.EncodeToString(h.Sum(nil)), nil
}
