//go:build wasip1

package crontrigger

import (
	"fmt"
	"runtime/debug"
	"time"
	"unsafe"

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

// handleCronEvent is spin-cron's
// handle-cron-event: func(metadata: metadata) -> result<_, error>
// with metadata = record { timestamp: u64 }, flattened to the timestamp.
//
//go:wasmexport handle-cron-event
func handleCronEvent(timestamp uint64) uint32 {
	wasi.SetupInstance()
	defer wasi.CloseStderr()
	ret = [4]uint32{}
	if err := call(time.Unix(int64(timestamp), 0).UTC()); err != nil {
		errMsg = append(errMsg[:0], err.Error()...)
		ret[0] = 1 // err
		ret[1] = 0 // other
		ret[2] = uint32(uintptr(unsafe.Pointer(unsafe.SliceData(errMsg))))
		ret[3] = uint32(len(errMsg))
	}
	return uint32(uintptr(unsafe.Pointer(&ret[0])))
}

func call(tick time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			// The stack goes to the component's log; the host logs the
			// error itself.
			fmt.Fprintf(wasi.Stderr, "crontrigger: panic handling the event of %s: %v\n%s", tick.Format(time.RFC3339), v, debug.Stack())
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	if handler == nil {
		return fmt.Errorf("no handler registered (call crontrigger.Handle from init)")
	}
	return handler(tick)
}
