//go:build wasip1

// Package wasi binds the wasi:http, wasi:io and wasi:cli imports the SDK
// uses and the stream helpers the HTTP server and client share.
package wasi

import (
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"runtime"
	"strings"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

const (
	// MaxRead is the most asked of blocking-read at once (the cabi arena
	// holds it).
	MaxRead = 64 << 10
	// MaxWrite is blocking-write-and-flush's guaranteed budget.
	MaxWrite = 4096
)

// WriteStream writes p to an output-stream in chunks of at most MaxWrite
// bytes with blocking-write-and-flush.
func WriteStream(stream uint32, p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), MaxWrite)]
		m := cabi.Save()
		ret := cabi.Alloc(12, 4)
		// The chunk's pointer is passed to the import, so its array is on
		// the heap (Go never moves heap objects); KeepAlive holds it for
		// the call.
		OutputStreamBlockingWriteAndFlush(stream, unsafe.SliceData(chunk), uint32(len(chunk)), ret)
		runtime.KeepAlive(chunk)
		if cabi.U8(ret, 0) != 0 {
			err := StreamError(ret + 4)
			cabi.Release(m)
			return n, err
		}
		cabi.Release(m)
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// ReadStream reads from an input-stream with blocking-read: at least one
// byte, io.EOF when the stream is closed.
func ReadStream(stream uint32, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		m := cabi.Save()
		ret := cabi.Alloc(12, 4)
		// result<list<u8>, stream-error>
		InputStreamBlockingRead(stream, uint64(min(len(p), MaxRead)), ret)
		if cabi.U8(ret, 0) != 0 {
			err := StreamError(ret + 4)
			cabi.Release(m)
			return 0, err
		}
		n := copy(p, cabi.Bytes(cabi.U32(ret, 4), cabi.U32(ret, 8)))
		cabi.Release(m)
		if n > 0 {
			return n, nil
		}
	}
}

// StreamError converts the stream-error at address p (variant {
// last-operation-failed(error), closed }), dropping its error resource.
func StreamError(p uint32) error {
	if cabi.U8(p, 0) == 1 {
		return io.EOF
	}
	e := cabi.U32(p, 4)
	ret := cabi.Alloc(8, 4)
	ErrorToDebugString(e, ret)
	msg := cabi.String(cabi.U32(ret, 0), cabi.U32(ret, 4))
	DropError(e)
	return errors.New("stream failed: " + msg)
}

// ReadFields copies a fields resource's entries into an http.Header.
func ReadFields(fields uint32) http.Header {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(8, 4)
	FieldsEntries(fields, ret)
	list, n := cabi.U32(ret, 0), cabi.U32(ret, 4)
	header := make(http.Header, n)
	for i := range n {
		e := list + 16*i // tuple<string, list<u8>>
		name := textproto.CanonicalMIMEHeaderKey(cabi.String(cabi.U32(e, 0), cabi.U32(e, 4)))
		header[name] = append(header[name], cabi.String(cabi.U32(e, 8), cabi.U32(e, 12)))
	}
	return header
}

// NewFields makes a fields resource from h. Names the host refuses
// (forbidden hop-by-hop fields such as connection or transfer-encoding,
// malformed names or values) are dropped, as net/http drops the hop-by-hop
// headers it manages itself.
func NewFields(h http.Header) uint32 {
	m := cabi.Save()
	defer cabi.Release(m)
	fields := NewFieldsResource()
	ret := cabi.Alloc(8, 4)
	for k, vs := range h {
		name := strings.ToLower(k)
		for _, v := range vs {
			FieldsAppend(fields, name, v, ret) // result<_, header-error>
		}
	}
	return fields
}

// ReadStreamNow reads what an input-stream has without waiting: 0 bytes
// and no error when nothing is there yet, io.EOF when it is closed.
func ReadStreamNow(stream uint32, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(12, 4)
	InputStreamRead(stream, uint64(min(len(p), MaxRead)), ret) // result<list<u8>, stream-error>
	if cabi.U8(ret, 0) != 0 {
		return 0, StreamError(ret + 4)
	}
	return copy(p, cabi.Bytes(cabi.U32(ret, 4), cabi.U32(ret, 8))), nil
}

// WaitAny blocks until one of the pollables is ready.
func WaitAny(pollables ...uint32) {
	m := cabi.Save()
	defer cabi.Release(m)
	list := cabi.Alloc(uint32(4*len(pollables)), 4)
	for i, p := range pollables {
		cabi.PutU32(list, uint32(4*i), p)
	}
	ret := cabi.Alloc(8, 4)
	Poll(list, uint32(len(pollables)), ret) // list<u32>: the ready ones
}
