package main

import "github.com/spf13/cobra"

func newAddCmd() *cobra.Command {
	return &cobra.Command{Use: "add", Short: "not implemented yet"}
}
