package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

func newBuildCmd() *cobra.Command {
	var (
		from       string
		components []string
	)
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the application's components",
		Long: `Run the build command of every component that has a [component.<id>.build]
table, in manifest order, with 'sh -c' in the component's workdir. Output is
shown as it happens; the first failing command stops the build.`,
		Example: `  wisp build
  wisp build -f apps/demo/spin.toml
  wisp build -c api -c web`,
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
			if errors.Is(err, build.ErrUnknownComponent) {
				return usageError{err}
			}
			return err
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "spin.toml", "the application's manifest, or its directory")
	cmd.Flags().StringArrayVarP(&components, "component-id", "c", nil, "build only this component; repeatable")
	return cmd
}
