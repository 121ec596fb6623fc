// Package wasiio defines the Go shapes behind wasi:io's resources, so that
// every interface that hands out streams or pollables (wasi:cli stdio,
// wasi:filesystem, wasi:http bodies, wasi:sockets) implements the same
// three interfaces and wasi:io's host functions serve them all.
package wasiio

import (
	"context"
	"errors"
)

// ErrClosed is returned by streams at end of stream (stream-error::closed).
var ErrClosed = errors.New("stream closed")

// Pollable is the Go side of wasi:io/poll's pollable resource.
type Pollable interface {
	// Ready reports, without blocking, whether the event has happened.
	Ready() bool
	// Block waits until the event happens or ctx is done (the request's
	// deadline), returning ctx.Err() then.
	Block(ctx context.Context) error
}

// InputStream is the Go side of wasi:io/streams' input-stream.
type InputStream interface {
	// Read returns up to n bytes that are available now, possibly none
	// (non-blocking); ErrClosed at end of stream; any other error is a
	// last-operation-failed.
	Read(n uint64) ([]byte, error)
	// BlockingRead waits for at least one byte (or end of stream / ctx done).
	BlockingRead(ctx context.Context, n uint64) ([]byte, error)
	// Subscribe returns a pollable ready when data or end of stream is available.
	Subscribe() Pollable
}

// OutputStream is the Go side of wasi:io/streams' output-stream.
type OutputStream interface {
	// CheckWrite returns how many bytes Write accepts now (0: wait on Subscribe).
	CheckWrite() (uint64, error)
	// Write accepts at most the last CheckWrite's bytes; it must not block.
	Write(p []byte) error
	// Flush starts flushing; BlockingFlush waits for it.
	Flush() error
	BlockingFlush(ctx context.Context) error
	// Subscribe returns a pollable ready when CheckWrite would return > 0.
	Subscribe() Pollable
}
