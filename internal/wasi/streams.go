package wasi

import (
	"context"
	"errors"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// The functions here serve every wasiio.InputStream and OutputStream, so
// stdio, files and wasi:http bodies share one implementation of the
// stream-error rules and of the blocking helpers.

// Cases of wasi:io/streams' stream-error variant.
const (
	streamErrLastOperationFailed = 0
	streamErrClosed              = 1
)

const (
	// blockingWriteLimit is the most blocking-write-and-flush (and
	// -write-zeroes-) writes per step: WASI documents 4096 bytes. Longer
	// contents are written in chunks of at most this size rather than
	// trapping, as a guest loses nothing by it.
	blockingWriteLimit = 4096
	// maxReadLen caps the guest-chosen length of one read, skip or splice:
	// streams may return less than asked, and this keeps a guest from
	// making the host allocate gigabytes.
	maxReadLen = 1 << 20
)

func streamsInterface() component.Interface {
	return iface("io/streams", map[string]component.HostFunc{
		"[method]input-stream.read":                             inputRead,
		"[method]input-stream.blocking-read":                    inputBlockingRead,
		"[method]input-stream.skip":                             inputSkip,
		"[method]input-stream.blocking-skip":                    inputBlockingSkip,
		"[method]input-stream.subscribe":                        inputSubscribe,
		"[method]output-stream.check-write":                     outputCheckWrite,
		"[method]output-stream.write":                           outputWrite,
		"[method]output-stream.blocking-write-and-flush":        outputBlockingWriteAndFlush,
		"[method]output-stream.flush":                           outputFlush,
		"[method]output-stream.blocking-flush":                  outputBlockingFlush,
		"[method]output-stream.subscribe":                       outputSubscribe,
		"[method]output-stream.write-zeroes":                    outputWriteZeroes,
		"[method]output-stream.blocking-write-zeroes-and-flush": outputBlockingWriteZeroesAndFlush,
		"[method]output-stream.splice":                          outputSplice,
		"[method]output-stream.blocking-splice":                 outputBlockingSplice,
	})
}

// streamResult turns a stream operation's outcome into its
// result<T, stream-error>. The request's context ending is not a stream
// error: it is returned as the call's error so the guest unwinds.
func streamResult(ctx context.Context, ok any, err error) ([]any, error) {
	if err == nil {
		return []any{cabi.Ok(ok)}, nil
	}
	if errors.Is(err, wasiio.ErrClosed) {
		return []any{cabi.Err(cabi.Variant{Case: streamErrClosed})}, nil
	}
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return nil, cerr
	}
	ioErr, isIO := err.(*IOError)
	if !isIO {
		ioErr = NewIOError(err)
	}
	return []any{cabi.Err(cabi.Variant{Case: streamErrLastOperationFailed, Value: ioErr})}, nil
}

// readResult is streamResult for reads: bytes that arrived with an error
// are delivered first (streams keep reporting the error afterwards).
func readResult(ctx context.Context, data []byte, err error) ([]any, error) {
	if len(data) > 0 || err == nil {
		if data == nil {
			data = []byte{}
		}
		return []any{cabi.Ok(data)}, nil
	}
	return streamResult(ctx, nil, err)
}

func inputArgs(args []any) (wasiio.InputStream, uint64, error) {
	s, err := arg[wasiio.InputStream](args, 0)
	if err != nil {
		return nil, 0, err
	}
	n, err := arg[uint64](args, 1)
	return s, min(n, maxReadLen), err
}

func inputRead(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, n, err := inputArgs(args)
	if err != nil {
		return nil, err
	}
	data, err := s.Read(n)
	return readResult(ctx, data, err)
}

func inputBlockingRead(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, n, err := inputArgs(args)
	if err != nil {
		return nil, err
	}
	data, err := s.BlockingRead(ctx, n)
	return readResult(ctx, data, err)
}

func inputSkip(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, n, err := inputArgs(args)
	if err != nil {
		return nil, err
	}
	data, err := s.Read(n)
	if len(data) > 0 {
		err = nil
	}
	return streamResult(ctx, uint64(len(data)), err)
}

func inputBlockingSkip(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, n, err := inputArgs(args)
	if err != nil {
		return nil, err
	}
	data, err := s.BlockingRead(ctx, n)
	if len(data) > 0 {
		err = nil
	}
	return streamResult(ctx, uint64(len(data)), err)
}

func inputSubscribe(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.InputStream](args, 0)
	if err != nil {
		return nil, err
	}
	return []any{s.Subscribe()}, nil
}

func outputCheckWrite(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	n, err := s.CheckWrite()
	return streamResult(ctx, n, err)
}

func outputWrite(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	p, err := arg[[]byte](args, 1)
	if err != nil {
		return nil, err
	}
	return streamResult(ctx, nil, s.Write(p))
}

func outputBlockingWriteAndFlush(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	p, err := arg[[]byte](args, 1)
	if err != nil {
		return nil, err
	}
	err = blockingWrite(ctx, s, uint64(len(p)), func(off, n uint64) []byte { return p[off : off+n] })
	return streamResult(ctx, nil, err)
}

func outputFlush(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	return streamResult(ctx, nil, s.Flush())
}

func outputBlockingFlush(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	err = s.Flush()
	if err == nil {
		err = s.BlockingFlush(ctx)
	}
	return streamResult(ctx, nil, err)
}

func outputSubscribe(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	return []any{s.Subscribe()}, nil
}

func outputWriteZeroes(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	n, err := arg[uint64](args, 1)
	if err != nil {
		return nil, err
	}
	// Check before allocating: n is the guest's and must not exceed what
	// check-write permits anyway.
	permit, err := s.CheckWrite()
	if err == nil && n > permit {
		err = errors.New("write-zeroes exceeds check-write")
	}
	if err == nil {
		err = s.Write(make([]byte, n))
	}
	return streamResult(ctx, nil, err)
}

func outputBlockingWriteZeroesAndFlush(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	s, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, err
	}
	n, err := arg[uint64](args, 1)
	if err != nil {
		return nil, err
	}
	var zeroes [blockingWriteLimit]byte
	err = blockingWrite(ctx, s, n, func(_, n uint64) []byte { return zeroes[:n] })
	return streamResult(ctx, nil, err)
}

func outputSplice(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	dst, src, n, err := spliceArgs(args)
	if err != nil {
		return nil, err
	}
	permit, err := dst.CheckWrite()
	if err != nil {
		return streamResult(ctx, nil, err)
	}
	if n = min(n, permit); n == 0 {
		return streamResult(ctx, uint64(0), nil)
	}
	data, err := src.Read(n)
	return spliceWrite(ctx, dst, data, err)
}

func outputBlockingSplice(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	dst, src, n, err := spliceArgs(args)
	if err != nil {
		return nil, err
	}
	permit, err := waitWritable(ctx, dst)
	if err != nil {
		return streamResult(ctx, nil, err)
	}
	if n = min(n, permit); n == 0 {
		return streamResult(ctx, uint64(0), nil)
	}
	data, err := src.BlockingRead(ctx, n)
	return spliceWrite(ctx, dst, data, err)
}

func spliceArgs(args []any) (wasiio.OutputStream, wasiio.InputStream, uint64, error) {
	dst, err := arg[wasiio.OutputStream](args, 0)
	if err != nil {
		return nil, nil, 0, err
	}
	src, n, err := inputArgs(args[1:])
	return dst, src, n, err
}

// spliceWrite writes what a splice read; a read error (closed included)
// is the splice's error only if nothing was read.
func spliceWrite(ctx context.Context, dst wasiio.OutputStream, data []byte, readErr error) ([]any, error) {
	if len(data) == 0 {
		if readErr != nil {
			return streamResult(ctx, nil, readErr)
		}
		return streamResult(ctx, uint64(0), nil)
	}
	if err := dst.Write(data); err != nil {
		return streamResult(ctx, nil, err)
	}
	return streamResult(ctx, uint64(len(data)), nil)
}

// blockingWrite is the loop WASI documents for blocking-write-and-flush:
// wait for check-write to permit bytes, write at most blockingWriteLimit of
// them, repeat, then flush and wait for the flush. chunk(off, n) returns
// the n bytes at off.
func blockingWrite(ctx context.Context, s wasiio.OutputStream, total uint64, chunk func(off, n uint64) []byte) error {
	for off := uint64(0); off < total; {
		permit, err := waitWritable(ctx, s)
		if err != nil {
			return err
		}
		n := min(permit, blockingWriteLimit, total-off)
		if err := s.Write(chunk(off, n)); err != nil {
			return err
		}
		off += n
	}
	if err := s.Flush(); err != nil {
		return err
	}
	return s.BlockingFlush(ctx)
}

// waitWritable blocks until check-write permits at least one byte.
func waitWritable(ctx context.Context, s wasiio.OutputStream) (uint64, error) {
	for {
		permit, err := s.CheckWrite()
		if err != nil || permit > 0 {
			return permit, err
		}
		p := s.Subscribe()
		err = p.Block(ctx)
		if d, ok := p.(component.Dropper); ok {
			d.Drop()
		}
		if err != nil {
			return 0, err
		}
	}
}
