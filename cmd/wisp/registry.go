package main

// wisp registry push|pull|login, and running apps straight from a registry
// (wisp up -f <ref>, wisp up --from-registry <ref>), in Spin's OCI format.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/internal/oci"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

func newRegistryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Push apps to and pull them from OCI registries",
		Long: `Distribute applications through OCI registries (ghcr.io, Docker Hub, a
self-hosted distribution registry, ...) in Spin's artifact format: what
'wisp registry push' publishes runs with 'spin up -f <ref>', and apps
pushed by 'spin registry push' run with 'wisp up -f <ref>'.

Credentials come from Docker's config (~/.docker/config.json or
$DOCKER_CONFIG), as written by 'docker login' or 'wisp registry login'.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRegistryPushCmd(), newRegistryPullCmd(), newRegistryLoginCmd())
	return cmd
}

func newRegistryPushCmd() *cobra.Command {
	var (
		from        string
		doBuild     bool
		insecure    bool
		annotations []string
	)
	cmd := &cobra.Command{
		Use:   "push <reference>",
		Short: "Push the application to a registry",
		Example: `  wisp registry push ghcr.io/me/hello:v1
  wisp registry push -f apps/demo --build localhost:5000/demo:latest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ann, err := parseKeyValues("annotation", annotations)
			if err != nil {
				return err
			}
			src, err := resolveSource(from)
			if err != nil {
				return err
			}
			if src.OCIRef != "" {
				return usagef("-f %s is a registry reference: push needs a local app (a spin.toml or its directory)", from)
			}
			ctx := cmd.Context()
			if doBuild && src.ManifestPath != "" {
				m, err := manifest.Load(src.ManifestPath)
				if err != nil {
					return err
				}
				if err := build.Build(ctx, m, build.Options{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}); err != nil {
					return err
				}
			}
			_, app, err := loadApp(ctx, src)
			if err != nil {
				return err
			}
			res, err := oci.Push(ctx, app, args[0], oci.Options{PlainHTTP: insecure}, oci.PushOptions{Annotations: ann})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pushed %s with digest %s (%d blobs uploaded, %d already in the registry)\n",
				res.Reference, res.Digest, res.Uploaded, res.Reused)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&from, "from", "f", "", "manifest file or app directory (default: ./spin.toml)")
	f.BoolVar(&doBuild, "build", false, "run 'wisp build' first")
	f.BoolVarP(&insecure, "insecure", "k", false, "use plain HTTP (loopback registries always do)")
	f.StringArrayVar(&annotations, "annotation", nil, "manifest annotation key=value; repeatable")
	return cmd
}

func newRegistryPullCmd() *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "pull <reference>",
		Short: "Pull an application into the local cache",
		Long: `Pull an application into the local cache, verifying every layer against its
digest, so that 'wisp up -f <reference>' can run it.`,
		Example: `  wisp registry pull ghcr.io/me/hello:v1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := oci.Pull(cmd.Context(), args[0], oci.Options{PlainHTTP: insecure, CacheDir: ociCacheDir()})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pulled %s@%s: %d component(s), %d layer(s) downloaded, %d already cached\n",
				p.Reference, p.Digest, len(p.App.Components), p.Fetched, p.Cached)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&insecure, "insecure", "k", false, "use plain HTTP (loopback registries always do)")
	return cmd
}

func newRegistryLoginCmd() *cobra.Command {
	var (
		username      string
		password      string
		passwordStdin bool
		insecure      bool
	)
	cmd := &cobra.Command{
		Use:   "login <registry>",
		Short: "Save credentials for a registry",
		Long: `Check a username and password (or token) against a registry and save them in
Docker's config (~/.docker/config.json or $DOCKER_CONFIG/config.json, or the
credential helper it names).`,
		Example: `  echo "$GITHUB_TOKEN" | wisp registry login ghcr.io -u me --password-stdin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if username == "" {
				return usagef("--username (-u) is required")
			}
			switch {
			case passwordStdin && password != "":
				return usagef("use either --password or --password-stdin")
			case passwordStdin:
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
				if err != nil {
					return fmt.Errorf("reading the password from stdin: %w", err)
				}
				password = strings.TrimRight(string(b), "\r\n")
			case password == "":
				return usagef("give the password with --password-stdin (or --password)")
			}
			if err := oci.Login(cmd.Context(), args[0], username, password, oci.Options{PlainHTTP: insecure}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in as %s to %s\n", username, args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&username, "username", "u", "", "user name")
	f.StringVarP(&password, "password", "p", "", "password (prefer --password-stdin: arguments are visible to other users)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	f.BoolVarP(&insecure, "insecure", "k", false, "use plain HTTP (loopback registries always do)")
	return cmd
}

// ociScheme marks -f values that are registry references, whatever the
// file system holds (what --from-registry turns into).
const ociScheme = "oci://"

// withRegistrySource gives `wisp up` Spin's --from-registry and
// -k/--insecure flags. --from-registry becomes -f oci://<ref>; the insecure
// choice travels to loadApp in the command's context.
func withRegistrySource(cmd *cobra.Command) *cobra.Command {
	var (
		ref      string
		insecure bool
	)
	f := cmd.Flags()
	f.StringVar(&ref, "from-registry", "", "run the application at this registry reference")
	f.BoolVarP(&insecure, "insecure", "k", false, "use plain HTTP for registry references (loopback registries always do)")
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if ref != "" {
			if cmd.Flags().Changed("from") {
				return usagef("use either --from (-f) or --from-registry")
			}
			if err := cmd.Flags().Set("from", ociScheme+strings.TrimPrefix(ref, ociScheme)); err != nil {
				return err
			}
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		cmd.SetContext(context.WithValue(ctx, registryOptionsKey{}, registryOptions{insecure: insecure}))
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
	return cmd
}

type registryOptionsKey struct{}

type registryOptions struct{ insecure bool }

// ociSource recognises a registry reference in -f: an explicit oci://
// prefix, or (like Spin) something that does not exist on disk and looks
// like <registry host>/<repository>[:tag].
func ociSource(from string, exists bool) (appSource, bool) {
	if ref, ok := strings.CutPrefix(from, ociScheme); ok {
		return appSource{OCIRef: ref}, true
	}
	if !exists && oci.LooksLikeReference(from) {
		return appSource{OCIRef: from}, true
	}
	return appSource{}, false
}

// ociManifest stands in for the manifest of an app from a registry: it
// only places the app's working directory (logs, default databases), one
// per repository under the cache, so that state survives new versions.
func ociManifest(ref string) (*manifest.Manifest, error) {
	r, err := oci.ParseReference(ref)
	if err != nil {
		return nil, usageError{err}
	}
	dir := filepath.Join(ociCacheDir(), "apps", r.Registry, filepath.FromSlash(r.Repository))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &manifest.Manifest{
		Path:                filepath.Join(dir, "spin.toml"),
		SpinManifestVersion: 2,
		Application:         manifest.Application{Name: filepath.Base(r.Repository)},
	}, nil
}

// loadOCIApp pulls (or finds in the cache, verified) the app at ref.
func loadOCIApp(ctx context.Context, ref string) (*manifest.Manifest, *lockedapp.LockedApp, error) {
	m, err := ociManifest(ref)
	if err != nil {
		return nil, nil, err
	}
	ro, _ := ctx.Value(registryOptionsKey{}).(registryOptions)
	p, err := oci.Pull(ctx, ref, oci.Options{PlainHTTP: ro.insecure, CacheDir: ociCacheDir()})
	if err != nil {
		return m, nil, err
	}
	return m, p.App, nil
}

func ociCacheDir() string { return filepath.Join(wispCacheDir(), "oci") }
