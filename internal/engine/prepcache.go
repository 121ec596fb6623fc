package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// The prepared cache keeps prepare's output on disk next to wazero's
// compilation cache: with wazero's cache warm, the rewrite passes are most
// of what is left of Compile for a big (standard-Go) module, and they
// produce the same output for the same input every time.
//
// An entry is keyed by the sha256 of the input wasm, under a directory named
// after prepareVersion. The directory is as trusted as wazero's own cache
// (per node and user), but an entry is still checked before use: a torn,
// truncated or bit-flipped file is ignored and rewritten, never trusted.

// prepareVersion names the output format of prepare. Bump it whenever
// prepare or any rewrite pass it runs (MergeData, Restorable, LazyTable,
// Instrument) may produce different output for the same input, or when
// preparedModule changes: entries of other versions are then never read
// (they live in another directory, which can be deleted by hand).
// TestPrepareVersion pins prepare's output for the test fixtures and fails
// when it changes, as a reminder.
const prepareVersion = 2

// prepCacheSubdir is the directory under Config.CacheDir that holds entries.
const prepCacheSubdir = "wisp-prepared"

// prepEntryMagic starts every entry file; the sha256 of the rest of the
// file follows it, then the gob-encoded prepEntry without its wasm, then
// the wasm.
const prepEntryMagic = "wisp prepared module\n"

// maxPrepEntry bounds what a read will load: well above any module the
// engine can run (a wasm32 module plus its data image), small enough that
// a garbage file cannot make the host allocate without limit.
const maxPrepEntry = 1 << 30

// preparedModule is prepare's output: everything Compile needs besides the
// input bytes.
type preparedModule struct {
	Wasm []byte // the rewritten module wazero compiles
	// Interrupt and Start are rewrite.Instrumented's export names.
	Interrupt, Start string
	// Image, Stripped, MemPages, Globals and Reason are
	// rewrite.RestorableModule's (its Wasm is not kept).
	Image    []rewrite.Segment
	Stripped bool
	MemPages uint32
	Globals  []rewrite.Global
	Reason   string
	Data     rewrite.DataStats // what rewrite.MergeData did
}

// prepEntry is what an entry file holds after the header: the module and
// what it was made from, so that a file renamed or copied under another
// key is not mistaken for the right one.
type prepEntry struct {
	Version int
	Input   [sha256.Size]byte
	Module  preparedModule
}

// prepCacheStats counts cache outcomes, for tests.
var prepCacheStats struct {
	hits, misses, bad atomic.Int64
}

// prepCacheDir returns the entry directory for a Config.CacheDir ("" for
// none).
func prepCacheDir(cacheDir string) string {
	if cacheDir == "" {
		return ""
	}
	return filepath.Join(cacheDir, prepCacheSubdir, fmt.Sprintf("v%d", prepareVersion))
}

// cachedPrepare returns prepare(wasm), from the entry in dir if there is a
// valid one, else computed and (best effort) stored. With dir "" it is
// prepare. fromCache reports whether the result came from disk.
func cachedPrepare(dir string, wasm []byte) (p *preparedModule, fromCache bool, err error) {
	if dir == "" {
		p, err = prepare(wasm)
		return p, false, err
	}
	key := sha256.Sum256(wasm)
	path := filepath.Join(dir, hex.EncodeToString(key[:]))
	if p, err := readPrepEntry(path, key); err == nil {
		prepCacheStats.hits.Add(1)
		return p, true, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		prepCacheStats.bad.Add(1)
	}
	prepCacheStats.misses.Add(1)
	if p, err = prepare(wasm); err != nil {
		return nil, false, err // not cached: rare, and the error is cheap to redo
	}
	// A failed write only costs the next Compile the rewrite again; the
	// module itself is fine, so the error is dropped.
	_ = writePrepEntry(dir, path, key, p)
	return p, false, nil
}

// dropPrepEntry removes wasm's entry from dir, for an entry that read well
// but whose module wazero refused.
func dropPrepEntry(dir string, wasm []byte) {
	key := sha256.Sum256(wasm)
	os.Remove(filepath.Join(dir, hex.EncodeToString(key[:])))
}

// readPrepEntry reads and checks the entry at path. Any error means the
// entry is unusable (os.ErrNotExist: there is none).
func readPrepEntry(path string, key [sha256.Size]byte) (*preparedModule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxPrepEntry {
		return nil, errors.New("not a regular file of sane size")
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	hdr := len(prepEntryMagic) + sha256.Size
	if len(b) < hdr || string(b[:len(prepEntryMagic)]) != prepEntryMagic {
		return nil, errors.New("bad header")
	}
	body := b[hdr:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[len(prepEntryMagic):hdr]) {
		return nil, errors.New("checksum mismatch")
	}
	var e prepEntry
	r := bytes.NewReader(body)
	if err := gob.NewDecoder(r).Decode(&e); err != nil {
		return nil, err
	}
	if e.Version != prepareVersion || e.Input != key {
		return nil, errors.New("entry for another input or version")
	}
	// The rest of the file is the wasm, used in place rather than copied
	// (the reader is an io.ByteReader, so gob read no further than its
	// value).
	e.Module.Wasm = body[len(body)-r.Len():]
	if !bytes.HasPrefix(e.Module.Wasm, wasmMagic) {
		return nil, errors.New("entry holds no wasm")
	}
	return &e.Module, nil
}

// writePrepEntry stores p at path atomically: a reader sees the old entry,
// none, or the whole new one. The file is not synced; after a crash the
// checksum rejects whatever is left of it.
func writePrepEntry(dir, path string, key [sha256.Size]byte, p *preparedModule) (err error) {
	// The wasm, most of the entry, follows the gob value raw: gob would
	// copy it twice more on the way in.
	meta := prepEntry{Version: prepareVersion, Input: key, Module: *p}
	meta.Module.Wasm = nil
	var body bytes.Buffer
	if err := gob.NewEncoder(&body).Encode(meta); err != nil {
		return err
	}
	h := sha256.New()
	h.Write(body.Bytes())
	h.Write(p.Wasm)
	sum := h.Sum(nil)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// CreateTemp makes the file with mode 0600.
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.WriteString(prepEntryMagic); err != nil {
		return err
	}
	if _, err = f.Write(sum); err != nil {
		return err
	}
	if _, err = f.Write(body.Bytes()); err != nil {
		return err
	}
	if _, err = f.Write(p.Wasm); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
