package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

const (
	inRead        = "wasi:io/streams#[method]input-stream.read"
	inBlockRead   = "wasi:io/streams#[method]input-stream.blocking-read"
	inSkip        = "wasi:io/streams#[method]input-stream.skip"
	inSubscribe   = "wasi:io/streams#[method]input-stream.subscribe"
	outCheck      = "wasi:io/streams#[method]output-stream.check-write"
	outWrite      = "wasi:io/streams#[method]output-stream.write"
	outBWF        = "wasi:io/streams#[method]output-stream.blocking-write-and-flush"
	outFlush      = "wasi:io/streams#[method]output-stream.flush"
	outBFlush     = "wasi:io/streams#[method]output-stream.blocking-flush"
	outSubscribe  = "wasi:io/streams#[method]output-stream.subscribe"
	outZeroes     = "wasi:io/streams#[method]output-stream.write-zeroes"
	outBZeroes    = "wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush"
	outSplice     = "wasi:io/streams#[method]output-stream.splice"
	outBSplice    = "wasi:io/streams#[method]output-stream.blocking-splice"
	pollReady     = "wasi:io/poll#[method]pollable.ready"
	pollBlock     = "wasi:io/poll#[method]pollable.block"
	pollPoll      = "wasi:io/poll#poll"
	errDebugStr   = "wasi:io/error#[method]error.to-debug-string"
	fsErrCodeFunc = "wasi:filesystem/types#filesystem-error-code"
)

// isClosed reports whether a result is err(stream-error.closed).
func isClosed(v any) bool {
	r, ok := v.(cabi.Result)
	if !ok || !r.IsErr {
		return false
	}
	x, ok := r.Value.(cabi.Variant)
	return ok && x.Case == streamErrClosed
}

func TestInputStreamPartialReadsThenClosed(t *testing.T) {
	ctx := context.Background()
	s := NewInputStream(strings.NewReader("hello world"))
	if got := ok(t, call1(t, ctx, inRead, s, uint64(5))).([]byte); string(got) != "hello" {
		t.Fatalf("read 5 = %q", got)
	}
	if got := ok(t, call1(t, ctx, inSkip, s, uint64(1))).(uint64); got != 1 {
		t.Fatalf("skip 1 = %d", got)
	}
	if got := ok(t, call1(t, ctx, inBlockRead, s, uint64(100))).([]byte); string(got) != "world" {
		t.Fatalf("read 100 = %q", got)
	}
	for _, fn := range []string{inRead, inBlockRead, inSkip} {
		if r := call1(t, ctx, fn, s, uint64(1)); !isClosed(r) {
			t.Fatalf("%s at EOF = %#v, want closed", fn, r)
		}
	}
	// A nil reader is an empty stream.
	if r := call1(t, ctx, inRead, NewInputStream(nil), uint64(1)); !isClosed(r) {
		t.Fatalf("nil reader read = %#v", r)
	}
}

// A blocking reader (a pipe) never makes read wait; blocking-read and the
// pollable wait for data.
func TestInputStreamOverBlockingReader(t *testing.T) {
	ctx := context.Background()
	pr, pw := io.Pipe()
	s := NewInputStream(pr)
	if got := ok(t, call1(t, ctx, inRead, s, uint64(10))).([]byte); len(got) != 0 {
		t.Fatalf("read with nothing written = %q", got)
	}
	p := call1(t, ctx, inSubscribe, s)
	if call1(t, ctx, pollReady, p).(bool) {
		t.Fatal("pollable ready before any data")
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		pw.Write([]byte("abc"))
		pw.Close()
	}()
	if _, err := call(t, ctx, pollBlock, p); err != nil {
		t.Fatal(err)
	}
	if !call1(t, ctx, pollReady, p).(bool) {
		t.Fatal("pollable not ready after block")
	}
	if got := ok(t, call1(t, ctx, inBlockRead, s, uint64(10))).([]byte); string(got) != "abc" {
		t.Fatalf("blocking-read = %q", got)
	}
	if r := call1(t, ctx, inBlockRead, s, uint64(10)); !isClosed(r) {
		t.Fatalf("after close = %#v", r)
	}
}

func TestInputStreamErrorIsLastOperationFailed(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	s := NewInputStream(io.MultiReader(strings.NewReader("x"), iotestErrReader{boom}))
	if got := ok(t, call1(t, ctx, inBlockRead, s, uint64(10))).([]byte); string(got) != "x" {
		t.Fatalf("first read = %q", got)
	}
	v := errOf(t, call1(t, ctx, inBlockRead, s, uint64(10))).(cabi.Variant)
	if v.Case != streamErrLastOperationFailed {
		t.Fatalf("case %d", v.Case)
	}
	ioErr, isIO := v.Value.(*IOError)
	if !isIO || !errors.Is(ioErr, boom) {
		t.Fatalf("payload %#v", v.Value)
	}
	if got := call1(t, ctx, errDebugStr, ioErr); got != "boom" {
		t.Fatalf("to-debug-string = %q", got)
	}
	if got := call1(t, ctx, fsErrCodeFunc, ioErr).(cabi.Option); got.Some {
		t.Fatalf("filesystem-error-code of a non-fs error = %#v", got)
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// recorder is an OutputStream that permits a fixed number of bytes per
// check-write and records the size of each write.
type recorder struct {
	mu      sync.Mutex
	permit  uint64
	writes  []int
	data    bytes.Buffer
	flushes int
}

func (r *recorder) CheckWrite() (uint64, error) { return r.permit, nil }
func (r *recorder) Write(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if uint64(len(p)) > r.permit {
		return errWriteExceedsPermit
	}
	r.writes = append(r.writes, len(p))
	r.data.Write(p)
	return nil
}
func (r *recorder) Flush() error                        { r.flushes++; return nil }
func (r *recorder) BlockingFlush(context.Context) error { return nil }
func (r *recorder) Subscribe() wasiio.Pollable          { return readyPollable{} }

func TestBlockingWriteAndFlushChunksAt4096(t *testing.T) {
	ctx := context.Background()
	r := &recorder{permit: 1 << 20}
	content := bytes.Repeat([]byte("0123456789"), 1000) // 10000 bytes
	ok(t, call1(t, ctx, outBWF, wasiio.OutputStream(r), content))
	if !bytes.Equal(r.data.Bytes(), content) {
		t.Fatal("content differs")
	}
	want := []int{4096, 4096, 1808}
	if len(r.writes) != len(want) {
		t.Fatalf("writes %v, want %v", r.writes, want)
	}
	for i := range want {
		if r.writes[i] != want[i] {
			t.Fatalf("writes %v, want %v", r.writes, want)
		}
	}
	if r.flushes != 1 {
		t.Fatalf("%d flushes", r.flushes)
	}

	// A smaller check-write permit is respected too.
	r = &recorder{permit: 1000}
	ok(t, call1(t, ctx, outBZeroes, wasiio.OutputStream(r), uint64(2500)))
	if r.data.Len() != 2500 || len(r.writes) != 3 || r.writes[0] != 1000 || bytes.Count(r.data.Bytes(), []byte{0}) != 2500 {
		t.Fatalf("zeroes: writes %v, %d bytes", r.writes, r.data.Len())
	}
}

func TestOutputStreamOverWriter(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	s := NewOutputStream(&buf)
	permit := ok(t, call1(t, ctx, outCheck, s)).(uint64)
	if permit < 4096 {
		t.Fatalf("check-write = %d", permit)
	}
	ok(t, call1(t, ctx, outWrite, s, []byte("hello ")))
	ok(t, call1(t, ctx, outFlush, s))
	ok(t, call1(t, ctx, outZeroes, s, uint64(2)))
	// More than the buffer holds: blocking-write-and-flush waits for room.
	big := bytes.Repeat([]byte("x"), 3*writeBufferSize)
	ok(t, call1(t, ctx, outBWF, s, big))
	ok(t, call1(t, ctx, outBFlush, s))
	want := "hello \x00\x00" + string(big)
	if buf.String() != want {
		t.Fatalf("wrote %d bytes, want %d", buf.Len(), len(want))
	}
	// Writing more than check-write permits fails the stream operation.
	v := errOf(t, call1(t, ctx, outWrite, s, make([]byte, writeBufferSize+1))).(cabi.Variant)
	if v.Case != streamErrLastOperationFailed {
		t.Fatalf("oversized write: %#v", v)
	}
	v = errOf(t, call1(t, ctx, outZeroes, s, uint64(1)<<40)).(cabi.Variant)
	if v.Case != streamErrLastOperationFailed {
		t.Fatalf("oversized write-zeroes: %#v", v)
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	return len(p), nil
}

// A writer that never returns fills the buffer, then makes the guest wait
// only as long as the request lives.
func TestOutputStreamStuckWriterBoundedByContext(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	s := NewOutputStream(w)
	bg := context.Background()
	ok(t, call1(t, bg, outWrite, s, make([]byte, writeBufferSize)))
	if got := ok(t, call1(t, bg, outCheck, s)).(uint64); got != 0 {
		t.Fatalf("check-write with a full buffer = %d", got)
	}
	p := call1(t, bg, outSubscribe, s)
	if call1(t, bg, pollReady, p).(bool) {
		t.Fatal("pollable ready with a full buffer")
	}
	ctx, cancel := context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	if _, err := call(t, ctx, outBWF, s, []byte("more")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking-write-and-flush on a stuck writer: %v", err)
	}
	if _, err := call(t, ctx, outBFlush, s); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocking-flush on a stuck writer: %v", err)
	}
	close(w.release)
	ok(t, call1(t, bg, outBFlush, s))
	if !call1(t, bg, pollReady, p).(bool) {
		t.Fatal("pollable not ready after drain")
	}
	if w.n != writeBufferSize {
		t.Fatalf("writer got %d bytes", w.n)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestOutputStreamWriterErrorIsSticky(t *testing.T) {
	ctx := context.Background()
	s := NewOutputStream(failWriter{})
	ok(t, call1(t, ctx, outWrite, s, []byte("x")))
	v := errOf(t, call1(t, ctx, outBFlush, s)).(cabi.Variant)
	if v.Case != streamErrLastOperationFailed || call1(t, ctx, errDebugStr, v.Value) != "disk on fire" {
		t.Fatalf("blocking-flush: %#v", v)
	}
	// The stream stays failed.
	for _, fn := range []string{outCheck, outFlush} {
		if v := errOf(t, call1(t, ctx, fn, s)).(cabi.Variant); v.Case != streamErrLastOperationFailed {
			t.Fatalf("%s after failure: %#v", fn, v)
		}
	}
}

func TestSplice(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	dst := NewOutputStream(&buf)
	src := NewInputStream(strings.NewReader("splice me"))
	if n := ok(t, call1(t, ctx, outSplice, dst, src, uint64(6))).(uint64); n != 6 {
		t.Fatalf("splice = %d", n)
	}
	if n := ok(t, call1(t, ctx, outBSplice, dst, src, uint64(100))).(uint64); n != 3 {
		t.Fatalf("blocking-splice = %d", n)
	}
	if r := call1(t, ctx, outBSplice, dst, src, uint64(100)); !isClosed(r) {
		t.Fatalf("splice at EOF = %#v", r)
	}
	ok(t, call1(t, ctx, outBFlush, dst))
	if buf.String() != "splice me" {
		t.Fatalf("spliced %q", buf.String())
	}
}
