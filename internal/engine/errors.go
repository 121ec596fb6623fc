package engine

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTimeout is wrapped by Run's error when the context's deadline ended the
// guest. The error also wraps context.DeadlineExceeded.
var ErrTimeout = errors.New("guest exceeded its deadline")

// TrapError is a guest trap (unreachable, out-of-bounds access, a failing
// host function, ...). It carries the guest's failure, never a host stack.
type TrapError struct {
	// Message is the one-line reason ("unreachable", "out of bounds memory
	// access"), with a note when the instance had reached its memory limit.
	Message string
	// Trace is the guest's wasm stack trace as reported by the runtime.
	Trace string
	// Err is the error a host function panicked with to abort the guest
	// (see HostFunc), nil for a trap raised by the guest itself. It lets
	// callers match their own sentinel errors with errors.Is.
	Err error
}

func (e *TrapError) Error() string { return "guest trapped: " + e.Message }

// Unwrap returns the host function's error, if any.
func (e *TrapError) Unwrap() error { return e.Err }

// ExitError is returned by Instance calls when the guest (or a host function
// acting for it, like wasi:cli/exit) asked to exit: WASI adapters implement
// exit with proc_exit. Code 0 is still an ExitError, because the call did not
// return normally and its results are undefined.
type ExitError struct {
	Code uint32
}

func (e *ExitError) Error() string { return fmt.Sprintf("guest exited with code %d", e.Code) }

// newTrapError splits a wazero error ("wasm error: unreachable\nwasm stack
// trace:\n\t...") into reason and trace.
func newTrapError(err error) *TrapError {
	msg, trace, _ := strings.Cut(err.Error(), "\n")
	// A start function's trap arrives as "start function[0] failed: wasm
	// error: unreachable"; the caller already says where it happened.
	if i := strings.Index(msg, "wasm error: "); i >= 0 {
		msg = msg[i+len("wasm error: "):]
	}
	return &TrapError{Message: msg, Trace: trace}
}

// noteMemory adds an out-of-memory hint to a trap. A refused memory.grow is
// invisible to the host (the guest sees -1 and usually aborts), so the best
// available signal is an instance whose memory is close to the limit.
func (e *TrapError) noteMemory(used, limit uint64) {
	if limit == 0 || used+limit/8 < limit {
		return
	}
	e.Message += fmt.Sprintf(" (linear memory %d of %d bytes in use: likely out of memory)", used, limit)
}
