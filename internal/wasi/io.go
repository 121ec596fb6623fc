package wasi

import (
	"context"
	"fmt"
	"reflect"

	"github.com/wisp-dev/wisp/internal/component"
)

// IOError is the Go side of wasi:io/error's error resource: the cause of a
// stream-error.last-operation-failed. Other host packages create it with
// NewIOError; wasi:filesystem's filesystem-error-code and wasi:http's
// http-error-code look into Err with errors.As.
type IOError struct {
	Err error
}

// NewIOError wraps err as an error resource.
func NewIOError(err error) *IOError { return &IOError{Err: err} }

// Error implements error, so an *IOError can itself be inspected.
func (e *IOError) Error() string {
	if e.Err == nil {
		return "i/o error"
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *IOError) Unwrap() error { return e.Err }

// ioInterfaces are wasi:io's error, poll and streams.
func ioInterfaces() []component.Interface {
	return []component.Interface{
		iface("io/error", map[string]component.HostFunc{
			"[method]error.to-debug-string": errorToDebugString,
		}),
		pollInterface(),
		streamsInterface(),
	}
}

func errorToDebugString(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	e, err := arg[error](args, 0)
	if err != nil {
		return nil, err
	}
	return []any{e.Error()}, nil
}

// arg returns args[i] as a T. A mismatch means the linker handed us a value
// its WIT type does not allow: a host bug, reported as a trap.
func arg[T any](args []any, i int) (T, error) {
	var zero T
	if i >= len(args) {
		return zero, fmt.Errorf("wasi: missing argument %d", i)
	}
	v, ok := args[i].(T)
	if !ok {
		return zero, fmt.Errorf("wasi: argument %d is %T, want %v", i, args[i], reflect.TypeFor[T]())
	}
	return v, nil
}
