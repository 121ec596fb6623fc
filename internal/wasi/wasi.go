// Package wasi implements the WASI 0.2 host interfaces (wasi:io, clocks,
// random, cli, filesystem, sockets) as component.Interface bindings. The
// functions are written against the 0.2.12 definitions, a superset of every
// 0.2.x release, so imports of 0.2.0 through 0.2.12 all bind to them.
//
// # Per-request state
//
// Host functions are shared by every instance; what differs per request
// (arguments, environment, stdio, granted files) travels in the call's
// context as a *Ctx. Executors attach it with WithCtx before calling the
// guest. A call without a Ctx sees an empty one: no arguments, no
// environment, empty stdin, discarded stdout/stderr, no file system.
//
// # Resources
//
// Resource values are plain Go values (see internal/component/cabi):
//
//	wasi:io/error.error            *IOError (NewIOError wraps any Go error)
//	wasi:io/poll.pollable          any wasiio.Pollable
//	wasi:io/streams.input-stream   any wasiio.InputStream
//	wasi:io/streams.output-stream  any wasiio.OutputStream
//	wasi:filesystem descriptor,    unexported types of this package
//	directory-entry-stream,
//	wasi:sockets network
//
// So another host package (wasi:http bodies, for instance) hands a stream or
// pollable to the guest by returning its own wasiio implementation as the
// own<input-stream> / own<pollable> result, and reports a failed stream
// operation by returning an error from it: the streams functions here wrap
// it with NewIOError into stream-error.last-operation-failed. Values that
// implement component.Dropper get Drop when the guest drops their handle.
// NewInputStream and NewOutputStream adapt an io.Reader / io.Writer.
//
// # Errors and exit
//
// Errors the WIT can express are results (error-code, stream-error).
// wasi:cli/exit returns an *ExitError from the host function, and a request
// whose deadline passes while the guest blocks (poll, blocking-read,
// blocking-flush, ...) returns the context's error: in both cases the linker
// turns the error into a trap whose cause is that error, so executors find
// it with errors.As(err, &exitErr) or errors.Is(err, context.DeadlineExceeded).
package wasi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"io/fs"
	"slices"
	"sync"

	"github.com/wisp-dev/wisp/internal/component"
)

// version is the WIT version the functions implement (see package doc).
const version = "@0.2.12"

// Ctx is the per-request state of the WASI interfaces. Create one per
// instance and do not copy it after first use.
type Ctx struct {
	// Args are the command-line arguments (get-arguments).
	Args []string
	// Env are the environment variables, in order (get-environment).
	Env [][2]string
	// Stdin is read by wasi:cli/stdin; nil is empty.
	Stdin io.Reader
	// Stdout and Stderr receive wasi:cli/stdout and stderr; nil discards.
	// Writes happen off the guest's thread (see NewOutputStream), so a slow
	// writer delays the guest only once the stream's buffer is full.
	Stdout, Stderr io.Writer
	// FS is the read-only file system preopened at "/"; nil grants none.
	FS fs.FS

	mu             sync.Mutex
	stdin          *readerStream
	stdout, stderr *writerStream
	seedOnce       sync.Once
	seedLo, seedHi uint64
}

type ctxKey struct{}

// WithCtx returns a context carrying c for the host functions.
func WithCtx(ctx context.Context, c *Ctx) context.Context {
	return context.WithValue(ctx, ctxKey{}, c)
}

// FromContext returns the Ctx attached by WithCtx, or nil.
func FromContext(ctx context.Context) *Ctx {
	c, _ := ctx.Value(ctxKey{}).(*Ctx)
	return c
}

// ctxOf is FromContext for host functions: without a Ctx they see a fresh
// empty one, which grants nothing.
func ctxOf(ctx context.Context) *Ctx {
	if c := FromContext(ctx); c != nil {
		return c
	}
	return &Ctx{}
}

// stdinStream returns the instance's one stdin pump: every get-stdin handle
// shares it, so two handles never race for the same bytes.
func (c *Ctx) stdinStream() *readerStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stdin == nil {
		c.stdin = newReaderStream(c.Stdin)
	}
	return c.stdin
}

// stdoutStream and stderrStream likewise share one writer pump each, which
// keeps the guest's writes in order and the writer single-threaded.
func (c *Ctx) stdoutStream() *writerStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stdout == nil {
		c.stdout = newWriterStream(c.Stdout)
	}
	return c.stdout
}

func (c *Ctx) stderrStream() *writerStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stderr == nil {
		c.stderr = newWriterStream(c.Stderr)
	}
	return c.stderr
}

// Writing reports whether the guest opened stdout or stderr, that is
// whether Flush may have anything to wait for (an executor can skip
// setting up a bounded wait when it does not).
func (c *Ctx) Writing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout != nil || c.stderr != nil
}

// Flush waits until everything the guest wrote to stdout and stderr has
// reached Ctx.Stdout and Ctx.Stderr, or ctx is done. Guests may end after a
// non-blocking write, so executors call it once the guest returns, before
// they read or close those writers.
func (c *Ctx) Flush(ctx context.Context) error {
	c.mu.Lock()
	streams := []*writerStream{c.stdout, c.stderr}
	c.mu.Unlock()
	for _, s := range streams {
		if s == nil {
			continue
		}
		if err := s.BlockingFlush(ctx); err != nil && ctx.Err() != nil {
			return err
		}
	}
	return nil
}

// insecureSeed is drawn once per Ctx: the WIT asks for the same value on
// every call within an instance.
func (c *Ctx) insecureSeed() (uint64, uint64) {
	c.seedOnce.Do(func() {
		var b [16]byte
		rand.Read(b[:])
		c.seedLo = binary.LittleEndian.Uint64(b[:8])
		c.seedHi = binary.LittleEndian.Uint64(b[8:])
	})
	return c.seedLo, c.seedHi
}

// Interfaces returns the bindings of every WASI 0.2 interface this package
// implements, ready for component.NewHost.
func Interfaces() []component.Interface {
	return slices.Concat(
		ioInterfaces(),
		clockInterfaces(),
		randomInterfaces(),
		cliInterfaces(),
		filesystemInterfaces(),
		socketInterfaces(),
	)
}

// iface builds an Interface of the versioned name "wasi:<name>".
func iface(name string, funcs map[string]component.HostFunc) component.Interface {
	return component.Interface{Name: "wasi:" + name + version, Funcs: funcs}
}
