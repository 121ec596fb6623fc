// Package oci pushes Wisp applications to OCI registries and pulls them
// back, in Spin's artifact format (Spin's crates/oci), so that an app
// pushed by `wisp registry push` runs on `spin up -f <ref>` and the other
// way round.
//
// An artifact is an OCI image manifest whose layers are, in order: each
// component's Wasm binary (application/vnd.wasm.content.layer.v1+wasm),
// each of its files (application/vnd.wasm.content.layer.v1+data; files of
// at most 128 bytes travel inline in the locked app instead), identical
// layers once, and last the locked application itself
// (application/vnd.fermyon.spin.application.v1+config): Spin's LockedApp
// JSON with every source rewritten to a digest. The manifest's config is a
// minimal OCI image config (architecture wasm, os Wasip1) whose label
// com.fermyon.spin.lockedAppDigest names the locked-app layer. Apps with
// more layers than registries accept get one gzipped tar archive layer per
// component instead of one layer per file, as Spin does.
//
// Pulling verifies every byte against its digest before it enters the
// content-addressed cache (<CacheDir>/blobs/sha256/<hex>), re-verifies
// cache hits, and rebuilds a lockedapp.LockedApp whose paths all point
// into the cache.
package oci

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Media types of Spin's artifact format (crates/oci/src/client.rs).
const (
	// MediaTypeLockedApp is the locked-app layer (and, in artifacts pushed
	// by older Spin versions, the manifest config).
	MediaTypeLockedApp = "application/vnd.fermyon.spin.application.v1+config"
	// MediaTypeWasm is a component's Wasm binary.
	MediaTypeWasm = "application/vnd.wasm.content.layer.v1+wasm"
	// MediaTypeWasmWkg is a Wasm binary pushed by wkg; accepted on pull.
	MediaTypeWasmWkg = "application/wasm"
	// MediaTypeData is one file of a component.
	MediaTypeData = "application/vnd.wasm.content.layer.v1+data"
	// MediaTypeArchive is a gzipped tar of all files of one component.
	MediaTypeArchive = "application/vnd.wasm.content.bundle.v1.tar+gzip"
	// MediaTypeImageConfig is the manifest config's media type.
	MediaTypeImageConfig = "application/vnd.oci.image.config.v1+json"
	// MediaTypeManifest is the manifest's media type.
	MediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	// mediaTypeDockerManifest is accepted on pull (the same shape).
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

	// LabelLockedAppDigest is the image-config label naming the locked-app
	// layer, so that different apps never share an image config digest.
	LabelLockedAppDigest = "com.fermyon.spin.lockedAppDigest"
)

// Spin's limits.
const (
	// inlineMaxSize: content this small is also put inline in the locked
	// app; such files get no layer (some registries reject tiny blobs).
	inlineMaxSize = 128
	// maxLayers is the most layers one manifest may have (ECR's limit);
	// beyond it files go into archive layers.
	maxLayers = 500
)

// Options configure Push, Pull and Login.
type Options struct {
	// CacheDir is the content-addressed cache pulled content is stored in.
	// Required by Pull.
	CacheDir string
	// PlainHTTP talks HTTP instead of HTTPS (--insecure). Registries on a
	// loopback address always get plain HTTP, as Docker allows.
	PlainHTTP bool
	// Credentials supplies registry credentials. Default: Docker's store
	// ($DOCKER_CONFIG/config.json or ~/.docker/config.json, and the
	// credential helpers it names).
	Credentials credentials.Store
	// HTTPClient is the base client. Default: oras' retrying client.
	HTTPClient *http.Client
}

// ParseReference parses an OCI reference such as
// ghcr.io/user/app:v1, localhost:5000/app@sha256:... or registry/app
// (tag "latest", as Spin does).
func ParseReference(ref string) (registry.Reference, error) {
	ref = strings.TrimPrefix(ref, "oci://")
	r, err := registry.ParseReference(ref)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("%q is not an OCI reference (want <registry>/<repository>[:<tag>|@<digest>]): %w", ref, err)
	}
	if r.Reference == "" {
		r.Reference = "latest"
	}
	return r, nil
}

// LooksLikeReference tells an OCI reference from a file path that does not
// exist, as Spin's is_probably_oci_reference does: it must parse and its
// first segment must look like a registry host (a dot, a port, or
// "localhost"), so that "apps/demo/spin.toml" is not taken for one.
func LooksLikeReference(s string) bool {
	if strings.HasPrefix(s, "oci://") {
		return true
	}
	r, err := registry.ParseReference(s)
	if err != nil {
		return false
	}
	host := r.Registry
	return hostPattern.MatchString(host) && (strings.ContainsAny(host, ".:") || host == "localhost")
}

// hostPattern is a host name or IPv4 address with an optional port, or a
// bracketed IPv6 address with an optional port ("./x" and "../x" are paths).
var hostPattern = regexp.MustCompile(`^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]+)?$`)

// repository opens ref with credentials and the right scheme.
func (o Options) repository(ref registry.Reference) (*remote.Repository, error) {
	repo := &remote.Repository{Reference: ref}
	client, err := o.authClient()
	if err != nil {
		return nil, err
	}
	repo.Client = client
	repo.PlainHTTP = o.plainHTTP(ref.Registry)
	return repo, nil
}

func (o Options) authClient() (*auth.Client, error) {
	store := o.Credentials
	if store == nil {
		s, err := DockerCredentials()
		if err != nil {
			return nil, err
		}
		store = s
	}
	base := o.HTTPClient
	if base == nil {
		base = retry.DefaultClient
	}
	c := &auth.Client{
		Client:     base,
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(store),
	}
	c.SetUserAgent("wisp")
	return c, nil
}

func (o Options) plainHTTP(hostport string) bool {
	if o.PlainHTTP {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// DockerCredentials opens Docker's credential store: $DOCKER_CONFIG/
// config.json or ~/.docker/config.json, with the credential helpers it
// names. Logins are saved in plain text (base64, as `docker login` does)
// when no helper is configured.
func DockerCredentials() (credentials.Store, error) {
	s, err := credentials.NewStoreFromDocker(credentials.StoreOptions{AllowPlaintextPut: true})
	if err != nil {
		return nil, fmt.Errorf("reading Docker credentials: %w", err)
	}
	return s, nil
}

// Login checks username/password against the registry (e.g. "ghcr.io",
// "https://ghcr.io" or "localhost:5000") and, when they work, saves them in
// opts.Credentials (default: Docker's store). The password never appears
// in an error.
func Login(ctx context.Context, server, username, password string, opts Options) error {
	host := registryHost(server)
	if host == "" {
		return errors.New("login: no registry given")
	}
	if username == "" || password == "" {
		return errors.New("login: username and password are required")
	}
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return fmt.Errorf("login: %q is not a registry host: %w", server, err)
	}
	client, err := opts.authClient()
	if err != nil {
		return err
	}
	client.Credential = nil
	reg.Client = client
	reg.PlainHTTP = opts.plainHTTP(host)
	store := opts.Credentials
	if store == nil {
		if store, err = DockerCredentials(); err != nil {
			return err
		}
	}
	if err := credentials.Login(ctx, store, reg, auth.Credential{Username: username, Password: password}); err != nil {
		return fmt.Errorf("login to %s as %s: %w", host, username, err)
	}
	return nil
}

// registryHost accepts "ghcr.io", "https://ghcr.io/" and "docker.io" (Spin's
// registry_from_input).
func registryHost(server string) string {
	s := strings.TrimSpace(server)
	for _, p := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, p)
	}
	s, _, _ = strings.Cut(s, "/")
	if s == "docker.io" {
		return "registry-1.docker.io"
	}
	return s
}
