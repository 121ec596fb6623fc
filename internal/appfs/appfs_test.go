package appfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/wisp-dev/wisp/internal/appfs"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// hostFiles writes files into a temp dir and returns their paths by name.
func hostFiles(t *testing.T, contents map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for name, body := range contents {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

func TestConformance(t *testing.T) {
	h := hostFiles(t, map[string]string{"a": "alpha", "b": "beta", "c": "gamma"})
	fsys, err := appfs.New([]lockedapp.File{
		{Source: h["a"], Destination: "/index.html"},
		{Source: h["b"], Destination: "/static/css/site.css"},
		{Source: h["c"], Destination: "/static/app.js"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "index.html", "static/css/site.css", "static/app.js"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "static/css/site.css")
	if err != nil || string(b) != "beta" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	// The guest sees its own name, not the host file's.
	st, err := fs.Stat(fsys, "index.html")
	if err != nil || st.Name() != "index.html" {
		t.Fatalf("Stat = %v, %v", st, err)
	}
}

func TestNothingElseReachable(t *testing.T) {
	h := hostFiles(t, map[string]string{"a": "alpha", "secret": "s3cret"})
	fsys, err := appfs.New([]lockedapp.File{{Source: h["a"], Destination: "/data/a.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"../secret", "data/../../secret", "/etc/passwd", "data/../data/a.txt", "./data/a.txt",
		"data/", "", "a", "secret", "data/secret", h["secret"], "etc/passwd",
	} {
		if f, err := fsys.Open(name); err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded", name)
		} else if !errors.Is(err, fs.ErrInvalid) && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v, want ErrInvalid or ErrNotExist", name, err)
		}
	}
}

func TestSymlinkSwappedInIsRefused(t *testing.T) {
	h := hostFiles(t, map[string]string{"a": "alpha", "secret": "s3cret"})
	fsys, err := appfs.New([]lockedapp.File{{Source: h["a"], Destination: "/a.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	// After loading, the granted file is replaced by a symlink elsewhere.
	if err := os.Remove(h["a"]); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(h["secret"], h["a"]); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(fsys, "a.txt"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("ReadFile through symlink = %v, want ErrPermission", err)
	}
	// A directory swapped in is refused too.
	os.Remove(h["a"])
	if err := os.Mkdir(h["a"], 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Open("a.txt"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Open of a directory = %v, want ErrPermission", err)
	}
}

func TestInvalidDestinations(t *testing.T) {
	h := hostFiles(t, map[string]string{"a": "alpha"})
	tests := [][]lockedapp.File{
		{{Source: h["a"], Destination: "relative.txt"}},
		{{Source: h["a"], Destination: "/a/../b"}},
		{{Source: h["a"], Destination: "/"}},
		{{Source: h["a"], Destination: "/a/"}},
		{{Source: h["a"], Destination: "/x"}, {Source: h["a"], Destination: "/x"}},
		{{Source: h["a"], Destination: "/x"}, {Source: h["a"], Destination: "/x/y"}},
		{{Source: h["a"], Destination: "/x/y"}, {Source: h["a"], Destination: "/x"}},
	}
	for _, files := range tests {
		if _, err := appfs.New(files); err == nil {
			t.Errorf("New(%v) succeeded", files)
		}
	}
}

func TestEmpty(t *testing.T) {
	fsys, err := appfs.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys); err != nil {
		t.Fatal(err)
	}
}
