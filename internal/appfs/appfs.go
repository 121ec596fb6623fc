// Package appfs is the read-only file system a component sees: exactly the
// files its manifest grants, at their destination paths, and nothing else of
// the host. Directories exist only as implied by those paths.
//
// The host file behind each entry is re-checked on every open: it must still
// be a regular file (not a symlink or device swapped in after the app was
// loaded), so a guest can never be pointed at another host path.
package appfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// FS is a virtual read-only file system. It implements fs.FS, fs.StatFS and
// fs.ReadDirFS; names are fs.ValidPath names ("static/a.txt", "." for the
// root).
type FS struct {
	files map[string]string   // guest name -> host source path
	dirs  map[string][]string // guest dir name -> sorted child base names
}

var (
	_ fs.StatFS    = (*FS)(nil)
	_ fs.ReadDirFS = (*FS)(nil)
)

// New builds the file system from a component's files. Destinations must be
// absolute, clean, slash-separated paths; a path used both as a file and as
// a directory, or twice, is an error.
func New(files []lockedapp.File) (fs.FS, error) {
	f := &FS{files: map[string]string{}, dirs: map[string][]string{".": nil}}
	children := map[string]map[string]bool{".": {}}
	for _, file := range files {
		name, err := guestName(file.Destination)
		if err != nil {
			return nil, err
		}
		if _, dup := f.files[name]; dup {
			return nil, fmt.Errorf("appfs: %s is mapped twice", file.Destination)
		}
		if _, isDir := children[name]; isDir {
			return nil, fmt.Errorf("appfs: %s is both a file and a directory", file.Destination)
		}
		f.files[name] = file.Source
		// Register the file in its parent, and each parent in its own parent.
		for child := name; child != "."; child = path.Dir(child) {
			dir := path.Dir(child)
			if _, isFile := f.files[dir]; isFile {
				return nil, fmt.Errorf("appfs: %s is both a file and a directory", "/"+dir)
			}
			if children[dir] == nil {
				children[dir] = map[string]bool{}
			}
			children[dir][path.Base(child)] = true
		}
	}
	for dir, set := range children {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		f.dirs[dir] = names
	}
	return f, nil
}

// guestName turns "/a/b.txt" into the fs.FS name "a/b.txt".
func guestName(dest string) (string, error) {
	if !strings.HasPrefix(dest, "/") || path.Clean(dest) != dest || dest == "/" {
		return "", fmt.Errorf("appfs: destination %q is not an absolute, clean file path", dest)
	}
	name := dest[1:]
	if !fs.ValidPath(name) {
		return "", fmt.Errorf("appfs: destination %q is not a valid path", dest)
	}
	return name, nil
}

// Open opens a file or directory. Only granted files and their implied
// directories exist; any other name, including "..", is fs.ErrNotExist or
// fs.ErrInvalid.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if entries, ok := f.dirs[name]; ok {
		return &dir{fsys: f, name: name, entries: entries}, nil
	}
	src, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return openHost(name, src)
}

// Stat returns a file's or directory's info.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return file.Stat()
}

// ReadDir lists a directory, sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if _, ok := f.dirs[name]; !ok {
		if _, isFile := f.files[name]; isFile {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
		}
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	d := &dir{fsys: f, name: name, entries: f.dirs[name]}
	return d.ReadDir(-1)
}

// openHost opens the host file only if it is, right now, a regular file, and
// checks that what was opened is the file that was checked (a symlink swapped
// in between Lstat and Open is caught by comparing the two).
func openHost(name, src string) (fs.File, error) {
	denied := &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	before, err := os.Lstat(src)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if !before.Mode().IsRegular() {
		return nil, denied
	}
	h, err := os.Open(src)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	after, err := h.Stat()
	if err != nil || !os.SameFile(before, after) {
		h.Close()
		return nil, denied
	}
	return &file{h: h, info: renamed{after, path.Base(name)}}, nil
}

// file is an open host file exposing only reads, so nothing can write
// through it even if a caller looks for io.Writer.
type file struct {
	h    *os.File
	info fs.FileInfo
}

func (f *file) Stat() (fs.FileInfo, error)                { return f.info, nil }
func (f *file) Read(p []byte) (int, error)                { return f.h.Read(p) }
func (f *file) ReadAt(p []byte, off int64) (int, error)   { return f.h.ReadAt(p, off) }
func (f *file) Seek(off int64, whence int) (int64, error) { return f.h.Seek(off, whence) }
func (f *file) Close() error                              { return f.h.Close() }

// renamed reports the guest's base name rather than the host's, so no host
// file name leaks into the guest.
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }

// dir is an open virtual directory.
type dir struct {
	fsys    *FS
	name    string
	entries []string
	off     int
}

func (d *dir) Stat() (fs.FileInfo, error) { return dirInfo(path.Base(d.name)), nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *dir) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if n > 0 && n < len(rest) {
		rest = rest[:n]
	}
	out := make([]fs.DirEntry, 0, len(rest))
	for _, base := range rest {
		child := path.Join(d.name, base)
		if _, isDir := d.fsys.dirs[child]; isDir {
			out = append(out, fs.FileInfoToDirEntry(dirInfo(base)))
			continue
		}
		out = append(out, &fileEntry{fsys: d.fsys, name: child})
	}
	d.off += len(rest)
	return out, nil
}

// fileEntry is a directory entry for a granted file; Info stats the host
// file lazily (and with the same checks as Open).
type fileEntry struct {
	fsys *FS
	name string
}

func (e *fileEntry) Name() string      { return path.Base(e.name) }
func (e *fileEntry) IsDir() bool       { return false }
func (e *fileEntry) Type() fs.FileMode { return 0 }
func (e *fileEntry) Info() (fs.FileInfo, error) {
	return e.fsys.Stat(e.name)
}

// dirInfo describes a virtual directory: read-only, no host metadata.
type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
