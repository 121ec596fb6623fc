package main

import (
	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

func newMaintenanceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "maintenance",
		Short:  "Tools for maintaining Wisp and its integrations",
		Hidden: false,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "manifest-schema",
		Short:   "Print the JSON Schema of spin.toml (manifest version 2)",
		Example: "  wisp maintenance manifest-schema > spin-manifest.schema.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(manifest.Schema())
			return err
		},
	})
	return cmd
}
