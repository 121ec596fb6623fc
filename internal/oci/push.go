package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// PushOptions configure Push.
type PushOptions struct {
	// Annotations are added to the manifest; they override the ones inferred
	// from the app (title, description, version, authors, created).
	Annotations map[string]string
	// ArchiveLayers puts each component's files into one archive layer even
	// when the layer count would not need it (Spin's SPIN_OCI_ARCHIVE_LAYERS).
	ArchiveLayers bool
}

// PushResult describes a push.
type PushResult struct {
	// Reference is what was pushed, e.g. "localhost:5000/app:v1".
	Reference string
	// Digest is the manifest's digest.
	Digest string
	// Manifest is the pushed manifest.
	Manifest ocispec.Manifest
	// Uploaded and Reused count blobs (layers and config) that were sent
	// and that the registry already had.
	Uploaded, Reused int
}

// blob is one piece of content to push: a file on disk or bytes.
type blob struct {
	desc ocispec.Descriptor
	path string
	data []byte
}

func (b blob) open() (io.ReadCloser, error) {
	if b.path == "" {
		return io.NopCloser(bytes.NewReader(b.data)), nil
	}
	return os.Open(b.path)
}

// Push uploads app, as Spin's artifact, to ref (which must name a tag).
// Blobs the registry already has are not uploaded again.
func Push(ctx context.Context, app *lockedapp.LockedApp, ref string, opts Options, popts PushOptions) (*PushResult, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if _, err := r.Digest(); err == nil {
		return nil, fmt.Errorf("push %s: push to a tag, not a digest", r)
	}
	art, err := assemble(app, popts)
	if err != nil {
		return nil, err
	}

	repo, err := opts.repository(r)
	if err != nil {
		return nil, err
	}
	var uploaded, reused atomic.Int32
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, b := range append(art.layers, art.config) {
		g.Go(func() error {
			ok, err := repo.Exists(gctx, b.desc)
			if err != nil {
				return fmt.Errorf("push %s: checking blob %s: %w", r, b.desc.Digest, err)
			}
			if ok {
				reused.Add(1)
				return nil
			}
			rc, err := b.open()
			if err != nil {
				return err
			}
			defer rc.Close()
			if err := repo.Push(gctx, b.desc, rc); err != nil {
				return fmt.Errorf("push %s: uploading blob %s (%s): %w", r, b.desc.Digest, b.desc.MediaType, err)
			}
			uploaded.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	manifest := art.manifest(annotations(app, popts.Annotations))
	mb, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	mdesc := ocispec.Descriptor{MediaType: MediaTypeManifest, Digest: digest.FromBytes(mb), Size: int64(len(mb))}
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(mb), r.Reference); err != nil {
		return nil, fmt.Errorf("push %s: manifest: %w", r, err)
	}
	return &PushResult{
		Reference: r.String(),
		Digest:    mdesc.Digest.String(),
		Manifest:  manifest,
		Uploaded:  int(uploaded.Load()),
		Reused:    int(reused.Load()),
	}, nil
}

// artifact is an app laid out as blobs.
type artifact struct {
	layers []blob // in manifest order, locked app last
	config blob
	locked *spinApp
}

// manifest is the image manifest listing art's blobs.
func (art *artifact) manifest(annotations map[string]string) ocispec.Manifest {
	m := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   MediaTypeManifest,
		Config:      art.config.desc,
		Layers:      make([]ocispec.Descriptor, 0, len(art.layers)),
		Annotations: annotations,
	}
	for _, l := range art.layers {
		m.Layers = append(m.Layers, l.desc)
	}
	return m
}

// assemble lays app out as Spin does (client.rs assemble_layers): per
// component its Wasm layer, then a layer per file (or one archive layer),
// duplicates dropped keeping the first, the locked app last.
func assemble(app *lockedapp.LockedApp, popts PushOptions) (*artifact, error) {
	archive := popts.ArchiveLayers
	art, err := assembleLayers(app, archive)
	if err != nil {
		return nil, err
	}
	if !archive && len(art.layers) > maxLayers-1 {
		if art, err = assembleLayers(app, true); err != nil {
			return nil, err
		}
	}

	lockedJSON, err := json.Marshal(art.locked)
	if err != nil {
		return nil, fmt.Errorf("encoding locked app: %w", err)
	}
	lockedBlob := bytesBlob(MediaTypeLockedApp, lockedJSON)
	art.layers = append(art.layers, lockedBlob)

	cfg, err := json.Marshal(imageConfig{
		Architecture: "wasm",
		OS:           "Wasip1",
		Config:       &imageConfigConfig{Labels: map[string]string{LabelLockedAppDigest: lockedBlob.desc.Digest.String()}},
		RootFS:       imageRootFS{Type: "layers", DiffIDs: []string{}},
	})
	if err != nil {
		return nil, err
	}
	art.config = bytesBlob(MediaTypeImageConfig, cfg)
	return art, nil
}

func assembleLayers(app *lockedapp.LockedApp, archive bool) (*artifact, error) {
	locked, err := toSpinApp(app)
	if err != nil {
		return nil, err
	}
	art := &artifact{locked: locked}
	seen := map[string]bool{}
	add := func(b blob) {
		key := b.desc.MediaType + " " + b.desc.Digest.String()
		if !seen[key] {
			seen[key] = true
			art.layers = append(art.layers, b)
		}
	}

	for i, c := range app.Components {
		sc := &locked.Components[i]
		if err := checkWasm(c.Source.Path); err != nil {
			return nil, fmt.Errorf("component %q: source %s: %w", c.ID, c.Source.Path, err)
		}
		wasm, err := fileBlob(MediaTypeWasm, c.Source.Path)
		if err != nil {
			return nil, fmt.Errorf("component %q: source: %w", c.ID, err)
		}
		if c.Source.Digest != "" && c.Source.Digest != wasm.desc.Digest.String() {
			return nil, fmt.Errorf("component %q: source %s changed since the app was loaded: load it again", c.ID, c.Source.Path)
		}
		if sc.Source.spinContentRef, err = contentRef(wasm); err != nil {
			return nil, fmt.Errorf("component %q: source: %w", c.ID, err)
		}
		add(wasm) // Wasm is always a layer, even when small enough to inline.

		var archived []archiveEntry
		for _, f := range c.Files {
			fb, err := fileBlob(MediaTypeData, f.Source)
			if err != nil {
				return nil, fmt.Errorf("component %q: file %s: %w", c.ID, f.Destination, err)
			}
			ref, err := contentRef(fb)
			if err != nil {
				return nil, fmt.Errorf("component %q: file %s: %w", c.ID, f.Destination, err)
			}
			rel := strings.TrimPrefix(f.Destination, "/")
			sc.Files = append(sc.Files, spinContentPath{spinContentRef: ref, Path: rel})
			switch {
			case archive:
				archived = append(archived, archiveEntry{name: rel, path: f.Source})
			case ref.Inline == nil:
				add(fb)
			}
		}
		if len(archived) > 0 {
			ab, err := archiveBlob(archived)
			if err != nil {
				return nil, fmt.Errorf("component %q: archiving files: %w", c.ID, err)
			}
			add(ab)
		}
	}
	return art, nil
}

// contentRef is the locked app's reference to b: its digest, and the bytes
// themselves when they are small (Spin's content_ref_for_layer).
func contentRef(b blob) (spinContentRef, error) {
	ref := spinContentRef{Digest: b.desc.Digest.String()}
	if b.desc.Size > inlineMaxSize {
		return ref, nil
	}
	data := b.data
	if b.path != "" {
		var err error
		if data, err = os.ReadFile(b.path); err != nil {
			return ref, err
		}
		if digest.FromBytes(data) != b.desc.Digest {
			return ref, errors.New("file changed while being pushed")
		}
	}
	inline := inlineData(data)
	ref.Inline = &inline
	return ref, nil
}

func fileBlob(mediaType, path string) (blob, error) {
	f, err := os.Open(path)
	if err != nil {
		return blob{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return blob{}, err
	}
	return blob{
		desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.NewDigest(digest.SHA256, h), Size: n},
		path: path,
	}, nil
}

func bytesBlob(mediaType string, data []byte) blob {
	return blob{
		desc: ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))},
		data: data,
	}
}

// imageConfig is the OCI image config Spin writes (oci-client's ConfigFile
// with architecture wasm, os "Wasip1", a label, and an empty rootfs).
type imageConfig struct {
	Architecture string             `json:"architecture"`
	OS           string             `json:"os"`
	Config       *imageConfigConfig `json:"config,omitempty"`
	RootFS       imageRootFS        `json:"rootfs"`
}

type imageConfigConfig struct {
	Labels map[string]string `json:"Labels,omitempty"`
}

type imageRootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// annotations are Spin's all_annotations: inferred title, description,
// version, authors and created, overridden by explicit ones.
func annotations(app *lockedapp.LockedApp, explicit map[string]string) map[string]string {
	a := map[string]string{}
	md := app.Metadata
	if len(md.Authors) > 0 {
		a[ocispec.AnnotationAuthors] = strings.Join(md.Authors, ", ")
	}
	if md.Name != "" {
		a[ocispec.AnnotationTitle] = md.Name
	}
	if md.Description != "" {
		a[ocispec.AnnotationDescription] = md.Description
	}
	if md.Version != "" {
		a[ocispec.AnnotationVersion] = md.Version
	}
	a[ocispec.AnnotationCreated] = time.Now().UTC().Format(time.RFC3339)
	maps.Copy(a, explicit)
	return a
}

// checkWasm refuses a source that is not a Wasm binary, as Spin's push
// does (validate.rs), so that a broken artifact is never published.
func checkWasm(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || string(magic[:]) != "\x00asm" {
		return errors.New("not a WebAssembly binary (build the component first)")
	}
	return nil
}
