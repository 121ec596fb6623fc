package wasi

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wisp-dev/wisp/internal/appfs"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

const fsT = "wasi:filesystem/types#[method]descriptor."

// appFS builds the file system a component granted these files sees.
func appFS(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	dir := t.TempDir()
	var granted []lockedapp.File
	i := 0
	for dest, body := range files {
		src := filepath.Join(dir, "f"+string(rune('a'+i)))
		i++
		if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		granted = append(granted, lockedapp.File{Source: src, Destination: dest})
	}
	fsys, err := appfs.New(granted)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// fsCtx returns a context granting the files and the preopened root.
func fsCtx(t *testing.T) (context.Context, any) {
	t.Helper()
	ctx := WithCtx(context.Background(), &Ctx{FS: appFS(t, map[string]string{
		"/index.html":          "<h1>hi</h1>",
		"/static/css/site.css": "body{}",
		"/static/app.js":       "alert(1)",
	})})
	dirs := call1(t, ctx, "wasi:filesystem/preopens#get-directories").([]any)
	if len(dirs) != 1 || dirs[0].([]any)[1] != "/" {
		t.Fatalf("preopens %v", dirs)
	}
	return ctx, dirs[0].([]any)[0]
}

func openAt(t *testing.T, ctx context.Context, dir any, path string, oflags, dflags uint32) any {
	t.Helper()
	return call1(t, ctx, fsT+"open-at", dir, uint32(0), path, oflags, dflags)
}

// readAll drains an input stream.
func readAll(t *testing.T, ctx context.Context, s any) string {
	t.Helper()
	var out []byte
	for {
		r := call1(t, ctx, inBlockRead, s, uint64(3))
		if isClosed(r) {
			return string(out)
		}
		out = append(out, ok(t, r).([]byte)...)
	}
}

func TestPreopensWithoutFiles(t *testing.T) {
	if dirs := call1(t, context.Background(), "wasi:filesystem/preopens#get-directories").([]any); len(dirs) != 0 {
		t.Fatalf("preopens without FS: %v", dirs)
	}
}

func TestOpenAndRead(t *testing.T) {
	ctx, root := fsCtx(t)
	static := ok(t, openAt(t, ctx, root, "static", openFlagDirectory, descFlagRead))
	css := ok(t, openAt(t, ctx, static, "css/./site.css", 0, descFlagRead))
	if got := readAll(t, ctx, ok(t, call1(t, ctx, fsT+"read-via-stream", css, uint64(0)))); got != "body{}" {
		t.Fatalf("site.css = %q", got)
	}
	if got := readAll(t, ctx, ok(t, call1(t, ctx, fsT+"read-via-stream", css, uint64(4)))); got != "{}" {
		t.Fatalf("site.css from 4 = %q", got)
	}
	// ".." inside the tree is fine.
	app := ok(t, openAt(t, ctx, static, "css/../app.js", 0, descFlagRead))
	r := ok(t, call1(t, ctx, fsT+"read", app, uint64(5), uint64(0))).([]any)
	if string(r[0].([]byte)) != "alert" || r[1] != false {
		t.Fatalf("read = %v", r)
	}
	r = ok(t, call1(t, ctx, fsT+"read", app, uint64(100), uint64(5))).([]any)
	if string(r[0].([]byte)) != "(1)" || r[1] != true {
		t.Fatalf("read to end = %v", r)
	}
	st := ok(t, call1(t, ctx, fsT+"stat", app)).([]any)
	if st[0] != typeRegularFile || st[2] != uint64(8) || !st[4].(cabi.Option).Some {
		t.Fatalf("stat = %v", st)
	}
	st = ok(t, call1(t, ctx, fsT+"stat-at", root, uint32(0), "static/css")).([]any)
	if st[0] != typeDirectory {
		t.Fatalf("stat-at dir = %v", st)
	}
	if ty := ok(t, call1(t, ctx, fsT+"get-type", static)); ty != typeDirectory {
		t.Fatalf("get-type = %v", ty)
	}
	if fl := ok(t, call1(t, ctx, fsT+"get-flags", app)); fl != descFlagRead {
		t.Fatalf("get-flags = %v", fl)
	}
	again := ok(t, openAt(t, ctx, root, "static/app.js", 0, descFlagRead))
	if !call1(t, ctx, fsT+"is-same-object", app, again).(bool) || call1(t, ctx, fsT+"is-same-object", app, css).(bool) {
		t.Fatal("is-same-object")
	}
	h1 := ok(t, call1(t, ctx, fsT+"metadata-hash", app))
	h2 := ok(t, call1(t, ctx, fsT+"metadata-hash-at", root, uint32(0), "static/app.js"))
	h3 := ok(t, call1(t, ctx, fsT+"metadata-hash", css))
	if !slices.Equal(h1.([]any), h2.([]any)) || slices.Equal(h1.([]any), h3.([]any)) {
		t.Fatalf("metadata hashes %v %v %v", h1, h2, h3)
	}
	ok(t, call1(t, ctx, fsT+"advise", app, uint64(0), uint64(8), uint32(1)))
	ok(t, call1(t, ctx, fsT+"sync", app))
	ok(t, call1(t, ctx, fsT+"sync-data", app))
	// Reading a directory as a file, or a file as a directory.
	if code := errOf(t, call1(t, ctx, fsT+"read-via-stream", static, uint64(0))); code != errIsDirectory {
		t.Fatalf("read-via-stream of a dir: %v", code)
	}
	if code := errOf(t, call1(t, ctx, fsT+"read-directory", app)); code != errNotDirectory {
		t.Fatalf("read-directory of a file: %v", code)
	}
	if code := errOf(t, openAt(t, ctx, root, "index.html", openFlagDirectory, descFlagRead)); code != errNotDirectory {
		t.Fatalf("open file as directory: %v", code)
	}
	for _, d := range []any{app, css, static, again} {
		d.(interface{ Drop() }).Drop()
	}
}

func TestPathsCannotEscape(t *testing.T) {
	ctx, root := fsCtx(t)
	static := ok(t, openAt(t, ctx, root, "static", 0, descFlagRead))
	for _, c := range []struct {
		dir  any
		path string
		code uint32
	}{
		{root, "..", errNotPermitted},
		{root, "../etc/passwd", errNotPermitted},
		{root, "static/../../index.html", errNotPermitted},
		{static, "../..", errNotPermitted},
		{static, "css/../../../index.html", errNotPermitted},
		{root, "/index.html", errNotPermitted},
		{root, "/etc/passwd", errNotPermitted},
		{root, "missing.txt", errNoEntry},
		{root, "", errNoEntry},
	} {
		if code := errOf(t, openAt(t, ctx, c.dir, c.path, 0, descFlagRead)); code != c.code {
			t.Errorf("open-at %q: code %v, want %v", c.path, code, c.code)
		}
		if code := errOf(t, call1(t, ctx, fsT+"stat-at", c.dir, uint32(0), c.path)); code != c.code {
			t.Errorf("stat-at %q: code %v, want %v", c.path, code, c.code)
		}
	}
	// Climbing back to the root from inside it is allowed.
	idx := ok(t, openAt(t, ctx, static, "../index.html", 0, descFlagRead))
	if got := readAll(t, ctx, ok(t, call1(t, ctx, fsT+"read-via-stream", idx, uint64(0)))); got != "<h1>hi</h1>" {
		t.Fatalf("index.html = %q", got)
	}
}

func TestReadDirectory(t *testing.T) {
	ctx, root := fsCtx(t)
	entries := func(dir any) [][2]any {
		s := ok(t, call1(t, ctx, fsT+"read-directory", dir))
		var out [][2]any
		for {
			o := ok(t, call1(t, ctx, "wasi:filesystem/types#[method]directory-entry-stream.read-directory-entry", s)).(cabi.Option)
			if !o.Some {
				return out
			}
			e := o.Value.([]any)
			out = append(out, [2]any{e[1], e[0]})
		}
	}
	got := entries(root)
	want := [][2]any{{"index.html", typeRegularFile}, {"static", typeDirectory}}
	if !slices.Equal(got, want) {
		t.Fatalf("root entries %v, want %v", got, want)
	}
	static := ok(t, openAt(t, ctx, root, "static", 0, descFlagRead))
	got = entries(static)
	want = [][2]any{{"app.js", typeRegularFile}, {"css", typeDirectory}}
	if !slices.Equal(got, want) {
		t.Fatalf("static entries %v, want %v", got, want)
	}
}

func TestWritesAreReadOnly(t *testing.T) {
	ctx, root := fsCtx(t)
	file := ok(t, openAt(t, ctx, root, "index.html", 0, descFlagRead))
	now := cabi.Variant{Case: 1}
	for _, c := range []struct {
		fn   string
		args []any
	}{
		{"open-at", []any{root, uint32(0), "index.html", uint32(0), descFlagRead | descFlagWrite}},
		{"open-at", []any{root, uint32(0), "new.txt", openFlagCreate, descFlagRead}},
		{"open-at", []any{root, uint32(0), "index.html", openFlagTruncate, descFlagRead}},
		{"open-at", []any{root, uint32(0), "static", uint32(0), descFlagMutateDirectory}},
		{"write-via-stream", []any{file, uint64(0)}},
		{"append-via-stream", []any{file}},
		{"write", []any{file, []byte("x"), uint64(0)}},
		{"set-size", []any{file, uint64(0)}},
		{"set-times", []any{file, now, now}},
		{"set-times-at", []any{root, uint32(0), "index.html", now, now}},
		{"create-directory-at", []any{root, "d"}},
		{"link-at", []any{root, uint32(0), "index.html", root, "l"}},
		{"remove-directory-at", []any{root, "static"}},
		{"rename-at", []any{root, "index.html", root, "x.html"}},
		{"symlink-at", []any{root, "index.html", "l"}},
		{"unlink-file-at", []any{root, "index.html"}},
	} {
		if code := errOf(t, call1(t, ctx, fsT+c.fn, c.args...)); code != errReadOnly {
			t.Errorf("%s %v: code %v, want read-only", c.fn, c.args[1:], code)
		}
	}
	if code := errOf(t, call1(t, ctx, fsT+"readlink-at", root, "index.html")); code != errInvalid {
		t.Errorf("readlink-at of a file: %v", code)
	}
	// The file is untouched.
	if got := readAll(t, ctx, ok(t, call1(t, ctx, fsT+"read-via-stream", file, uint64(0)))); got != "<h1>hi</h1>" {
		t.Fatalf("index.html = %q", got)
	}
}

func TestFilesystemErrorCode(t *testing.T) {
	ctx := context.Background()
	pathErr := &fs.PathError{Op: "read", Path: "x", Err: fs.ErrNotExist}
	if got := call1(t, ctx, fsErrCodeFunc, NewIOError(pathErr)); got != cabi.Some(errNoEntry) {
		t.Fatalf("filesystem-error-code = %v", got)
	}
}
