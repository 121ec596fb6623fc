package oci

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// blobCache is the content-addressed store pulled content lives in:
// <dir>/blobs/sha256/<hex>. A file is only ever put there after its bytes
// hashed to its name, and a hit is re-hashed before use, so a corrupted or
// tampered cache is never trusted.
type blobCache struct{ dir string }

// parseDigest accepts only sha256 digests: Spin's format uses nothing else,
// and the cache is named by them.
func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", s, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("digest %q: only sha256 is supported", s)
	}
	return d, nil
}

func (c blobCache) path(d digest.Digest) string {
	return filepath.Join(c.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// verified reports whether the cache holds d with the right content. A
// corrupt entry is removed so that it is fetched again.
func (c blobCache) verified(d digest.Digest) (bool, error) {
	p := c.path(d)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	if digest.NewDigest(digest.SHA256, h) == d {
		return true, nil
	}
	if err := os.Remove(p); err != nil {
		return false, fmt.Errorf("removing corrupt cache entry %s: %w", p, err)
	}
	return false, nil
}

// write stores exactly desc.Size bytes from r under desc.Digest, failing
// (and storing nothing) unless they hash to it.
func (c blobCache) write(desc ocispec.Descriptor, r io.Reader) error {
	if desc.Size < 0 {
		return fmt.Errorf("%s: negative size", desc.Digest)
	}
	vr := content.NewVerifyReader(r, desc)
	return c.commit(desc.Digest, func(w io.Writer) error {
		if _, err := io.Copy(w, vr); err != nil {
			return err
		}
		return vr.Verify()
	})
}

// writeBytes stores data under its own digest.
func (c blobCache) writeBytes(data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if ok, err := c.verified(d); err != nil || ok {
		return d, err
	}
	return d, c.commit(d, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeStream stores what r yields under the digest it hashes to, reading
// at most limit bytes.
func (c blobCache) writeStream(r io.Reader, limit int64) (digest.Digest, int64, error) {
	dir := filepath.Join(c.dir, "blobs", "sha256")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(dir, ".incoming-*")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", n, err
	}
	if n > limit {
		return "", n, fmt.Errorf("more than %d bytes", limit)
	}
	d := digest.NewDigest(digest.SHA256, h)
	return d, n, os.Rename(tmp.Name(), c.path(d))
}

// commit writes through fill into a temporary file in the cache and renames
// it into place only if fill succeeds, so readers never see partial files.
func (c blobCache) commit(d digest.Digest, fill func(io.Writer) error) error {
	dest := c.path(d)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".incoming-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = fill(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}
