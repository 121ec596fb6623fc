package loader

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

var update = flag.Bool("update", false, "rewrite testdata/apps/*/expected.json")

// appDirPlaceholder stands for the app directory in golden files, so that
// they do not depend on where the repository is checked out.
const appDirPlaceholder = "${APP_DIR}"

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/apps/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden apps: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := manifest.Load(filepath.Join(dir, "spin.toml"))
			if err != nil {
				t.Fatal(err)
			}
			app, err := Load(context.Background(), m, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(app, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			abs, _ := filepath.Abs(dir)
			resolved, _ := filepath.EvalSymlinks(abs)
			got = bytes.ReplaceAll(got, []byte(resolved), []byte(appDirPlaceholder))
			got = bytes.ReplaceAll(got, []byte(abs), []byte(appDirPlaceholder))

			golden := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("LockedApp differs from %s (run go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

// writeApp creates an app directory from a map of relative path → content.
func writeApp(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func appWith(dir string, c *manifest.Component) *manifest.Manifest {
	c.ID = "web"
	if c.Source == (manifest.Source{}) {
		c.Source.Path = "app.wasm"
	}
	return &manifest.Manifest{
		Path:        filepath.Join(dir, "spin.toml"),
		Application: manifest.Application{Name: "test"},
		Triggers: []manifest.Trigger{{Type: "http", ID: "t", Component: "web",
			HTTP: &manifest.HTTPTrigger{Route: "/..."}}},
		Components: map[string]*manifest.Component{"web": c},
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
}

func TestFilesSecurity(t *testing.T) {
	outside := writeApp(t, map[string]string{"secret.txt": "s", "dir/x.txt": "x"})

	tests := []struct {
		name    string
		files   []manifest.FilesMount
		setup   func(t *testing.T, dir string)
		wantErr string // substring; "" means success
		want    []string
	}{
		{name: "dotdot pattern", files: []manifest.FilesMount{{Pattern: "../secret.txt"}}, wantErr: `"../secret.txt" is outside the application directory`},
		{name: "dotdot glob", files: []manifest.FilesMount{{Pattern: "static/../../*"}}, wantErr: "outside the application directory"},
		{name: "dotdot source", files: []manifest.FilesMount{{Source: "../", Destination: "/x"}}, wantErr: "outside the application directory"},
		{name: "absolute pattern", files: []manifest.FilesMount{{Pattern: "/etc/passwd"}}, wantErr: `"/etc/passwd" is an absolute path`},
		{name: "absolute source", files: []manifest.FilesMount{{Source: "/etc", Destination: "/etc"}}, wantErr: "is an absolute path"},
		{name: "pattern ends in dotdot", files: []manifest.FilesMount{{Pattern: "static/.."}}, wantErr: `cannot end in "." or ".."`},
		{name: "harmless dotdot", files: []manifest.FilesMount{{Pattern: "static/../app.wasm"}}, want: []string{"/app.wasm"}},
		{name: "relative destination", files: []manifest.FilesMount{{Source: "static", Destination: "static"}}, wantErr: `destination "static" must be an absolute, clean guest path`},
		{name: "dotdot destination", files: []manifest.FilesMount{{Source: "static", Destination: "/a/../b"}}, wantErr: "must be an absolute, clean"},
		{name: "file at root destination", files: []manifest.FilesMount{{Source: "app.wasm", Destination: "/"}}, wantErr: `destination "/" is not a valid file name`},
		{name: "missing source", files: []manifest.FilesMount{{Source: "nope", Destination: "/nope"}}, wantErr: `source "nope" does not exist`},
		{name: "missing literal", files: []manifest.FilesMount{{Pattern: "nope.txt"}}, wantErr: `"nope.txt" does not exist and is not a glob pattern`},
		{name: "glob without matches", files: []manifest.FilesMount{{Pattern: "nothing/**/*"}}, want: nil},
		{
			name:  "symlinked file outside",
			files: []manifest.FilesMount{{Pattern: "static/*"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "static", "leak.txt"))
			},
			wantErr: `"static/leak.txt" is a symlink to`,
		},
		{
			name:  "symlinked file outside named literally",
			files: []manifest.FilesMount{{Pattern: "leak.txt"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "secret.txt"), filepath.Join(dir, "leak.txt"))
			},
			wantErr: "outside the application directory",
		},
		{
			name:  "symlinked dir outside reached by glob",
			files: []manifest.FilesMount{{Pattern: "**/*.txt"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "dir"), filepath.Join(dir, "static", "ext"))
			},
			wantErr: `"static/ext" is a symlink to`,
		},
		{
			name:  "symlinked dir outside as placement source",
			files: []manifest.FilesMount{{Source: "ext", Destination: "/ext"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "dir"), filepath.Join(dir, "ext"))
			},
			wantErr: "outside the application directory",
		},
		{
			name:  "symlinked dir outside that the glob cannot reach",
			files: []manifest.FilesMount{{Pattern: "static/*.html"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join(outside, "dir"), filepath.Join(dir, "ext"))
			},
			want: []string{"/static/index.html"},
		},
		{
			name:  "symlink inside the app is followed and resolved",
			files: []manifest.FilesMount{{Source: "static", Destination: "/s"}},
			setup: func(t *testing.T, dir string) {
				symlink(t, filepath.Join("..", "app.wasm"), filepath.Join(dir, "static", "app-link.wasm"))
				symlink(t, "..", filepath.Join(dir, "static", "loop")) // a cycle back to the app dir
			},
			// static/loop/static is static again: the cycle is cut there.
			want: []string{"/s/app-link.wasm", "/s/index.html", "/s/loop/app.wasm"},
		},
		{
			name:    "file and directory at one destination",
			files:   []manifest.FilesMount{{Source: "app.wasm", Destination: "/x"}, {Source: "static", Destination: "/x"}},
			wantErr: `"/x" is mounted as a file and is also the parent directory of "/x/index.html"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeApp(t, map[string]string{"app.wasm": "wasm", "static/index.html": "<html>"})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			app, err := Load(context.Background(), appWith(dir, &manifest.Component{Files: tt.files}), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `component "web"`) {
					t.Errorf("error %q does not name the component", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			resolvedDir, _ := filepath.EvalSymlinks(dir)
			for _, f := range app.Components[0].Files {
				got = append(got, f.Destination)
				if !within(resolvedDir, f.Source) {
					t.Errorf("file %s mounted from %s, outside %s", f.Destination, f.Source, resolvedDir)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("destinations = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocalSource(t *testing.T) {
	shared := writeApp(t, map[string]string{"x.wasm": "shared"})
	tests := []struct {
		name, path, wantErr string
	}{
		{name: "relative", path: "app.wasm"},
		{name: "outside the app dir is allowed", path: filepath.Join(shared, "x.wasm")},
		{name: "missing", path: "missing.wasm", wantErr: `component "web": source "missing.wasm" does not exist: build the component first`},
		{name: "directory", path: "static", wantErr: `source "static" is not a regular file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeApp(t, map[string]string{"app.wasm": "wasm", "static/index.html": "<html>"})
			app, err := Load(context.Background(), appWith(dir, &manifest.Component{Source: manifest.Source{Path: tt.path}}), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			src := app.Components[0].Source
			content, err := os.ReadFile(src.Path)
			if err != nil || !filepath.IsAbs(src.Path) {
				t.Fatalf("source path %q not absolute/readable: %v", src.Path, err)
			}
			if src.Digest != digestOf(content) {
				t.Errorf("digest = %s, want %s", src.Digest, digestOf(content))
			}
		})
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestRemoteSource(t *testing.T) {
	body := []byte("\x00asm remote component")
	good := digestOf(body)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/app.wasm":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	load := func(cache, url, digest string) (*lockedapp.LockedApp, error) {
		dir := writeApp(t, map[string]string{})
		m := appWith(dir, &manifest.Component{Source: manifest.Source{URL: url, Digest: digest}})
		return Load(context.Background(), m, Options{CacheDir: cache, HTTPClient: srv.Client()})
	}
	entries := func(cache string) []string {
		var names []string
		filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, filepath.Base(p))
			}
			return nil
		})
		return names
	}

	t.Run("miss then hit", func(t *testing.T) {
		cache := t.TempDir()
		hits.Store(0)
		for range 2 {
			app, err := load(cache, srv.URL+"/app.wasm", good)
			if err != nil {
				t.Fatal(err)
			}
			src := app.Components[0].Source
			if got, _ := os.ReadFile(src.Path); !bytes.Equal(got, body) || src.Digest != good {
				t.Fatalf("cached source %+v has wrong content", src)
			}
		}
		if n := hits.Load(); n != 1 {
			t.Errorf("server hit %d times, want 1 (second load must use the cache)", n)
		}
	})

	t.Run("corrupt cache entry is replaced", func(t *testing.T) {
		cache := t.TempDir()
		app, err := load(cache, srv.URL+"/app.wasm", good)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(app.Components[0].Source.Path, []byte("tampered"), 0o644)
		hits.Store(0)
		app, err = load(cache, srv.URL+"/app.wasm", good)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(app.Components[0].Source.Path); !bytes.Equal(got, body) || hits.Load() != 1 {
			t.Errorf("corrupt entry not re-downloaded (hits=%d)", hits.Load())
		}
	})

	t.Run("concurrent loads share one cache", func(t *testing.T) {
		cache := t.TempDir()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := load(cache, srv.URL+"/app.wasm", good); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if left := entries(cache); len(left) != 1 {
			t.Errorf("cache holds %v, want exactly the one entry", left)
		}
	})

	t.Run("digest mismatch", func(t *testing.T) {
		cache := t.TempDir()
		wrong := digestOf([]byte("something else"))
		_, err := load(cache, srv.URL+"/app.wasm", wrong)
		if err == nil {
			t.Fatal("no error")
		}
		for _, s := range []string{`component "web"`, "digest mismatch", "expected " + wrong, "got " + good} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not contain %q", err, s)
			}
		}
		if left := entries(cache); len(left) != 0 {
			t.Errorf("cache not empty after mismatch: %v", left)
		}
	})

	t.Run("404", func(t *testing.T) {
		cache := t.TempDir()
		_, err := load(cache, srv.URL+"/missing.wasm", good)
		if err == nil || !strings.Contains(err.Error(), "HTTP 404 Not Found") || !strings.Contains(err.Error(), "/missing.wasm") {
			t.Fatalf("error = %v, want HTTP 404 naming the URL", err)
		}
		if left := entries(cache); len(left) != 0 {
			t.Errorf("cache not empty after 404: %v", left)
		}
	})

	t.Run("bad digest", func(t *testing.T) {
		_, err := load(t.TempDir(), srv.URL+"/app.wasm", "md5:abc")
		if err == nil || !strings.Contains(err.Error(), `"sha256:<64 hex digits>"`) {
			t.Fatalf("error = %v", err)
		}
	})

	t.Run("credentials are not echoed", func(t *testing.T) {
		u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/missing.wasm"
		_, err := load(t.TempDir(), u, good)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error = %v, must fail without the password", err)
		}
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(m *manifest.Manifest)
		wantErr string
	}{
		{
			name: "registry source",
			edit: func(m *manifest.Manifest) {
				m.Components["web"].Source = manifest.Source{Registry: "r", Package: "p:q", Version: "1.0.0"}
			},
			wantErr: `component "web": registry sources are not supported yet`,
		},
		{
			name:    "undefined component",
			edit:    func(m *manifest.Manifest) { m.Triggers[0].Component = "nope" },
			wantErr: `trigger "t" (http): component "nope" is not defined`,
		},
		{
			name:    "unknown executor",
			edit:    func(m *manifest.Manifest) { m.Triggers[0].HTTP.Executor.Type = "cgi" },
			wantErr: `unknown executor type "cgi"`,
		},
		{
			name:    "undefined variable in template",
			edit:    func(m *manifest.Manifest) { m.Components["web"].Variables = map[string]string{"k": "{{ nope }}"} },
			wantErr: `component "web": variable "k" refers to undefined variable "nope"`,
		},
		{
			name:    "unmatched braces",
			edit:    func(m *manifest.Manifest) { m.Components["web"].AllowedOutboundHosts = []string{"https://{{ host"} },
			wantErr: "unmatched '{{'",
		},
		{
			name:    "invalid exclude pattern",
			edit:    func(m *manifest.Manifest) { m.Components["web"].ExcludeFiles = []string{"[a"} },
			wantErr: `exclude_files pattern "[a" is not a valid glob`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeApp(t, map[string]string{"app.wasm": "wasm"})
			m := appWith(dir, &manifest.Component{})
			tt.edit(m)
			_, err := Load(context.Background(), m, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestMayMatchBelow(t *testing.T) {
	tests := []struct {
		pattern, dir string
		want         bool
	}{
		{"static/*.html", "static", true},
		{"static/*.html", "other", false},
		{"static/*.html", "static/sub", false},
		{"**/*.txt", "a/b/c", true},
		{"a/**/x", "a/b", true},
		{"*/img/*", "x/img", true},
		{"*/img/*", "x/css", false},
		{"{a,b/c}/*", "b", true},
	}
	for _, tt := range tests {
		if got := mayMatchBelow(tt.pattern, tt.dir); got != tt.want {
			t.Errorf("mayMatchBelow(%q, %q) = %v, want %v", tt.pattern, tt.dir, got, tt.want)
		}
	}
}
