//go:build wasip1

package mqtttrigger

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
	"github.com/wisp-dev/wisp/sdk/go/internal/wasi"
)

// The host reads the result after the export has returned, so neither the
// return area nor the error message may live on the stack or in arena
// memory that could be reused: both are package-level. ret is
// result<_, error> with error = variant { other(string) }: the result's
// discriminant in byte 0, the variant's case in byte 4, the string's
// address and length at 8 and 12. errMsg holds the message's bytes; the
// GC keeps them (the variable refers to them) and never moves them.
var (
	ret    [4]uint32
	errMsg []byte
)

// handleMessage is spin-mqtt's
// handle-message: func(message: payload, metadata: metadata) -> result<_, error>
// with metadata = record { topic: string }, flattened to the message's and
// the topic's address and length.
//
//go:wasmexport handle-message
func handleMessage(msgPtr, msgLen, topicPtr, topicLen uint32) uint32 {
	wasi.SetupInstance()
	defer wasi.CloseStderr()
	// The host wrote both into memory it got from cabi_realloc: copy them
	// out before the handler allocates.
	payload := cabi.CopyBytes(msgPtr, msgLen)
	topic := cabi.String(topicPtr, topicLen)
	ret = [4]uint32{}
	if err := call(payload, topic); err != nil {
		errMsg = append(errMsg[:0], err.Error()...)
		ret[0] = 1 // err
		ret[1] = 0 // other
		ret[2] = uint32(uintptr(unsafe.Pointer(unsafe.SliceData(errMsg))))
		ret[3] = uint32(len(errMsg))
	}
	return uint32(uintptr(unsafe.Pointer(&ret[0])))
}

func call(payload []byte, topic string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// The stack goes to the component's log; the host logs the
			// error itself.
			fmt.Fprintf(wasi.Stderr, "mqtttrigger: panic handling a message on %q: %v\n%s", topic, v, debug.Stack())
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	if handler == nil {
		return fmt.Errorf("no handler registered (call mqtttrigger.Handle from init)")
	}
	return handler(payload, topic)
}
