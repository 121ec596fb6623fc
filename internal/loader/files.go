package loader

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// The security rule for files: a guest may only ever see files inside the
// application directory. Every path is checked after resolving symlinks
// against the (resolved) application directory, so neither "..", nor an
// absolute path, nor a symlink to a file or directory elsewhere gets out.

// hostFile is one file found for a mount, before exclusion.
type hostFile struct {
	rel  string // slash path relative to the app dir, as spelled (for exclude_files)
	src  string // absolute host path, symlinks resolved
	dest string // absolute guest path
}

// lockFiles expands a component's mounts into individual files, sorted by
// destination. When two mounts put a file at the same destination the later
// mount wins: Spin copies mounts into one directory, so one overwrites the
// other; the manifest order makes that choice deterministic here.
func (l *loader) lockFiles(id string, mounts []manifest.FilesMount, exclude []string) ([]lockedapp.File, error) {
	for _, p := range exclude {
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("component %q: exclude_files pattern %q is not a valid glob", id, p)
		}
	}

	byDest := map[string]string{}
	for _, m := range mounts {
		var (
			found []hostFile
			err   error
		)
		if m.Pattern != "" {
			found, err = l.expandPattern(m.Pattern)
		} else {
			found, err = l.expandPlacement(m.Source, m.Destination)
		}
		if err != nil {
			return nil, fmt.Errorf("component %q: files: %w", id, err)
		}
		for _, f := range found {
			if excluded(f.rel, exclude) {
				continue
			}
			byDest[f.dest] = f.src
		}
	}
	if len(byDest) == 0 {
		return nil, nil
	}

	files := make([]lockedapp.File, 0, len(byDest))
	for dest, src := range byDest {
		files = append(files, lockedapp.File{Source: src, Destination: dest})
	}
	slices.SortFunc(files, func(a, b lockedapp.File) int { return strings.Compare(a.Destination, b.Destination) })

	// A path cannot be both a file and a directory in the guest's view.
	for _, f := range files {
		for dir := path.Dir(f.Destination); dir != "/"; dir = path.Dir(dir) {
			if _, ok := byDest[dir]; ok {
				return nil, fmt.Errorf("component %q: files: %q is mounted as a file and is also the parent directory of %q: change one destination", id, dir, f.Destination)
			}
		}
	}
	return files, nil
}

// excluded applies exclude_files to a path relative to the app dir, as Spin
// does. Unlike Spin, exclusions also apply to single-file mounts: a file the
// author excluded should never be mounted.
func excluded(rel string, patterns []string) bool {
	for _, p := range patterns {
		if doublestar.MatchUnvalidated(p, rel) {
			return true
		}
	}
	return false
}

// expandPattern handles a string entry of files: an existing file or
// directory (mounted at the same relative path), or a glob relative to the
// app dir.
func (l *loader) expandPattern(pattern string) ([]hostFile, error) {
	// Spin's wording for mistakes that mount far more than intended.
	if pattern == ".." || strings.HasSuffix(pattern, "/..") || pattern == "." || strings.HasSuffix(pattern, "/.") {
		return nil, fmt.Errorf("pattern %q cannot end in \".\" or \"..\": to include a directory use { source = \"dir\", destination = \"/dir\" } or a pattern ending in /**/*", pattern)
	}
	rel, err := cleanRelative(pattern)
	if err != nil {
		return nil, err
	}

	// An existing path is taken literally, even if it contains glob
	// characters, as Spin does.
	abs := filepath.Join(l.appDir, filepath.FromSlash(rel))
	if fi, err := os.Stat(abs); err == nil {
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%q is not a regular file or directory", pattern)
			}
			f, err := l.single(rel, "/"+rel)
			if err != nil {
				return nil, err
			}
			return []hostFile{f}, nil
		}
		return l.walk(rel, func(r string) string { return "/" + r }, matchAll, matchAll)
	}

	if !strings.ContainsAny(rel, "*?[{\\") {
		return nil, fmt.Errorf("%q does not exist and is not a glob pattern: fix the path or remove it", pattern)
	}
	if !doublestar.ValidatePattern(rel) {
		return nil, fmt.Errorf("pattern %q is not a valid glob", pattern)
	}
	base, _ := doublestar.SplitPattern(rel)
	if _, err := os.Stat(filepath.Join(l.appDir, filepath.FromSlash(base))); errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a glob that matches nothing is not an error, as in Spin
	}
	return l.walk(base,
		func(r string) string { return "/" + r },
		func(r string) bool { return doublestar.MatchUnvalidated(rel, r) },
		func(dir string) bool { return mayMatchBelow(rel, dir) })
}

// expandPlacement handles { source, destination }: a file mounted at
// destination, or a directory whose files are mounted below destination.
func (l *loader) expandPlacement(source, dest string) ([]hostFile, error) {
	if !strings.HasPrefix(dest, "/") || path.Clean(dest) != dest {
		return nil, fmt.Errorf("destination %q must be an absolute, clean guest path such as \"/assets\" (no \"..\", \".\", \"//\" or trailing \"/\")", dest)
	}
	rel, err := cleanRelative(source)
	if err != nil {
		return nil, err
	}
	abs := filepath.Join(l.appDir, filepath.FromSlash(rel))
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("source %q does not exist: fix the path", source)
	}
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", source, err)
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("source %q is not a regular file or directory", source)
		}
		if dest == "/" {
			return nil, fmt.Errorf("destination \"/\" is not a valid file name for the file %q: name the file, e.g. \"/%s\"", source, path.Base(rel))
		}
		f, err := l.single(rel, dest)
		if err != nil {
			return nil, err
		}
		return []hostFile{f}, nil
	}
	return l.walk(rel, func(r string) string {
		if rel != "." {
			r = strings.TrimPrefix(r, rel+"/")
		}
		return path.Join(dest, r)
	}, matchAll, matchAll)
}

// cleanRelative checks that p is a relative path that stays inside the app
// dir and returns it cleaned, slash-separated ("." for the app dir itself).
func cleanRelative(p string) (string, error) {
	slashed := filepath.ToSlash(p)
	if path.IsAbs(slashed) || filepath.IsAbs(p) || filepath.VolumeName(p) != "" {
		return "", fmt.Errorf("%q is an absolute path: files must be given relative to the application directory", p)
	}
	rel := path.Clean(slashed)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%q is outside the application directory: only files inside it can be mounted", p)
	}
	return rel, nil
}

// single resolves one file named by the manifest.
func (l *loader) single(rel, dest string) (hostFile, error) {
	src, err := l.resolveInside(rel)
	if err != nil {
		return hostFile{}, err
	}
	return hostFile{rel: rel, src: src, dest: dest}, nil
}

// resolveInside resolves symlinks in the app-relative path rel and checks
// that the result is still inside the app dir.
func (l *loader) resolveInside(rel string) (string, error) {
	resolved, err := filepath.EvalSymlinks(filepath.Join(l.appDir, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("%q: %w", rel, err)
	}
	if !within(l.appDir, resolved) {
		return "", fmt.Errorf("%q resolves to %q, outside the application directory: symlinks must point inside it", rel, resolved)
	}
	return resolved, nil
}

func within(dir, p string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

func matchAll(string) bool { return true }

// mayMatchBelow reports whether pattern could match a path below the
// directory dir (both slash paths relative to the app dir), so that walks
// skip subtrees that cannot match, as a component-wise globber does.
func mayMatchBelow(pattern, dir string) bool {
	if strings.Contains(pattern, "{") {
		return true // alternatives may span "/", so stay conservative
	}
	pc := strings.Split(pattern, "/")
	for i, d := range strings.Split(dir, "/") {
		if i >= len(pc) {
			return false
		}
		if pc[i] == "**" {
			return true
		}
		if !doublestar.MatchUnvalidated(pc[i], d) {
			return false
		}
	}
	return len(pc) > len(strings.Split(dir, "/"))
}

// walk collects the regular files below the app-relative directory start.
// match selects files and descend selects directories to enter (both get
// app-relative paths); destOf maps a file's app-relative path to its guest
// path. Symlinks are followed only when they resolve inside the app dir;
// one that resolves outside is an error if it could be mounted. Dangling
// symlinks and special files are skipped, as in Spin; symlink cycles are
// cut.
func (l *loader) walk(start string, destOf func(string) string, match, descend func(string) bool) ([]hostFile, error) {
	startResolved, err := l.resolveInside(start)
	if err != nil {
		return nil, err
	}

	var out []hostFile
	// onPath holds the resolved directories of the current descent, to
	// detect cycles without forbidding a directory reached by two routes.
	onPath := map[string]bool{}
	var visit func(rel, resolvedDir string) error
	visit = func(rel, resolvedDir string) error {
		onPath[resolvedDir] = true
		defer delete(onPath, resolvedDir)

		entries, err := os.ReadDir(resolvedDir)
		if err != nil {
			return fmt.Errorf("%q: %w", rel, err)
		}
		for _, e := range entries {
			childRel := path.Join(rel, e.Name())
			resolved := filepath.Join(resolvedDir, e.Name())
			isDir := e.IsDir()
			if e.Type()&fs.ModeSymlink != 0 {
				target, err := filepath.EvalSymlinks(resolved)
				if err != nil {
					continue // dangling
				}
				fi, err := os.Stat(target)
				if err != nil {
					continue
				}
				isDir = fi.IsDir()
				if (isDir && descend(childRel)) || (fi.Mode().IsRegular() && match(childRel)) {
					if !within(l.appDir, target) {
						return fmt.Errorf("%q is a symlink to %q, outside the application directory: symlinks must point inside it", childRel, target)
					}
				}
				if !isDir && !fi.Mode().IsRegular() {
					continue
				}
				resolved = target
			} else if !isDir && !e.Type().IsRegular() {
				continue
			}

			if isDir {
				if descend(childRel) && !onPath[resolved] {
					if err := visit(childRel, resolved); err != nil {
						return err
					}
				}
				continue
			}
			if match(childRel) {
				out = append(out, hostFile{rel: childRel, src: resolved, dest: destOf(childRel)})
			}
		}
		return nil
	}
	if err := visit(start, startResolved); err != nil {
		return nil, err
	}
	return out, nil
}
