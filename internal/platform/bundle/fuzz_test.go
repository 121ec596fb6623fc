package bundle_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/platform/bundle"
)

// memBlobs is an in-memory BlobStore that verifies digests as the
// platform's store does, so that the fuzzer spends its time in Read.
type memBlobs map[string][]byte

func (m memBlobs) Put(digest string, r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if sum(data) != digest {
		return fmt.Errorf("%w: got %s", bundle.ErrDigestMismatch, sum(data))
	}
	m[digest] = data
	return nil
}

// FuzzRead feeds arbitrary uploads to Read. A bundle it accepts must be
// one whose every path names a stored blob with the right content; any
// other upload must be rejected as ErrInvalid (the store here never fails
// on its own), never with a panic.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	if err := bundle.Write(&good, testApp(f), map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()/2])
	// The uploads TestReadRejects crafts.
	content := "wasm bytes"
	blob := "blobs/sha256/" + sum([]byte(content))
	manifest := func(path, digest string) string {
		return `{"wisp_bundle_version":1,"app":{"wisp_lock_version":1,"metadata":{"name":"x"},"triggers":[],"components":[{"id":"a","source":{"path":"` + path + `","digest":"` + digest + `"},"files":[{"source":"` + path + `","destination":"/f"}]}]}}`
	}
	for _, data := range [][]byte{
		[]byte("plain"),
		tarball(f, [2]string{blob, content}, [2]string{"bundle.json", manifest(blob, "sha256:"+sum([]byte(content)))}),
		tarball(f, [2]string{blob, content}),
		tarball(f, [2]string{"../../etc/passwd", "x"}),
		tarball(f, [2]string{"blobs/sha256/" + strings.Repeat("0", 64), content}),
		tarball(f, [2]string{"bundle.json", manifest("/etc/passwd", "sha256:00")}),
		tarball(f, [2]string{blob, content}, [2]string{"bundle.json", manifest(blob, "sha256:"+strings.Repeat("1", 64))}),
		tarball(f, [2]string{"bundle.json", `{"wisp_bundle_version":1,"extra":1}`}),
		tarball(f, [2]string{blob, strings.Repeat("x", 32<<10)}),
		tarball(f, [2]string{"bundle.json", "{}"}, [2]string{"bundle.json", "{}"}),
	} {
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		store := memBlobs{}
		m, raw, err := bundle.Read(bytes.NewReader(data), store, bundle.Limits{MaxBytes: 1 << 20, MaxEntries: 64})
		if err != nil {
			if !errors.Is(err, bundle.ErrInvalid) {
				t.Fatalf("rejected without ErrInvalid: %v", err)
			}
			return
		}
		if m.Version != bundle.Version || len(raw) == 0 {
			t.Fatalf("accepted version %d with %d manifest bytes", m.Version, len(raw))
		}
		stored := func(name string) []byte {
			hexDigest, ok := strings.CutPrefix(name, "blobs/sha256/")
			data, in := store[hexDigest]
			if !ok || !in {
				t.Fatalf("accepted %q, which is not a stored blob", name)
			}
			return data
		}
		for _, c := range m.App.Components {
			if got := "sha256:" + sum(stored(c.Source.Path)); got != c.Source.Digest {
				t.Fatalf("component %q: source digest %s, blob has %s", c.ID, c.Source.Digest, got)
			}
			for _, fl := range c.Files {
				stored(fl.Source)
			}
		}
		// Resolved paths stay in the blob directory.
		dir := t.TempDir()
		for _, c := range m.Resolve(dir).Components {
			paths := []string{c.Source.Path}
			for _, fl := range c.Files {
				paths = append(paths, fl.Source)
			}
			for _, p := range paths {
				if filepath.Dir(filepath.Dir(p)) != dir {
					t.Fatalf("resolved %q outside %s", p, dir)
				}
			}
		}
	})
}
