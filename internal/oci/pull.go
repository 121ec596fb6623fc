package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// Size limits for what a registry may send: metadata is read into memory,
// layers go to disk.
const (
	maxManifestBytes = 4 << 20
	maxMetadataBytes = 64 << 20
	maxLayerBytes    = 4 << 30
)

// Pulled is an application pulled from a registry.
type Pulled struct {
	// App is runnable: every source and file path points into the cache.
	App *lockedapp.LockedApp
	// Reference is what was pulled, e.g. "localhost:5000/app:v1".
	Reference string
	// Digest is the manifest's digest.
	Digest string
	// Manifest is the pulled manifest.
	Manifest ocispec.Manifest
	// Fetched and Cached count layers downloaded and found (re-verified)
	// in the cache.
	Fetched, Cached int
}

// Pull fetches ref into opts.CacheDir and rebuilds the application. Every
// blob is checked against its digest before it is used.
func Pull(ctx context.Context, ref string, opts Options) (*Pulled, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("pull: no cache directory")
	}
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	repo, err := opts.repository(r)
	if err != nil {
		return nil, err
	}
	cache := blobCache{dir: opts.CacheDir}

	mdesc, manifest, err := fetchManifest(ctx, repo, r)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", r, err)
	}
	p := &Pulled{Reference: r.String(), Digest: mdesc.Digest.String(), Manifest: manifest}

	lockedDesc, err := lockedAppLayer(&manifest)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", r, err)
	}
	lockedJSON, err := fetchSmall(ctx, repo, *lockedDesc)
	if err != nil {
		return nil, fmt.Errorf("pull %s: locked app: %w", r, err)
	}
	if manifest.Config.MediaType == MediaTypeImageConfig {
		if err := checkImageConfig(ctx, repo, manifest.Config, lockedDesc.Digest); err != nil {
			return nil, fmt.Errorf("pull %s: %w", r, err)
		}
	}

	// Fetch the content layers; "available" collects every digest verified
	// in this pull, and only those may be referenced by the locked app.
	var (
		mu        sync.Mutex
		available = map[digest.Digest]bool{}
		fetched   int
		cached    int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, l := range manifest.Layers {
		if l.MediaType == MediaTypeLockedApp {
			continue
		}
		// Every other layer (Wasm, data, archive, or a type Spin would
		// store as data) is fetched; the locked app refers to them by digest.
		g.Go(func() error {
			hit, err := fetchLayer(gctx, repo, cache, l)
			if err != nil {
				return err
			}
			var unpacked []digest.Digest
			if l.MediaType == MediaTypeArchive {
				if unpacked, err = unpackArchive(cache, cache.path(l.Digest)); err != nil {
					return fmt.Errorf("layer %s: %w", l.Digest, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if hit {
				cached++
			} else {
				fetched++
			}
			available[l.Digest] = true
			for _, d := range unpacked {
				available[d] = true
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("pull %s: %w", r, err)
	}
	p.Fetched, p.Cached = fetched, cached

	app, err := decodeLockedApp(lockedJSON, func(what string, ref spinContentRef) (string, string, error) {
		return resolveContent(cache, available, what, ref)
	})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", r, err)
	}
	app.Metadata.Origin = "oci://" + r.String()
	p.App = app
	return p, nil
}

// fetchManifest fetches and verifies the manifest (by the digest the
// registry announced, or the one in the reference).
func fetchManifest(ctx context.Context, repo *remote.Repository, r registry.Reference) (ocispec.Descriptor, ocispec.Manifest, error) {
	var m ocispec.Manifest
	desc, rc, err := repo.FetchReference(ctx, r.Reference)
	if err != nil {
		return desc, m, err
	}
	defer rc.Close()
	if desc.Size > maxManifestBytes {
		return desc, m, fmt.Errorf("manifest is %d bytes, more than the %d allowed", desc.Size, maxManifestBytes)
	}
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		return desc, m, fmt.Errorf("manifest: %w", err)
	}
	m, err = decodeManifest(desc.MediaType, data)
	return desc, m, err
}

// decodeManifest decodes and checks a manifest of the given media type, as
// the registry sent it (verified against its digest, but otherwise
// untrusted).
func decodeManifest(mediaType string, data []byte) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	switch mediaType {
	case MediaTypeManifest, mediaTypeDockerManifest:
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		return m, fmt.Errorf("is an image index, not a Spin application")
	default:
		return m, fmt.Errorf("manifest media type %q is not an OCI image manifest", mediaType)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if m.SchemaVersion != 2 {
		return m, fmt.Errorf("manifest schema version %d is not 2", m.SchemaVersion)
	}
	for _, d := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		if _, err := parseDigest(d.Digest.String()); err != nil {
			return m, fmt.Errorf("manifest: %w", err)
		}
		if d.Size < 0 {
			return m, fmt.Errorf("manifest: blob %s has a negative size", d.Digest)
		}
	}
	return m, nil
}

// lockedAppLayer returns the manifest's locked-app descriptor: the config
// in artifacts pushed by older Spin versions, a layer since (Spin reads
// both).
func lockedAppLayer(m *ocispec.Manifest) (*ocispec.Descriptor, error) {
	var locked *ocispec.Descriptor
	if m.Config.MediaType == MediaTypeLockedApp {
		locked = &m.Config
	}
	for i := range m.Layers {
		if m.Layers[i].MediaType == MediaTypeLockedApp {
			if locked != nil && locked.Digest != m.Layers[i].Digest {
				return nil, errors.New("the artifact has more than one locked app")
			}
			locked = &m.Layers[i]
		}
	}
	if locked == nil {
		return nil, fmt.Errorf("not a Spin application: no %s layer", MediaTypeLockedApp)
	}
	return locked, nil
}

// fetchSmall reads a verified metadata blob into memory.
func fetchSmall(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size > maxMetadataBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", desc.Digest, desc.Size, maxMetadataBytes)
	}
	rc, err := repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	return data, nil
}

// checkImageConfig checks that the image config's label names the locked
// app layer when it names one (Spin writes it; others may not).
func checkImageConfig(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, locked digest.Digest) error {
	data, err := fetchSmall(ctx, repo, desc)
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	return decodeImageConfig(data, locked)
}

// decodeImageConfig checks an image config's locked-app label against the
// locked app layer's digest.
func decodeImageConfig(data []byte, locked digest.Digest) error {
	var cfg struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("image config is not valid JSON: %w", err)
	}
	if l, ok := cfg.Config.Labels[LabelLockedAppDigest]; ok && l != locked.String() {
		return fmt.Errorf("image config label %s is %s, but the locked app layer is %s", LabelLockedAppDigest, l, locked)
	}
	return nil
}

// fetchLayer makes sure the cache holds the verified layer, downloading it
// unless a verified copy is already there; hit reports the latter.
func fetchLayer(ctx context.Context, repo *remote.Repository, cache blobCache, l ocispec.Descriptor) (hit bool, err error) {
	if l.Size > maxLayerBytes {
		return false, fmt.Errorf("layer %s is %d bytes, more than the %d allowed", l.Digest, l.Size, int64(maxLayerBytes))
	}
	ok, err := cache.verified(l.Digest)
	if err != nil || ok {
		return ok, err
	}
	rc, err := repo.Fetch(ctx, l)
	if err != nil {
		return false, fmt.Errorf("layer %s: %w", l.Digest, err)
	}
	defer rc.Close()
	if err := cache.write(l, rc); err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) {
			return false, fmt.Errorf("layer %s (%s): the registry sent content that does not match its digest: %w", l.Digest, l.MediaType, err)
		}
		return false, fmt.Errorf("layer %s (%s): %w", l.Digest, l.MediaType, err)
	}
	return false, nil
}

// resolveContent maps a content reference of the locked app to a verified
// cache file: inline bytes are hashed (and checked against the digest if
// one is given) and stored; a digest must be one verified in this pull.
func resolveContent(cache blobCache, available map[digest.Digest]bool, what string, ref spinContentRef) (string, string, error) {
	if ref.Inline != nil {
		d, err := cache.writeBytes(*ref.Inline)
		if err != nil {
			return "", "", fmt.Errorf("%s: storing inline content: %w", what, err)
		}
		if ref.Digest != "" && ref.Digest != d.String() {
			return "", "", fmt.Errorf("%s: inline content has digest %s, not the %s it claims", what, d, ref.Digest)
		}
		return cache.path(d), d.String(), nil
	}
	if ref.Digest == "" {
		if ref.Source != "" {
			return "", "", fmt.Errorf("%s: refers to %q outside the artifact", what, ref.Source)
		}
		return "", "", fmt.Errorf("%s: neither a digest nor inline content", what)
	}
	d, err := parseDigest(ref.Digest)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", what, err)
	}
	if !available[d] {
		return "", "", fmt.Errorf("%s: content %s is not among the artifact's layers", what, d)
	}
	p := cache.path(d)
	if _, err := os.Stat(p); err != nil {
		return "", "", fmt.Errorf("%s: %w", what, err)
	}
	return p, d.String(), nil
}

// decodeLockedApp decodes a pulled Spin locked app and converts it to
// Wisp's form (fromSpinApp).
func decodeLockedApp(data []byte, resolve contentResolver) (*lockedapp.LockedApp, error) {
	var locked spinApp
	if err := json.Unmarshal(data, &locked); err != nil {
		return nil, fmt.Errorf("locked app is not valid JSON: %w", err)
	}
	return fromSpinApp(&locked, resolve)
}
