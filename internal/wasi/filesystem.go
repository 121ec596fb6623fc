package wasi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// wasi:filesystem over Ctx.FS, read-only: the granted files are all a
// component may see (DESIGN §4), so every operation that would change
// anything answers error-code.read-only, and path resolution never leaves
// the preopened "/".

// Cases of wasi:filesystem/types' error-code enum (checked against the
// WIT by the tests).
const (
	errAccess       uint32 = 0
	errBadDesc      uint32 = 3
	errExist        uint32 = 7
	errInvalid      uint32 = 12
	errIO           uint32 = 13
	errIsDirectory  uint32 = 14
	errNoEntry      uint32 = 20
	errNotDirectory uint32 = 24
	errUnsupported  uint32 = 27
	errNotPermitted uint32 = 31
	errReadOnly     uint32 = 33
)

// Cases of descriptor-type.
const (
	typeUnknown     uint32 = 0
	typeBlockDevice uint32 = 1
	typeCharDevice  uint32 = 2
	typeDirectory   uint32 = 3
	typeFifo        uint32 = 4
	typeSymlink     uint32 = 5
	typeRegularFile uint32 = 6
	typeSocket      uint32 = 7
)

// Bits of descriptor-flags and open-flags.
const (
	descFlagRead            uint32 = 1 << 0
	descFlagWrite           uint32 = 1 << 1
	descFlagMutateDirectory uint32 = 1 << 5

	openFlagCreate    uint32 = 1 << 0
	openFlagDirectory uint32 = 1 << 1
	openFlagTruncate  uint32 = 1 << 3
)

// errorCode maps a Go file system error to an error-code.
func errorCode(err error) uint32 {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNoEntry
	case errors.Is(err, fs.ErrPermission):
		return errAccess
	case errors.Is(err, fs.ErrInvalid):
		return errInvalid
	case errors.Is(err, fs.ErrExist):
		return errExist
	case errors.Is(err, fs.ErrClosed):
		return errBadDesc
	}
	return errIO
}

func fsOK(v any) ([]any, error)                                       { return []any{cabi.Ok(v)}, nil }
func fsErr(code uint32) ([]any, error)                                { return []any{cabi.Err(code)}, nil }
func fsErrOf(err error) ([]any, error)                                { return fsErr(errorCode(err)) }
func readOnly(context.Context, *component.Call, []any) ([]any, error) { return fsErr(errReadOnly) }

func filesystemInterfaces() []component.Interface {
	ok := func(context.Context, *component.Call, []any) ([]any, error) { return fsOK(nil) }
	return []component.Interface{
		iface("filesystem/types", map[string]component.HostFunc{
			"[method]descriptor.read-via-stream":   descReadViaStream,
			"[method]descriptor.write-via-stream":  readOnly,
			"[method]descriptor.append-via-stream": readOnly,
			// advice and syncs change nothing a guest could observe.
			"[method]descriptor.advise":              ok,
			"[method]descriptor.sync-data":           ok,
			"[method]descriptor.sync":                ok,
			"[method]descriptor.get-flags":           descGetFlags,
			"[method]descriptor.get-type":            descGetType,
			"[method]descriptor.set-size":            readOnly,
			"[method]descriptor.set-times":           readOnly,
			"[method]descriptor.read":                descRead,
			"[method]descriptor.write":               readOnly,
			"[method]descriptor.read-directory":      descReadDirectory,
			"[method]descriptor.create-directory-at": readOnly,
			"[method]descriptor.stat":                descStat,
			"[method]descriptor.stat-at":             descStatAt,
			"[method]descriptor.set-times-at":        readOnly,
			"[method]descriptor.link-at":             readOnly,
			"[method]descriptor.open-at":             descOpenAt,
			"[method]descriptor.readlink-at":         descReadlinkAt,
			"[method]descriptor.remove-directory-at": readOnly,
			"[method]descriptor.rename-at":           readOnly,
			"[method]descriptor.symlink-at":          readOnly,
			"[method]descriptor.unlink-file-at":      readOnly,
			"[method]descriptor.is-same-object":      descIsSameObject,
			"[method]descriptor.metadata-hash":       descMetadataHash,
			"[method]descriptor.metadata-hash-at":    descMetadataHashAt,

			"[method]directory-entry-stream.read-directory-entry": readDirectoryEntry,

			"filesystem-error-code": filesystemErrorCode,
		}),
		iface("filesystem/preopens", map[string]component.HostFunc{
			"get-directories": getDirectories,
		}),
	}
}

// descriptor is the Go side of the descriptor resource: a file or
// directory of fsys by its fs.FS name ("." is the preopened root).
type descriptor struct {
	fsys fs.FS
	name string
	dir  bool

	mu   sync.Mutex
	file fs.File // opened on the first read, closed by Drop
}

// Drop closes the file the descriptor opened for read, if any.
func (d *descriptor) Drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.file != nil {
		d.file.Close()
		d.file = nil
	}
}

func getDirectories(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	fsys := ctxOf(ctx).FS
	if fsys == nil {
		return []any{[]any{}}, nil
	}
	root := &descriptor{fsys: fsys, name: ".", dir: true}
	return []any{[]any{[]any{root, "/"}}}, nil
}

// resolve joins a guest path to a directory's name lexically. ".." may
// climb only as far as the preopen; absolute paths are refused as WASI
// requires (paths are always relative to a descriptor). appfs has no
// symlinks, so lexical resolution is exact and path-flags do not matter.
func resolve(dir, p string) (string, uint32, bool) {
	if p == "" {
		return "", errNoEntry, false
	}
	if strings.HasPrefix(p, "/") {
		return "", errNotPermitted, false
	}
	var parts []string
	if dir != "." {
		parts = strings.Split(dir, "/")
	}
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", errNotPermitted, false
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, c)
		}
	}
	name := path.Join(parts...)
	if name == "" {
		name = "."
	}
	if !fs.ValidPath(name) {
		return "", errInvalid, false
	}
	return name, 0, true
}

// dirArgs returns the descriptor, which must be a directory, and the
// resolved name of the path argument at index i.
func dirArgs(args []any, i int) (d *descriptor, name string, code uint32, err error) {
	if d, err = arg[*descriptor](args, 0); err != nil {
		return nil, "", 0, err
	}
	p, err := arg[string](args, i)
	if err != nil {
		return nil, "", 0, err
	}
	if !d.dir {
		return d, "", errNotDirectory, nil
	}
	name, code, _ = resolve(d.name, p)
	return d, name, code, nil
}

func descType(m fs.FileMode) uint32 {
	switch {
	case m.IsDir():
		return typeDirectory
	case m.IsRegular():
		return typeRegularFile
	case m&fs.ModeSymlink != 0:
		return typeSymlink
	case m&fs.ModeNamedPipe != 0:
		return typeFifo
	case m&fs.ModeSocket != 0:
		return typeSocket
	case m&fs.ModeCharDevice != 0:
		return typeCharDevice
	case m&fs.ModeDevice != 0:
		return typeBlockDevice
	}
	return typeUnknown
}

// statRecord is a descriptor-stat. Only the modification time is known
// (appfs reports the host file's); link count is always 1.
func statRecord(fi fs.FileInfo) []any {
	mtime := cabi.None
	if t := fi.ModTime(); !t.IsZero() {
		mtime = cabi.Some(datetime(t))
	}
	return []any{descType(fi.Mode()), uint64(1), uint64(max(fi.Size(), 0)), cabi.None, mtime, cabi.None}
}

func descGetFlags(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	if _, err := arg[*descriptor](args, 0); err != nil {
		return nil, err
	}
	return fsOK(descFlagRead)
}

func descGetType(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	if d.dir {
		return fsOK(typeDirectory)
	}
	fi, err := fs.Stat(d.fsys, d.name)
	if err != nil {
		return fsErrOf(err)
	}
	return fsOK(descType(fi.Mode()))
}

func descStat(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	fi, err := fs.Stat(d.fsys, d.name)
	if err != nil {
		return fsErrOf(err)
	}
	return fsOK(statRecord(fi))
}

func descStatAt(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, name, code, err := dirArgs(args, 2)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return fsErr(code)
	}
	fi, err := fs.Stat(d.fsys, name)
	if err != nil {
		return fsErrOf(err)
	}
	return fsOK(statRecord(fi))
}

func descOpenAt(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, name, code, err := dirArgs(args, 2)
	if err != nil {
		return nil, err
	}
	oflags, err := arg[uint32](args, 3)
	if err != nil {
		return nil, err
	}
	dflags, err := arg[uint32](args, 4)
	if err != nil {
		return nil, err
	}
	if oflags&(openFlagCreate|openFlagTruncate) != 0 || dflags&(descFlagWrite|descFlagMutateDirectory) != 0 {
		return fsErr(errReadOnly)
	}
	if code != 0 {
		return fsErr(code)
	}
	fi, err := fs.Stat(d.fsys, name)
	if err != nil {
		return fsErrOf(err)
	}
	if oflags&openFlagDirectory != 0 && !fi.IsDir() {
		return fsErr(errNotDirectory)
	}
	return fsOK(&descriptor{fsys: d.fsys, name: name, dir: fi.IsDir()})
}

// descReadlinkAt: nothing is a symlink, so an existing path is invalid
// (as readlink(2) says of a non-link).
func descReadlinkAt(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, name, code, err := dirArgs(args, 1)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return fsErr(code)
	}
	if _, err := fs.Stat(d.fsys, name); err != nil {
		return fsErrOf(err)
	}
	return fsErr(errInvalid)
}

func descIsSameObject(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	o, err := arg[*descriptor](args, 1)
	if err != nil {
		return nil, err
	}
	return []any{d.fsys == o.fsys && d.name == o.name}, nil
}

func descMetadataHash(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	return metadataHash(d.fsys, d.name)
}

func descMetadataHashAt(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, name, code, err := dirArgs(args, 2)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return fsErr(code)
	}
	return metadataHash(d.fsys, name)
}

// metadataHash hashes what identifies the object and its version: name,
// type, size and modification time. Equal objects hash equal, as the WIT
// requires; nothing about the host leaks.
func metadataHash(fsys fs.FS, name string) ([]any, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return fsErrOf(err)
	}
	h := sha256.New()
	var b [8 * 3]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(fi.Mode()))
	binary.LittleEndian.PutUint64(b[8:], uint64(fi.Size()))
	binary.LittleEndian.PutUint64(b[16:], uint64(fi.ModTime().UnixNano()))
	h.Write([]byte(name))
	h.Write(b[:])
	sum := h.Sum(nil)
	return fsOK([]any{binary.LittleEndian.Uint64(sum[0:]), binary.LittleEndian.Uint64(sum[8:])})
}

func descRead(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	length, err := arg[uint64](args, 1)
	if err != nil {
		return nil, err
	}
	offset, err := arg[uint64](args, 2)
	if err != nil {
		return nil, err
	}
	if d.dir {
		return fsErr(errIsDirectory)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.file == nil {
		f, err := d.fsys.Open(d.name)
		if err != nil {
			return fsErrOf(err)
		}
		d.file = f
	}
	p := make([]byte, min(length, maxReadLen))
	var n int
	switch f := d.file.(type) {
	case io.ReaderAt:
		if offset > 1<<62 {
			return fsOK([]any{[]byte{}, true})
		}
		n, err = f.ReadAt(p, int64(offset))
	case io.ReadSeeker:
		if _, err = f.Seek(int64(min(offset, 1<<62)), io.SeekStart); err == nil {
			n, err = io.ReadFull(f, p)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
		}
	default:
		return fsErr(errUnsupported)
	}
	eof := err == io.EOF
	if err != nil && !eof {
		return fsErrOf(err)
	}
	return fsOK([]any{p[:n], eof})
}

func descReadViaStream(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	offset, err := arg[uint64](args, 1)
	if err != nil {
		return nil, err
	}
	if d.dir {
		return fsErr(errIsDirectory)
	}
	// The stream has its own open file, so it outlives (and does not
	// disturb) the descriptor.
	f, err := d.fsys.Open(d.name)
	if err != nil {
		return fsErrOf(err)
	}
	if offset > 0 {
		if s, ok := f.(io.Seeker); ok {
			_, err = s.Seek(int64(min(offset, 1<<62)), io.SeekStart)
		} else {
			_, err = io.CopyN(io.Discard, f, int64(min(offset, 1<<62)))
			if err == io.EOF {
				err = nil
			}
		}
		if err != nil {
			f.Close()
			return fsErrOf(err)
		}
	}
	return fsOK(&fileStream{f: f})
}

// fileStream is an input-stream over an open file. Local files never make
// a reader wait in the wasi:io sense, so reads are direct and its pollable
// is always ready.
type fileStream struct {
	mu sync.Mutex
	f  fs.File // nil once at end or dropped
}

func (s *fileStream) Read(n uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil, wasiio.ErrClosed
	}
	p := make([]byte, min(n, readChunk))
	k, err := s.f.Read(p)
	if k > 0 {
		return p[:k], nil
	}
	if err == io.EOF {
		s.closeLocked()
		return nil, wasiio.ErrClosed
	}
	if err != nil {
		s.closeLocked()
		return nil, err
	}
	return p[:0], nil
}

func (s *fileStream) BlockingRead(_ context.Context, n uint64) ([]byte, error) { return s.Read(n) }
func (s *fileStream) Subscribe() wasiio.Pollable                               { return readyPollable{} }

// Drop closes the file.
func (s *fileStream) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked()
}

func (s *fileStream) closeLocked() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func descReadDirectory(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[*descriptor](args, 0)
	if err != nil {
		return nil, err
	}
	if !d.dir {
		return fsErr(errNotDirectory)
	}
	entries, err := fs.ReadDir(d.fsys, d.name)
	if err != nil {
		return fsErrOf(err)
	}
	return fsOK(&dirEntryStream{entries: entries})
}

// dirEntryStream is the directory-entry-stream resource: a snapshot of the
// directory's entries ("." and ".." excluded, as WASI specifies).
type dirEntryStream struct {
	mu      sync.Mutex
	entries []fs.DirEntry
}

func readDirectoryEntry(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[*dirEntryStream](args, 0)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) == 0 {
		return fsOK(cabi.None)
	}
	e := s.entries[0]
	s.entries = s.entries[1:]
	return fsOK(cabi.Some([]any{descType(e.Type()), e.Name()}))
}

// filesystemErrorCode answers for errors that came from a file system
// operation (a file stream's read) and none for the rest (HTTP bodies...).
func filesystemErrorCode(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	e, err := arg[error](args, 0)
	if err != nil {
		return nil, err
	}
	var pe *fs.PathError
	if errors.As(e, &pe) {
		return []any{cabi.Some(errorCode(e))}, nil
	}
	return []any{cabi.None}, nil
}
