package main

import "github.com/spf13/cobra"

func newMaintenanceCmd() *cobra.Command {
	return &cobra.Command{Use: "maintenance", Short: "not implemented yet"}
}
