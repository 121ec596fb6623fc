package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wisp-dev/wisp/internal/templates"
)

// templateFlags are the flags `wisp new` and `wisp add` share.
type templateFlags struct {
	list           bool
	values         []string
	acceptDefaults bool
	output         string
}

func (f *templateFlags) register(cmd *cobra.Command, outputHelp string) {
	cmd.Flags().BoolVar(&f.list, "list", false, "list the available templates")
	cmd.Flags().StringArrayVarP(&f.values, "value", "v", nil, "set a template parameter (key=value); repeatable")
	cmd.Flags().BoolVarP(&f.acceptDefaults, "accept-defaults", "a", false, "use the default of every parameter not given with -v instead of asking")
	cmd.Flags().StringVarP(&f.output, "output", "o", "", outputHelp)
}

func newNewCmd() *cobra.Command {
	var f templateFlags
	cmd := &cobra.Command{
		Use:   "new <template> <name>",
		Short: "Create a new application from a template",
		Long: `Create a new application from a template: a spin.toml and the source of
one component, ready for 'wisp build' and 'wisp up'.

Each template parameter not set with -v is asked for, showing its default
(press Enter to take it); -a takes every default without asking.`,
		Example: `  wisp new --list
  wisp new http-go hello -a
  wisp new http-rust api -v http-path=/api/... -o services/api
  wisp new static-fileserver site -v project-description="My site" -a`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.list {
				return listTemplates(cmd.OutOrStdout())
			}
			if len(args) != 2 {
				return usagef("wisp new needs a template and a name, e.g. 'wisp new http-go hello' (templates: %s)",
					strings.Join(templates.IDs(), ", "))
			}
			t, name, err := templateAndName(args)
			if err != nil {
				return err
			}
			values, err := f.resolve(cmd, t, templates.ModeNew, templates.Vars(name, "."))
			if err != nil {
				return err
			}
			dir := f.output
			if dir == "" {
				dir = name
			}
			if err := t.NewApp(dir, name, values); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created %s from template %s.\nNext: cd %s && wisp build && wisp up\n", dir, t.ID, dir)
			return nil
		},
	}
	f.register(cmd, "directory to create the application in (default ./<name>)")
	return cmd
}

func listTemplates(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "TEMPLATE\tDESCRIPTION")
	for _, t := range templates.List() {
		fmt.Fprintf(tw, "%s\t%s\n", t.ID, t.Description)
	}
	return tw.Flush()
}

// templateAndName checks the <template> <name> arguments.
func templateAndName(args []string) (*templates.Template, string, error) {
	t, ok := templates.Lookup(args[0])
	if !ok {
		return nil, "", usagef("unknown template %q; available templates: %s", args[0], strings.Join(templates.IDs(), ", "))
	}
	if err := templates.ValidateName(args[1]); err != nil {
		return nil, "", usageError{err}
	}
	return t, args[1], nil
}

// resolve gathers the template's parameter values: -v first, then an answer
// or the default for each of the others.
func (f *templateFlags) resolve(cmd *cobra.Command, t *templates.Template, mode templates.Mode, vars map[string]string) (map[string]string, error) {
	given := map[string]string{}
	for _, kv := range f.values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("-v %q: want key=value", kv)
		}
		given[k] = v
	}
	if !f.acceptDefaults {
		in := bufio.NewReader(cmd.InOrStdin())
		for _, p := range t.ParametersFor(mode) {
			if _, ok := given[p.Name]; ok {
				continue
			}
			v, err := ask(in, cmd.OutOrStdout(), t, p, vars)
			if err != nil {
				return nil, err
			}
			given[p.Name] = v
		}
	}
	values, err := t.ResolveValues(mode, given, vars)
	if err != nil {
		return nil, usageError{err}
	}
	return values, nil
}

// ask prompts for one parameter until it gets a valid answer; an empty
// answer takes the default.
func ask(in *bufio.Reader, out io.Writer, t *templates.Template, p templates.Parameter, vars map[string]string) (string, error) {
	def, err := t.Default(p, vars)
	if err != nil {
		return "", err
	}
	for {
		if def != "" {
			fmt.Fprintf(out, "%s [%s]: ", p.Prompt, def)
		} else {
			fmt.Fprintf(out, "%s: ", p.Prompt)
		}
		line, err := in.ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			fmt.Fprintln(out)
			return "", usagef("no answer for %s (use -v %s=... or --accept-defaults)", p.Name, p.Name)
		}
		answer := strings.TrimSpace(line)
		if answer == "" {
			answer = def
		}
		if err := p.Validate(answer); err != nil {
			fmt.Fprintln(out, err)
			continue
		}
		return answer, nil
	}
}
