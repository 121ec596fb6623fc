// Command wisp builds and runs Spin-manifest WebAssembly applications.
//
// This package is the composition root: it is the only place where the
// manifest, loader, engine, executors and triggers are wired together.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// usageError marks errors caused by how the command was called; they exit 2.
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "wisp",
		Short: "Build and run serverless WebAssembly apps (Spin-compatible)",
		Long: `Wisp runs WebAssembly applications described by a Spin manifest (spin.toml).
Every request runs in a fresh, sandboxed instance.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newNewCmd(),
		newAddCmd(),
		newBuildCmd(),
		withRegistrySource(newUpCmd()),
		newRegistryCmd(),
		newDoctorCmd(),
		newMaintenanceCmd(),
		newServerCmd(),
		newLoginCmd(),
		newDeployCmd(),
		newAppsCmd(),
		newTenantsCmd(),
	)
	return root
}
