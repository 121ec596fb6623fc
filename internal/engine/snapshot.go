package engine

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/tetratelabs/wazero/api"

	"github.com/wisp-dev/wisp/internal/engine/rewrite"
)

// Pre-initialisation snapshots (Wizer's idea). A module's initialisation
// (a reactor's "_initialize": the Go runtime's start-up and every package's
// init, a C program's constructors) is the same work in every instance, and
// for a Go guest it is most of a request's cost. Module.Snapshot runs it
// once, captures the instance's state (linear memory and mutable globals)
// and returns a Module whose instances start from that state instead.
//
// What a snapshot may hold is only what every future instance would compute
// identically, so it is taken in an environment that gives the guest
// nothing per-request or secret to capture:
//
//   - no environment variables and no arguments: a component's environment
//     reaches the guest per request (the Wisp Go SDK reads it through
//     wasi:cli/environment at the start of each request, sdk/go/http);
//   - no files: an empty read-only directory is mounted at "/", so that the
//     guest's table of preopened directories (which the Go runtime reads
//     once, at start-up) matches the "/" mount that executors give every
//     instance, while no file content or open file is captured; file
//     descriptors the guest opened itself refer to host state that is not
//     captured, so in an instance they are invalid (EBADF), never another
//     request's file;
//   - no stdin, and stdout/stderr discarded;
//   - no host interfaces: Snapshot resolves imports like Instantiate, but a
//     host function that needs a request (every component host function)
//     traps without one, which makes Snapshot fail and the caller fall back
//     to initialising each instance;
//   - clocks: real, from the process's monotonic clock, so a clock base the
//     guest records (the Go runtime's start time) stays consistent with the
//     instances' clock. Snapshots live in memory only and are never written
//     to disk: a later process's monotonic clock would run backwards.
//   - randomness: fresh from crypto/rand, so seeds differ per process, but
//     every instance of one snapshot shares the seeds the guest drew during
//     initialisation. For Go guests that is the runtime's generator behind
//     math/rand, math/rand/v2's top-level functions and the map hash seed:
//     their sequences repeat from instance to instance. crypto/rand is not
//     affected: it asks the host (random_get) on every call. Guests that need
//     unpredictable values must use crypto/rand (or seed their own generator
//     from it per request).
//
// State outside memory and globals cannot be captured: a module whose code
// can change tables or element segments, that imports a memory, table or
// global, or whose data segments could not be moved out of the binary, is
// refused with ErrNotSnapshottable (rewrite.Restorable decides).

// ErrNotSnapshottable is returned by Snapshot for a module whose state
// cannot be captured.
var ErrNotSnapshottable = errors.New("module state cannot be snapshotted")

// snapshot is the captured state of a snapshot module's instances; the
// memory content is the Module's image.
type snapshot struct {
	pages   uint32   // memory size in pages
	globals []uint64 // by Module.globals
}

// snapshotPage is the granularity at which Snapshot drops all-zero memory
// from the image (a fresh pooled memory is zero already).
const snapshotPage = 4096

// Snapshot instantiates m (resolving imports as Instantiate does), calls
// init, an exported function without parameters or results, and returns a
// module whose instances start in the state init left them in, without
// running init or a start function again. The snapshot environment is
// described above: no environment, arguments, files or stdio, whatever
// WithWASI says in ctx. ctx's deadline bounds init.
//
// The result shares m's compiled code: it is usable until m is closed, and
// its own Close only drops the snapshot. Errors wrap ErrNotSnapshottable
// for a module whose state cannot be captured, and otherwise describe the
// failure of instantiation or of init (a trap, an exit, a timeout).
func (m *Module) Snapshot(ctx context.Context, imports Imports, init string) (*Module, error) {
	if m.eng.noSnapshots {
		return nil, fmt.Errorf("%w: snapshots are disabled (Config.NoSnapshots)", ErrNotSnapshottable)
	}
	if m.snapReason != "" {
		return nil, fmt.Errorf("%w: %s", ErrNotSnapshottable, m.snapReason)
	}
	// The snapshot environment: nothing per-request (see above).
	ctx = context.WithValue(ctx, wasiKey{}, &RunConfig{FS: fstest.MapFS{}})
	inst, err := m.Instantiate(ctx, imports)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	defer inst.Close(context.WithoutCancel(ctx))
	f := inst.Func(init)
	if f == nil || f.NumParams() != 0 || f.NumResults() != 0 {
		return nil, fmt.Errorf("snapshot: %q is not an exported function without parameters and results", init)
	}
	if err := f.Call(ctx, make([]uint64, f.StackSize())); err != nil {
		return nil, fmt.Errorf("snapshot: %s: %w", init, err)
	}

	s := &snapshot{globals: make([]uint64, len(m.globals))}
	for k, g := range m.globals {
		eg := inst.mod.ExportedGlobal(g.Export)
		if eg == nil {
			return nil, fmt.Errorf("snapshot: global %d is not exported", g.Index)
		}
		s.globals[k] = eg.Get()
	}
	var image []rewrite.Segment
	if mem := memoryOf(inst.mod); mem != nil {
		size := mem.Size()
		s.pages = size / pageSize
		buf, ok := mem.Read(0, size)
		if !ok {
			return nil, errors.New("snapshot: memory unreadable")
		}
		image = nonZeroRuns(buf)
	}
	snap := *m
	snap.snap = s
	snap.image = image
	snap.pages = newPageImage(image)
	return &snap, nil
}

// nonZeroRuns copies the parts of mem that are not all zero, at
// snapshotPage granularity, into one buffer and returns them as segments.
func nonZeroRuns(mem []byte) []rewrite.Segment {
	type run struct{ a, b int }
	var runs []run
	total := 0
	for off := 0; off < len(mem); off += snapshotPage {
		end := min(off+snapshotPage, len(mem))
		if allZero(mem[off:end]) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].b == off {
			runs[n-1].b = end
		} else {
			runs = append(runs, run{off, end})
		}
		total += end - off
	}
	data := make([]byte, 0, total)
	segs := make([]rewrite.Segment, len(runs))
	for i, r := range runs {
		start := len(data)
		data = append(data, mem[r.a:r.b]...)
		segs[i] = rewrite.Segment{Offset: uint32(r.a), Data: data[start:len(data):len(data)]}
	}
	return segs
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// IsSnapshot reports whether m was made by Snapshot.
func (m *Module) IsSnapshot() bool { return m.snap != nil }

// SnapshotSize returns, for a module made by Snapshot, the size of the
// captured memory and how many of its bytes (whole non-zero 4 KiB pages)
// each instance copies; zeros otherwise. For diagnostics.
func (m *Module) SnapshotSize() (memory, copied int) {
	if m.snap == nil {
		return 0, 0
	}
	for _, s := range m.image {
		copied += len(s.Data)
	}
	return int(m.snap.pages) * pageSize, copied
}

// restore gives a fresh instance of a snapshot module the captured memory
// size and globals (its memory content came from the image, written by
// the memory allocator).
func (s *snapshot) restore(m *Module, mod api.Module) error {
	if mem := memoryOf(mod); mem != nil {
		if cur := mem.Size() / pageSize; s.pages > cur {
			if _, ok := mem.Grow(s.pages - cur); !ok {
				return errors.New("restoring snapshot: cannot grow memory to its snapshot size")
			}
		}
	}
	for k, g := range m.globals {
		mg, ok := mod.ExportedGlobal(g.Export).(api.MutableGlobal)
		if !ok {
			return fmt.Errorf("restoring snapshot: global %d is not exported", g.Index)
		}
		mg.Set(s.globals[k])
	}
	return nil
}
