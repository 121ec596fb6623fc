package redis

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// This file is a minimal RESP2 client for execute. go-redis's Do() answers
// a status reply ("+OK") and a bulk string alike, but Spin's execute
// returns them as different redis-result cases, so execute speaks the wire
// protocol itself. Replies are read into a small tree:
//
//	simple string  respStatus
//	error          respError (a value inside arrays, an error at the top)
//	integer        int64
//	bulk string    []byte; the null bulk string is nil
//	array          []any; the null array is nil
//
// Every reply is bounded: the reader charges each value respValueCost plus
// its payload against a byte budget and refuses to allocate past it, so a
// hostile or huge reply costs at most about the budget in host memory.

// respStatus is a simple-string reply.
type respStatus string

// respError is an error reply: the server's line, as "CODE detail".
type respError string

func (e respError) Error() string { return string(e) }

// errReplyTooLarge reports a reply over the byte budget. The connection is
// left mid-reply, so it must be closed.
var errReplyTooLarge = errors.New("redis reply exceeds the size limit")

const (
	// respValueCost is what every value costs against the budget besides
	// its payload; Spin counts the in-memory size of each result the same
	// way (size_of::<RedisResult>() is 32 bytes).
	respValueCost = 32
	// respMaxDepth bounds nesting: values 100 levels deep, as redis-rs.
	respMaxDepth = 100
	// respBufSize is the reader's and writer's buffer.
	respBufSize = 32 << 10
)

// respConn is one RESP2 connection. It is not safe for concurrent use.
// After any error other than a respError the reply stream is out of step
// and the connection must be closed.
type respConn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newRESPConn(nc net.Conn) *respConn {
	return &respConn{nc: nc, br: bufio.NewReaderSize(nc, respBufSize), bw: bufio.NewWriterSize(nc, respBufSize)}
}

func (c *respConn) Close() error { return c.nc.Close() }

// do sends one command (an array of bulk strings) and reads its reply,
// charging it against limit bytes. The exchange ends at ctx's deadline,
// or after fallback if ctx has none, and as soon as ctx is cancelled. A
// top-level error reply is returned as a respError.
func (c *respConn) do(ctx context.Context, args [][]byte, limit int, fallback time.Duration) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline, hasDeadline := ctx.Deadline()
	if !hasDeadline {
		deadline = time.Now().Add(fallback)
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// Cancellation interrupts blocked reads and writes at once.
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	reply, err := c.roundTrip(args, limit)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if hasDeadline { // the conn's deadline fired just before ctx's
				return nil, context.DeadlineExceeded
			}
			return nil, fmt.Errorf("redis did not answer within %v", fallback)
		}
		return nil, err
	}
	if e, isErr := reply.(respError); isErr {
		return nil, e
	}
	return reply, nil
}

func (c *respConn) roundTrip(args [][]byte, limit int) (any, error) {
	writeCommand(c.bw, args)
	if err := c.bw.Flush(); err != nil { // also reports a failed write
		return nil, err
	}
	r := respReader{br: c.br, budget: limit}
	return r.value(0)
}

// writeCommand writes args as a RESP array of bulk strings, the form
// servers accept for every command. w keeps the first write error for
// Flush to return.
func writeCommand(w *bufio.Writer, args [][]byte) {
	var num [24]byte
	w.WriteByte('*')
	w.Write(strconv.AppendInt(num[:0], int64(len(args)), 10))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteByte('$')
		w.Write(strconv.AppendInt(num[:0], int64(len(a)), 10))
		w.WriteString("\r\n")
		w.Write(a)
		w.WriteString("\r\n")
	}
}

// respReader reads one reply within a byte budget.
type respReader struct {
	br     *bufio.Reader
	budget int
}

func (r *respReader) charge(n int) error {
	if n < 0 || n > r.budget {
		return errReplyTooLarge
	}
	r.budget -= n
	return nil
}

// value reads one value; depth is its nesting level (0 at the top).
func (r *respReader) value(depth int) (any, error) {
	if depth >= respMaxDepth {
		return nil, fmt.Errorf("redis reply nests deeper than %d levels", respMaxDepth)
	}
	if err := r.charge(respValueCost); err != nil {
		return nil, err
	}
	kind, err := r.br.ReadByte()
	if err != nil {
		return nil, unexpectedEOF(err)
	}
	switch kind {
	case '+':
		line, err := r.line()
		return respStatus(line), err
	case '-':
		line, err := r.line()
		return respError(line), err
	case ':':
		return r.integer()
	case '$':
		n, err := r.integer()
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil // the null bulk string: -1 (any negative, as redis-rs)
		}
		if n > int64(r.budget) {
			return nil, errReplyTooLarge
		}
		if err := r.charge(int(n)); err != nil {
			return nil, err
		}
		// The budget bounds n, so the allocation is what the caller allowed.
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r.br, b); err != nil {
			return nil, unexpectedEOF(err)
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return nil, errors.New("redis protocol error: bulk string not terminated by CRLF")
		}
		return b[:n:n], nil
	case '*':
		n, err := r.integer()
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil // the null array: -1 (any negative, as redis-rs)
		}
		if n > int64(r.budget/respValueCost) { // each element costs at least that
			return nil, errReplyTooLarge
		}
		out := make([]any, 0, min(n, 1024)) // grown as elements arrive
		for range n {
			v, err := r.value(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	// RESP3 types (after a guest's HELLO 3) and garbage alike: the stream
	// cannot be followed further.
	return nil, fmt.Errorf("redis protocol error: unsupported reply type %q", kind)
}

// line reads the rest of a line up to CRLF, charging its length.
func (r *respReader) line() (string, error) {
	var buf []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if err := r.charge(len(chunk)); err != nil {
			return "", err
		}
		buf = append(buf, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", unexpectedEOF(err)
		}
	}
	if len(buf) < 2 || buf[len(buf)-2] != '\r' {
		return "", errors.New("redis protocol error: line not terminated by CRLF")
	}
	return string(buf[:len(buf)-2]), nil
}

func (r *respReader) integer() (int64, error) {
	line, err := r.line()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("redis protocol error: bad integer %q", line)
	}
	return n, nil
}

// unexpectedEOF says that the server hung up mid-reply rather than
// returning a bare io.EOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("redis connection closed by the server before the reply was complete")
	}
	return err
}
