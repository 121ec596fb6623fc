package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

func newBuildCmd() *cobra.Command {
	var (
		from        string
		components  []string
		component   bool
		wasiAdapter string
	)
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the application's components",
		Long: `Run the build command of every component that has a [component.<id>.build]
table, in manifest order, with 'sh -c' in the component's workdir. Output is
shown as it happens; the first failing command stops the build.

With --component, each component's source, when it is a canonical-ABI core
module (what the Wisp Go SDK builds), is then turned into a Component Model
binary in place, so that other component hosts (Spin, Wasmtime, jco) run it
too. This needs the go command (it fetches wasm-tools, go.bytecodealliance.org)
and, for modules that use WASI preview1 (every Go module), the WASI preview1
adapter: --wasi-adapter, $WISP_WASI_ADAPTER, or fetched once with npm from
@bytecodealliance/jco and cached.`,
		Example: `  wisp build
  wisp build -f apps/demo/spin.toml
  wisp build -c api -c web
  wisp build --component`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(from)
			if err != nil {
				return err
			}
			err = build.Build(cmd.Context(), m, build.Options{
				Components: components,
				Stdout:     cmd.OutOrStdout(),
				Stderr:     cmd.ErrOrStderr(),
			})
			if err == nil && component {
				err = build.ComponentizeApp(cmd.Context(), m, components, build.ComponentizeOptions{
					Adapter:  wasiAdapter,
					CacheDir: wispCacheDir(),
					Log:      cmd.OutOrStdout(),
				})
			}
			if errors.Is(err, build.ErrUnknownComponent) {
				return usageError{err}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "spin.toml", "the application's manifest, or its directory")
	cmd.Flags().StringArrayVarP(&components, "component-id", "c", nil, "build only this component; repeatable")
	cmd.Flags().BoolVar(&component, "component", false, "turn each canonical-ABI core module source into a component after building")
	cmd.Flags().StringVar(&wasiAdapter, "wasi-adapter", "", "the WASI preview1 reactor adapter for --component (default: fetched from npm)")
	return cmd
}
