package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fuzz targets for everything Pull decodes from a registry: the manifest
// and image config (FuzzManifest), the locked app (FuzzLockedApp) and
// archive layers (FuzzUnpackArchive). Each is seeded with the artifact the
// push tests build and with the malformed inputs the other tests craft.
// A crash found by `go test -fuzz` lands in testdata/fuzz/<Target>/ and is
// replayed by every plain `go test` run.

// seedArtifact assembles the push tests' app (testApp) as Pull would
// receive it.
func seedArtifact(f *testing.F) (*artifact, ocispec.Manifest) {
	app, _ := testApp(f)
	art, err := assemble(app, PushOptions{ArchiveLayers: true})
	if err != nil {
		f.Fatal(err)
	}
	return art, art.manifest(annotations(app, nil))
}

func mustJSON(f *testing.F, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzManifest(f *testing.F) {
	art, m := seedArtifact(f)
	if _, err := decodeManifest(MediaTypeManifest, mustJSON(f, m)); err != nil {
		f.Fatalf("the pushed manifest does not read back: %v", err)
	}
	f.Add(mustJSON(f, m))
	f.Add(art.config.data)

	bad := func(mutate func(m *ocispec.Manifest)) {
		c := m
		c.Layers = append([]ocispec.Descriptor(nil), m.Layers...)
		mutate(&c)
		f.Add(mustJSON(f, c))
	}
	bad(func(m *ocispec.Manifest) { m.SchemaVersion = 1 })
	bad(func(m *ocispec.Manifest) { m.Layers[0].Digest = "sha512:" + digest.Digest(strings.Repeat("ab", 64)) })
	bad(func(m *ocispec.Manifest) { m.Layers[0].Size = -1 })
	bad(func(m *ocispec.Manifest) { m.Layers = m.Layers[:len(m.Layers)-1] }) // no locked app
	// Two locked apps: the config and a layer with different digests.
	bad(func(m *ocispec.Manifest) {
		m.Config.MediaType, m.Config.Digest = MediaTypeLockedApp, m.Layers[0].Digest
	})
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	f.Add([]byte(`{"config":{"Labels":{"` + LabelLockedAppDigest + `":"sha256:00"}}}`))
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:x"},"layers":null}`))

	locked := digest.FromString("locked app")
	f.Fuzz(func(t *testing.T, data []byte) {
		// An image config may be any JSON; only its label is checked.
		_ = decodeImageConfig(data, locked)

		m, err := decodeManifest(MediaTypeManifest, data)
		if err != nil {
			return
		}
		if m.SchemaVersion != 2 {
			t.Fatalf("accepted schema version %d", m.SchemaVersion)
		}
		for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			if d.Digest.Algorithm() != digest.SHA256 || d.Digest.Validate() != nil || d.Size < 0 {
				t.Fatalf("accepted descriptor %+v", d)
			}
		}
		l, err := lockedAppLayer(&m)
		if err == nil && l.MediaType != MediaTypeLockedApp {
			t.Fatalf("locked app layer has media type %q", l.MediaType)
		}
	})
}

func FuzzLockedApp(f *testing.F) {
	art, _ := seedArtifact(f)
	locked := art.layers[len(art.layers)-1].data
	f.Add(locked)
	// The locked apps TestFromSpinApp and TestFromSpinAppRejectsUnsafeNames
	// read, in shape.
	for _, s := range []string{
		`{"spin_lock_version":0,"metadata":{"name":"x","authors":[],"triggers":{"http":{}}},"triggers":[` +
			`{"id":"t1","trigger_type":"http","trigger_config":{"route":"/...","component":"web","executor":{"type":"http"}}},` +
			`{"id":"t2","trigger_type":"redis","trigger_config":{"channel":"ch","component":"web"}},` +
			`{"id":"t3","trigger_type":"http","trigger_config":{"route":"/s","static_response":{"status_code":418,"headers":{"a":"b"},"body":"x"}}}],` +
			`"components":[{"id":"web","metadata":{"allowed_outbound_hosts":["https://x.example"],"key_value_stores":["default"]},` +
			`"source":{"content_type":"application/wasm","inline":"AGFzbQEAAAA"},"files":[{"path":"static/index.html","inline":"aGk="}]}]}`,
		`{"spin_lock_version":1,"triggers":[],"components":[{"id":"c","source":{"inline":"AGFzbQ"},"files":[{"path":"../../etc/passwd","inline":"eA"}]}]}`,
		`{"spin_lock_version":1,"triggers":[],"components":[{"id":"c","source":{"inline":"AGFzbQ"},"files":[{"path":"a","inline":"eA"},{"path":"a/b","inline":"eA"}]}]}`,
		`{"spin_lock_version":1,"triggers":[],"components":[{"id":"c","source":{"inline":"AGFzbQ"},"files":[{"path":"x","source":"file:///etc/passwd"}]}]}`,
		`{"spin_lock_version":1,"triggers":[],"components":[{"id":"c","source":{"digest":"sha512:` + strings.Repeat("ab", 64) + `"}}]}`,
		`{"triggers":[],"components":[{"id":"../../logs/x","source":{"inline":"AGFzbQ"}}]}`,
		`{"variables":{"../x":{"default":"1"}},"triggers":[],"components":[]}`,
		`{"triggers":[{"id":"a/b","trigger_type":"http","trigger_config":{"route":"/","component":"c"}}],"components":[]}`,
		`{"host_requirements":{"teleport":"required"},"triggers":[],"components":[]}`,
	} {
		f.Add([]byte(s))
	}

	// The cache holds the artifact's layers, as after Pull fetched them.
	cache := blobCache{dir: f.TempDir()}
	available := map[digest.Digest]bool{}
	for _, b := range art.layers {
		data := b.data
		if b.path != "" {
			var err error
			if data, err = os.ReadFile(b.path); err != nil {
				f.Fatal(err)
			}
		}
		d, err := cache.writeBytes(data)
		if err != nil {
			f.Fatal(err)
		}
		available[d] = true
		if b.desc.MediaType == MediaTypeArchive {
			ds, err := unpackArchive(cache, cache.path(d))
			if err != nil {
				f.Fatal(err)
			}
			for _, d := range ds {
				available[d] = true
			}
		}
	}
	resolve := func(what string, ref spinContentRef) (string, string, error) {
		return resolveContent(cache, available, what, ref)
	}
	inCache := func(t *testing.T, p string) {
		rel, err := filepath.Rel(cache.dir, p)
		if err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("content path %q is outside the cache", p)
		}
	}

	if _, err := decodeLockedApp(locked, resolve); err != nil {
		f.Fatalf("the pushed locked app does not read back: %v", err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := decodeLockedApp(data, resolve)
		if err != nil {
			return
		}
		for name := range app.Variables {
			if !lowerSnake.MatchString(name) {
				t.Fatalf("accepted variable name %q", name)
			}
		}
		for _, c := range app.Components {
			if !kebabID.MatchString(c.ID) {
				t.Fatalf("accepted component id %q", c.ID)
			}
			inCache(t, c.Source.Path)
			if d := digest.Digest(c.Source.Digest); d.Validate() != nil || cache.path(d) != c.Source.Path {
				t.Fatalf("component %q: source %q does not match digest %q", c.ID, c.Source.Path, c.Source.Digest)
			}
			for _, fl := range c.Files {
				inCache(t, fl.Source)
				d := fl.Destination
				if !strings.HasPrefix(d, "/") || path.Clean(d) != d || d == "/" || strings.ContainsRune(d, 0) {
					t.Fatalf("component %q: accepted file destination %q", c.ID, d)
				}
			}
		}
		for _, tr := range app.Triggers {
			if tr.Component != "" && app.Component(tr.Component) == nil {
				t.Fatalf("trigger %q names missing component %q", tr.ID, tr.Component)
			}
		}
		// Converting back must not panic either (an error is fine).
		_, _ = toSpinApp(app)
	})
}

// tarGz builds a gzipped tar of the given headers, each with body as its
// content when it is a regular file.
func tarGz(t testing.TB, entries ...tar.Header) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range entries {
		body := []byte(strings.Repeat("x", int(h.Size)))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzUnpackArchive(f *testing.F) {
	art, _ := seedArtifact(f)
	for _, b := range art.layers {
		if b.desc.MediaType == MediaTypeArchive {
			f.Add(b.data)
		}
	}
	good := tarGz(f,
		tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "dir/a.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
		tar.Header{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
	)
	f.Add(good)
	f.Add(good[:len(good)/2]) // truncated
	f.Add([]byte("not gzip"))
	f.Add(tarGz(f))

	root := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir, err := os.MkdirTemp(root, "")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		cache := blobCache{dir: dir}
		ds, err := unpackArchiveFrom(cache, bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, d := range ds {
			if ok, err := cache.verified(d); !ok || err != nil {
				t.Fatalf("unpacked %s is not in the cache: %v", d, err)
			}
		}
		// Nothing lands anywhere but the cache's blob directory.
		blobs := filepath.Join(dir, "blobs", "sha256")
		err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if filepath.Dir(p) != blobs || strings.HasPrefix(e.Name(), ".incoming-") {
				t.Errorf("unpack left %s", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
