package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/platform/bundle"
	"github.com/wisp-dev/wisp/internal/platform/store"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// blobs adapts the platform's store as the platform does.
type blobs struct{ s *store.Store }

func (b blobs) Put(digest string, r io.Reader) error {
	err := b.s.PutBlob(digest, r)
	if errors.Is(err, store.ErrDigestMismatch) {
		return fmt.Errorf("%w: %v", bundle.ErrDigestMismatch, err)
	}
	return err
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func testApp(t testing.TB) *lockedapp.LockedApp {
	dir := t.TempDir()
	wasm := []byte("\x00asm\x01\x00\x00\x00")
	os.WriteFile(filepath.Join(dir, "a.wasm"), wasm, 0o644)
	os.WriteFile(filepath.Join(dir, "f.txt"), []byte("file"), 0o644)
	return &lockedapp.LockedApp{
		Version:  lockedapp.Version,
		Metadata: lockedapp.Metadata{Name: "t", Origin: "file://" + dir},
		Components: []lockedapp.Component{{
			ID:     "a",
			Source: lockedapp.Source{Path: filepath.Join(dir, "a.wasm"), Digest: "sha256:" + sum(wasm)},
			Files:  []lockedapp.File{{Source: filepath.Join(dir, "f.txt"), Destination: "/f.txt"}},
		}},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := bundle.Write(&buf, testApp(t), map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, raw, err := bundle.Read(&buf, blobs{st}, bundle.Limits{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if m.Variables["k"] != "v" || m.App.Metadata.Origin != "" || len(raw) == 0 {
		t.Errorf("manifest %+v", m)
	}
	app := m.Resolve(st.BlobDir())
	data, err := os.ReadFile(app.Components[0].Files[0].Source)
	if err != nil || string(data) != "file" {
		t.Errorf("resolved file: %q %v", data, err)
	}
	if _, err := os.ReadFile(app.Components[0].Source.Path); err != nil {
		t.Error(err)
	}
}

func tarball(t testing.TB, entries ...[2]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg})
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func TestReadRejects(t *testing.T) {
	content := "wasm bytes"
	good := "blobs/sha256/" + sum([]byte(content))
	manifest := func(path, digest string) string {
		return `{"wisp_bundle_version":1,"app":{"wisp_lock_version":1,"metadata":{"name":"x"},"triggers":[],"components":[{"id":"a","source":{"path":"` + path + `","digest":"` + digest + `"}}]}}`
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"not gzip":          {[]byte("plain"), "not gzip"},
		"no manifest":       {tarball(t, [2]string{good, content}), "no bundle.json"},
		"path traversal":    {tarball(t, [2]string{"../../etc/passwd", "x"}), "unexpected entry"},
		"wrong digest":      {tarball(t, [2]string{"blobs/sha256/" + strings.Repeat("0", 64), content}), "sha256"},
		"source not in it":  {tarball(t, [2]string{"bundle.json", manifest(good, "sha256:"+sum([]byte(content)))}), "not a blob of this bundle"},
		"source is a path":  {tarball(t, [2]string{"bundle.json", manifest("/etc/passwd", "sha256:00")}), "not a blob of this bundle"},
		"digest mismatch":   {tarball(t, [2]string{good, content}, [2]string{"bundle.json", manifest(good, "sha256:"+strings.Repeat("1", 64))}), "does not match"},
		"unknown field":     {tarball(t, [2]string{"bundle.json", `{"wisp_bundle_version":1,"extra":1}`}), "unknown field"},
		"too large":         {tarball(t, [2]string{good, strings.Repeat("x", 32<<10)}), "larger than"},
		"duplicate entries": {tarball(t, [2]string{"bundle.json", "{}"}, [2]string{"bundle.json", "{}"}), "unexpected entry"},
	} {
		t.Run(name, func(t *testing.T) {
			st, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = bundle.Read(bytes.NewReader(tc.data), blobs{st}, bundle.Limits{MaxBytes: 16 << 10})
			if !errors.Is(err, bundle.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
