package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wisp-dev/wisp/pkg/manifest"
)

// ComponentExistsError is returned by AddComponent when the app already has
// a component with the new component's id.
type ComponentExistsError struct {
	ID       string
	Manifest string
}

func (e *ComponentExistsError) Error() string {
	return fmt.Sprintf("%s already has a component %q; choose another name", e.Manifest, e.ID)
}

// Vars returns the variables every template can use besides its parameters:
// project-name, output-path (where the component's files go, relative to
// spin.toml) and authors.
func Vars(name, outputPath string) map[string]string {
	return map[string]string{
		"project-name": name,
		"output-path":  outputPath,
		"authors":      authors(),
	}
}

// NewApp writes a new application from t into dir, which must not exist or
// be empty. values are the resolved parameter values (see ResolveValues).
func (t *Template) NewApp(dir, name string, values map[string]string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	vars := merge(Vars(name, "."), values)
	files, err := t.renderFiles(vars, nil)
	if err != nil {
		return err
	}
	if err := checkEmptyDir(dir); err != nil {
		return err
	}
	return writeFiles(dir, files)
}

// AddComponent adds a component made from t to the application whose
// manifest is manifestPath: it writes the component's files into outputPath
// (relative to the manifest's directory; "" means name) and appends the
// template's trigger and component TOML to the manifest as text, so the
// user's comments and formatting stay as they were.
func (t *Template) AddComponent(manifestPath, name, outputPath string, values map[string]string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if outputPath == "" {
		outputPath = name
	}
	if filepath.IsAbs(outputPath) {
		return fmt.Errorf("output path %q must be relative to the application directory", outputPath)
	}
	m, err := manifest.Load(manifestPath)
	if err != nil {
		return err
	}
	id := KebabCase(name)
	if _, ok := m.Components[id]; ok {
		return &ComponentExistsError{ID: id, Manifest: m.Path}
	}

	vars := merge(Vars(name, filepath.ToSlash(filepath.Clean(outputPath))), values)
	snippet, err := t.renderFile("component.txt", vars)
	if err != nil {
		return err
	}
	files, err := t.renderFiles(vars, []string{"spin.toml"})
	if err != nil {
		return err
	}
	old, err := os.ReadFile(m.Path)
	if err != nil {
		return err
	}
	updated := appendSnippet(old, snippet)
	// Check the result before touching anything: a template bug must not
	// leave the user with a manifest that no longer loads.
	if err := parseManifest(m.Path, updated); err != nil {
		return fmt.Errorf("template %s produced an invalid manifest: %w", t.ID, err)
	}

	dir := filepath.Join(filepath.Dir(m.Path), outputPath)
	if err := checkEmptyDir(dir); err != nil {
		return err
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	info, err := os.Stat(m.Path)
	if err != nil {
		return err
	}
	return os.WriteFile(m.Path, updated, info.Mode().Perm())
}

// appendSnippet adds snippet after the manifest's text, separated by one
// blank line. Only trailing blank space of the manifest is replaced.
func appendSnippet(manifestText []byte, snippet string) []byte {
	out := bytes.TrimRight(manifestText, " \t\r\n")
	out = append(out[:len(out):len(out)], "\n\n"...)
	out = append(out, strings.TrimLeft(snippet, "\n")...)
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return out
}

func parseManifest(path string, data []byte) error {
	_, err := manifest.Parse(data, path)
	return err
}

// renderFile renders one file of the template's directory (not its content).
func (t *Template) renderFile(name string, vars map[string]string) (string, error) {
	data, err := fs.ReadFile(builtinFS, path.Join(t.dir, name))
	if err != nil {
		return "", err
	}
	out, err := Render(string(data), vars)
	if err != nil {
		return "", fmt.Errorf("template %s: %s: %w", t.ID, name, err)
	}
	return out, nil
}

// renderFiles renders the template's content, minus the files in skip, and
// adds the verbatim files. Keys are slash-separated paths.
func (t *Template) renderFiles(vars map[string]string, skip []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	content := path.Join(t.dir, "content")
	err := fs.WalkDir(builtinFS, content, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, content+"/")
		if slices.Contains(skip, rel) {
			return nil
		}
		data, err := fs.ReadFile(builtinFS, p)
		if err != nil {
			return err
		}
		out, err := Render(string(data), vars)
		if err != nil {
			return fmt.Errorf("template %s: %s: %w", t.ID, rel, err)
		}
		files[strings.TrimSuffix(rel, ".tmpl")] = []byte(out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if t.goSDK {
		sdk, err := sdkFiles()
		if err != nil {
			return nil, err
		}
		maps.Copy(files, sdk)
	}
	if t.verbatim != nil {
		err := fs.WalkDir(t.verbatim, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(t.verbatim, p)
			files[p] = data
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// checkEmptyDir refuses to write into a directory that has files in it, so
// that nothing of the user's is overwritten.
func checkEmptyDir(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err == io.EOF {
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	return fmt.Errorf("directory %s already exists and is not empty", dir)
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// authors is the value of {{authors}}: "Name <email>", found like Spin (and
// cargo) do, from the environment or git's configuration. Characters that
// would break the TOML string it goes into are dropped.
func authors() string {
	name := firstNonEmpty(os.Getenv("GIT_AUTHOR_NAME"), os.Getenv("GIT_COMMITTER_NAME"),
		gitConfig("user.name"), os.Getenv("USER"), os.Getenv("USERNAME"))
	email := firstNonEmpty(os.Getenv("GIT_AUTHOR_EMAIL"), os.Getenv("GIT_COMMITTER_EMAIL"),
		gitConfig("user.email"), os.Getenv("EMAIL"))
	email = strings.TrimSuffix(strings.TrimPrefix(email, "<"), ">")
	a := name
	if email != "" {
		a = strings.TrimSpace(a + " <" + email + ">")
	}
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return -1
		}
		return r
	}, a)
}

func gitConfig(key string) string {
	out, err := exec.Command("git", "config", "--get", key).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
