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
}

func (e *TrapError) Error() string { return "guest trapped: " + e.Message }

// newTrapError splits a wazero error ("wasm error: unreachable\nwasm stack
// trace:\n\t...") into reason and trace.
func newTrapError(err error) *TrapError {
	msg, trace, _ := strings.Cut(err.Error(), "\n")
	msg = strings.TrimPrefix(msg, "wasm error: ")
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
