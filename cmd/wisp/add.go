package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/templates"
)

func newAddCmd() *cobra.Command {
	var (
		f    templateFlags
		from string
	)
	cmd := &cobra.Command{
		Use:   "add <template> <name>",
		Short: "Add a component from a template to an application",
		Long: `Add a component to an existing application: the component's source goes
into a new directory (./<name> next to spin.toml unless -o says otherwise),
and its [[trigger]] and [component] tables are appended to spin.toml. The
rest of spin.toml, comments included, is left exactly as it was.`,
		Example: `  wisp add http-go api -a
  wisp add static-fileserver assets -v http-path=/static/...
  wisp add http-c hello -f apps/demo/spin.toml -a`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.list {
				return listTemplates(cmd.OutOrStdout())
			}
			if len(args) != 2 {
				return usagef("wisp add needs a template and a name, e.g. 'wisp add http-go api'")
			}
			t, name, err := templateAndName(args)
			if err != nil {
				return err
			}
			outputPath := f.output
			if outputPath == "" {
				outputPath = name
			}
			values, err := f.resolve(cmd, t, templates.ModeAdd, templates.Vars(name, filepath.ToSlash(outputPath)))
			if err != nil {
				return err
			}
			if err := t.AddComponent(from, name, outputPath, values); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added component %s (template %s) in %s\n", templates.KebabCase(name), t.ID, outputPath)
			return nil
		},
	}
	f.register(cmd, "directory for the component, relative to spin.toml (default <name>)")
	cmd.Flags().StringVarP(&from, "file", "f", "spin.toml", "the application's manifest, or its directory")
	return cmd
}
