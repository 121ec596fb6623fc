//go:build wasip1

package redistrigger

import (
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
	"github.com/wisp-dev/wisp/sdk/go/internal/wasi"
)

// ret is the export's return area: result<_, error> with error an enum
// { success, error }: the discriminant at 0, the enum at 1. It is static,
// so the host may read it after the export returns.
var ret [2]uint8

//go:wasmexport fermyon:spin/inbound-redis#handle-message
func handleMessage(p, n uint32) uint32 {
	wasi.SetupInstance()
	defer wasi.CloseStderr()
	// The host wrote the payload into memory it got from cabi_realloc.
	payload := cabi.CopyBytes(p, n)
	ret = [2]uint8{}
	if err := call(payload); err != nil {
		fmt.Fprintf(wasi.Stderr, "redistrigger: %v\n", err)
		ret = [2]uint8{1, 1}
	}
	return uint32(uintptr(unsafe.Pointer(&ret[0])))
}

func call(payload []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic handling a message: %v\n%s", v, debug.Stack())
		}
	}()
	if handler == nil {
		return fmt.Errorf("no handler registered (call redistrigger.Handle from init)")
	}
	return handler(payload)
}
