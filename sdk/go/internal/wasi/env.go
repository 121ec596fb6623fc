//go:build wasip1

package wasi

import (
	"log"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

// The Go runtime reads its environment and writes os.Stdout/os.Stderr
// through WASI preview1, which Wisp's host does not connect to the request
// for a core module. The component's environment and stderr are reached
// through wasi:cli instead, once per instance (one instance serves one
// request).

var instanceReady bool

// SetupInstance copies the component's environment (the manifest's
// environment, wisp up -e) into os.Environ, applies GOGC from it (the
// runtime read its own environment before the host could provide it), and
// points the standard logger at the component's stderr.
func SetupInstance() {
	if instanceReady {
		return
	}
	instanceReady = true
	m := cabi.Save()
	ret := cabi.Alloc(8, 4)
	GetEnvironment(ret) // list<tuple<string, string>>
	list, n := cabi.U32(ret, 0), cabi.U32(ret, 4)
	for i := range n {
		e := list + 16*i
		os.Setenv(cabi.String(cabi.U32(e, 0), cabi.U32(e, 4)), cabi.String(cabi.U32(e, 8), cabi.U32(e, 12)))
	}
	cabi.Release(m)
	switch v := os.Getenv("GOGC"); v {
	case "":
	case "off":
		debug.SetGCPercent(-1)
	default:
		if pct, err := strconv.Atoi(v); err == nil {
			debug.SetGCPercent(pct)
		}
	}
	log.SetOutput(Stderr)
}

// Stderr writes to the component's wasi:cli stderr.
var Stderr = &streamWriter{}

// CloseStderr drops the stderr stream at the end of a call.
func CloseStderr() {
	if Stderr.stream != 0 {
		DropOutputStream(Stderr.stream)
		Stderr.stream = 0
	}
}

type streamWriter struct {
	stream uint32
	err    error
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.stream == 0 {
		s.stream = GetStderr()
	}
	n, err := WriteStream(s.stream, p)
	s.err = err
	return n, err
}
