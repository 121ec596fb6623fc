package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Archive layers (MediaTypeArchive) carry all files of one component as a
// gzipped tar, for apps with more files than a manifest may have layers.
// The locked app still lists every file by digest; the archive only
// transports the bytes, so its paths are never used to place anything.

// Limits on what one archive layer may unpack to: a small compressed layer
// must not fill the disk.
const (
	maxArchiveBytes   = 4 << 30
	maxArchiveEntries = 1 << 20
)

type archiveEntry struct {
	name string // slash path relative to the component's root
	path string // host file
}

// archiveBlob builds a reproducible archive (sorted entries, fixed times
// and owners), so that pushing an unchanged app reuses the layer.
func archiveBlob(entries []archiveEntry) (blob, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b archiveEntry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return blob{}, err
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     e.name,
			Mode:     0o644,
			Size:     int64(len(data)),
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return blob{}, err
		}
		if _, err := tw.Write(data); err != nil {
			return blob{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return blob{}, err
	}
	if err := zw.Close(); err != nil {
		return blob{}, err
	}
	return bytesBlob(MediaTypeArchive, buf.Bytes()), nil
}

// unpackArchive stores every regular file of the verified archive at path
// in the cache under its own digest and returns those digests.
func unpackArchive(c blobCache, path string) ([]digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return unpackArchiveFrom(c, f)
}

// unpackArchiveFrom is unpackArchive of the archive r yields.
func unpackArchiveFrom(c blobCache, r io.Reader) ([]digest.Digest, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("archive layer: %w", err)
	}
	tr := tar.NewReader(zr)
	var out []digest.Digest
	budget := int64(maxArchiveBytes)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("archive layer: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue // directories, links: only file contents matter
		}
		if len(out) >= maxArchiveEntries {
			return nil, fmt.Errorf("archive layer: more than %d files", maxArchiveEntries)
		}
		d, n, err := c.writeStream(tr, budget)
		if err != nil {
			return nil, fmt.Errorf("archive layer: %s: %w", hdr.Name, err)
		}
		budget -= n
		out = append(out, d)
	}
}
