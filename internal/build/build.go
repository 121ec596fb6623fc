// Package build runs the build commands of an application's components
// ([component.<id>.build] in spin.toml), like `spin build`, and checks that
// the toolchains those commands need are installed (for `wisp doctor`).
package build

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

// ErrUnknownComponent is wrapped by Build's error when Options.Components
// names a component that the manifest does not have.
var ErrUnknownComponent = errors.New("unknown component")

// CommandError is a build command that failed.
type CommandError struct {
	Component string
	Command   string
	// ExitCode is the command's exit status, -1 when it did not run or was
	// killed by a signal.
	ExitCode int
	Err      error
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("build command for component %s failed: `%s`: %v", e.Component, e.Command, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }

// Options control Build.
type Options struct {
	// Components are the ids to build; empty means every component.
	Components []string
	// Stdout and Stderr receive the commands' output as it is produced, and
	// Stdout the progress lines. Nil discards.
	Stdout, Stderr io.Writer
}

// Build runs, in manifest order, every build command of the selected
// components with `sh -c` in the component's workdir (relative to the
// manifest's directory). It stops at the first command that fails and
// returns a *CommandError.
func Build(ctx context.Context, m *manifest.Manifest, opts Options) error {
	stdout := cmp.Or[io.Writer](opts.Stdout, io.Discard)
	stderr := cmp.Or[io.Writer](opts.Stderr, io.Discard)
	comps, err := selectComponents(m, opts.Components)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(comps, func(c *manifest.Component) bool { return c.Build != nil }) {
		fmt.Fprintln(stdout, "None of the components have a build command.")
		return nil
	}
	for _, c := range comps {
		if c.Build == nil {
			continue
		}
		if err := buildComponent(ctx, m, c, stdout, stderr); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "Finished building all components")
	return nil
}

func buildComponent(ctx context.Context, m *manifest.Manifest, c *manifest.Component, stdout, stderr io.Writer) error {
	b := c.Build
	dir, err := Workdir(m, c)
	if err != nil {
		return &CommandError{Component: c.ID, ExitCode: -1, Err: err}
	}
	n := len(b.Commands)
	if n > 1 {
		fmt.Fprintf(stdout, "Building component %s (%d commands)\n", c.ID, n)
	}
	for i, command := range b.Commands {
		if n > 1 {
			fmt.Fprintf(stdout, "Running build step %d/%d for component %s with `%s`\n", i+1, n, c.ID, command)
		} else {
			fmt.Fprintf(stdout, "Building component %s with `%s`\n", c.ID, command)
		}
		if b.Workdir != "" {
			fmt.Fprintf(stdout, "Working directory: %q\n", dir)
		}
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = stdout, stderr
		if err := cmd.Run(); err != nil {
			code := -1
			if ee, ok := errors.AsType[*exec.ExitError](err); ok {
				code = ee.ExitCode()
			}
			return &CommandError{Component: c.ID, Command: command, ExitCode: code, Err: err}
		}
	}
	return nil
}

// Workdir is the directory c's build commands run in: the manifest's
// directory, or its build.workdir below it.
func Workdir(m *manifest.Manifest, c *manifest.Component) (string, error) {
	appDir := filepath.Dir(m.Path)
	if c.Build == nil || c.Build.Workdir == "" {
		return appDir, nil
	}
	wd := c.Build.Workdir
	if filepath.IsAbs(wd) {
		return "", fmt.Errorf("workdir %q must be relative to the manifest's directory", wd)
	}
	dir := filepath.Join(appDir, wd)
	if info, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("workdir %q: %w", wd, err)
	} else if !info.IsDir() {
		return "", fmt.Errorf("workdir %q is not a directory", wd)
	}
	return dir, nil
}

// selectComponents returns the components named in ids (all when empty),
// in the order they appear in the manifest.
func selectComponents(m *manifest.Manifest, ids []string) ([]*manifest.Component, error) {
	var unknown []string
	for _, id := range ids {
		if _, ok := m.Components[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w %s (the manifest has: %s)", ErrUnknownComponent,
			strings.Join(unknown, ", "), strings.Join(componentIDs(m), ", "))
	}
	var comps []*manifest.Component
	for _, id := range componentIDs(m) {
		if len(ids) == 0 || slices.Contains(ids, id) {
			comps = append(comps, m.Components[id])
		}
	}
	return comps, nil
}

// componentIDs lists the manifest's components in file order, so that
// builds run in the order the user wrote them.
func componentIDs(m *manifest.Manifest) []string {
	ids := make([]string, 0, len(m.Components))
	for id := range m.Components {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		ca, cb := m.Components[a], m.Components[b]
		return cmp.Or(cmp.Compare(ca.Pos.Line, cb.Pos.Line), cmp.Compare(ca.Pos.Column, cb.Pos.Column), strings.Compare(a, b))
	})
	return ids
}
