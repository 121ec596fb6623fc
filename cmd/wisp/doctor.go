package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/build"
	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
)

func newDoctorCmd() *cobra.Command {
	var from, runtimeConfig string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the application without running it",
		Long: `Check the manifest, the components' sources and files, the runtime config and
the build toolchains, without starting anything. Every problem is listed with
a fix; the exit status is 1 when there is one.`,
		Example: `  wisp doctor
  wisp doctor -f apps/demo/spin.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := resolveSource(from)
			if err != nil {
				return err
			}
			problems := doctor(cmd.Context(), cmd.OutOrStdout(), src, runtimeConfig)
			if problems > 0 {
				return fmt.Errorf("%d problem(s) found", problems)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "No problems found.")
			return nil
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "", "manifest file, app directory or .wasm file (default: ./spin.toml)")
	cmd.Flags().StringVar(&runtimeConfig, "runtime-config-file", "", "runtime-config.toml to check as well")
	return cmd
}

// doctor prints one line per check and returns the number of problems.
func doctor(ctx context.Context, out io.Writer, src appSource, runtimeConfig string) int {
	problems := 0
	ok := func(format string, args ...any) { fmt.Fprintf(out, "ok       "+format+"\n", args...) }
	bad := func(format string, args ...any) {
		problems++
		fmt.Fprintf(out, "PROBLEM  "+format+"\n", args...)
	}

	m, err := readManifest(src)
	if err != nil {
		bad("manifest: %v", err)
		return problems
	}
	ok("manifest %s", describeSource(src))

	for _, c := range build.Toolchains(ctx, m) {
		if c.OK() {
			ok("toolchain for %s: %s (%s)", c.Component, c.Program, c.Path)
		} else {
			bad("toolchain for %s: %s\n         fix: %s", c.Component, c.Problem, c.Fix)
		}
	}

	_, app, err := loadApp(ctx, src)
	if err != nil {
		bad("%v", err)
		return problems
	}
	ok("sources and files of %d component(s)", len(app.Components))

	eng, err := engine.New(ctx, engine.Config{CacheDir: compileCacheDir()})
	if err != nil {
		bad("engine: %v", err)
		return problems
	}
	defer eng.Close(context.Background())
	set, err := factors(nil)
	if err == nil {
		fapp, cerr := configureFactors(ctx, set, app, filepath.Dir(m.Path), runtimeConfig, true)
		if err = cerr; err == nil {
			fapp.Close()
			ok("host capabilities and runtime config")
		} else {
			bad("%v", err)
		}
	}
	host, err := newHost(set)
	if err != nil {
		bad("host interfaces: %v", err)
		return problems
	}
	for _, c := range app.Components {
		wasm, err := os.ReadFile(c.Source.Path)
		if err != nil {
			bad("component %s: %v", c.ID, err)
			continue
		}
		if engine.IsComponent(wasm) {
			linked, err := component.Load(ctx, eng, wasm, host)
			if err != nil {
				bad("component %s: %s: %v", c.ID, c.Source.Path, err)
				continue
			}
			ok("component %s links (%d import(s) wisp does not implement: calling them traps)", c.ID, len(linked.Warnings()))
			for _, w := range linked.Warnings() {
				fmt.Fprintf(out, "         %s\n", w)
			}
			linked.Close(ctx)
			continue
		}
		mod, err := eng.Compile(ctx, wasm)
		if err != nil {
			bad("component %s: %s: %v", c.ID, c.Source.Path, err)
			continue
		}
		mod.Close(ctx)
		ok("component %s compiles", c.ID)
	}

	return problems
}
