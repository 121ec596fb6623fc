package logs

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// stream is one output (stdout or stderr) of one component.
type stream struct {
	sink    *Sink
	prefix  []byte    // "[id] "
	console io.Writer // nil when not shown

	mu   sync.Mutex
	file *os.File // nil without a log dir
}

// writeLines writes complete lines (p ends in '\n') to the file as they are
// and to the console prefixed. Errors are dropped: a full disk must not fail
// the guest's request.
func (st *stream) writeLines(p []byte) {
	st.mu.Lock()
	if st.file != nil {
		st.file.Write(p)
	}
	st.mu.Unlock()
	if st.console == nil {
		return
	}
	var b bytes.Buffer
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		b.Write(st.prefix)
		b.Write(p[:i+1])
		p = p[i+1:]
	}
	st.sink.consoleMu.Lock()
	st.console.Write(b.Bytes())
	st.sink.consoleMu.Unlock()
}

func (st *stream) close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.file == nil {
		return nil
	}
	err := st.file.Close()
	st.file = nil
	return err
}

// maxLine bounds a buffered line: a guest writing megabytes without a
// newline gets it cut into pieces rather than held in memory.
const maxLine = 64 << 10

// lineWriter buffers one instance's output and passes on whole lines.
type lineWriter struct {
	out *stream
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if i := bytes.LastIndexByte(w.buf, '\n'); i >= 0 {
		w.out.writeLines(w.buf[:i+1])
		w.buf = append(w.buf[:0], w.buf[i+1:]...)
	}
	if len(w.buf) >= maxLine {
		w.Close()
	}
	return len(p), nil
}

// Close flushes a final unterminated line.
func (w *lineWriter) Close() error {
	if len(w.buf) > 0 {
		w.out.writeLines(terminate(w.buf))
		w.buf = w.buf[:0]
	}
	return nil
}

// unbuffered emits each Write at once as whole lines.
type unbuffered struct{ out *stream }

func (u unbuffered) Write(p []byte) (int, error) {
	if len(p) > 0 {
		u.out.writeLines(terminate(p))
	}
	return len(p), nil
}

// terminate returns p ending in '\n' (copying when it must add one).
func terminate(p []byte) []byte {
	if len(p) > 0 && p[len(p)-1] == '\n' {
		return p
	}
	return append(p[:len(p):len(p)], '\n')
}

type nopCloser struct{ io.Writer }

// discard is what a nil Sink's Request returns: stateless, so shared.
var discard io.WriteCloser = nopCloser{io.Discard}

func (nopCloser) Close() error { return nil }
