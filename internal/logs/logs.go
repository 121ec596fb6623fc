// Package logs collects guest output per component: each component's stdout
// and stderr go to <dir>/<id>_stdout.txt and <id>_stderr.txt (Spin's naming)
// and, unless quiet, to the console as whole lines prefixed "[id] ".
//
// Many instances of a component run at once. Each instance writes through
// its own line buffer (Request), so lines from concurrent instances never
// interleave mid-line, in the files or on the console.
package logs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Options controls what reaches the console.
type Options struct {
	// Quiet sends nothing to the console (the files are still written).
	Quiet bool
	// Follow lists the component ids shown on the console; empty means all.
	Follow []string
}

// Sink routes component output. A nil *Sink discards everything, which is
// handy in tests. It is safe for concurrent use.
type Sink struct {
	dir     string // "" writes no files
	console io.Writer
	follow  map[string]bool // nil: all

	consoleMu sync.Mutex // one console line at a time, across components

	mu      sync.Mutex
	streams map[string]*stream // "<id>_stdout" / "<id>_stderr"
	closed  bool
}

// New creates a sink writing files under dir ("" for none; created if
// missing) and lines to console (nil for none).
func New(dir string, console io.Writer, opts Options) (*Sink, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("logs: %w", err)
		}
	}
	s := &Sink{dir: dir, streams: map[string]*stream{}}
	if !opts.Quiet && console != nil {
		s.console = console
	}
	if len(opts.Follow) > 0 {
		s.follow = map[string]bool{}
		for _, id := range opts.Follow {
			s.follow[id] = true
		}
	}
	return s, nil
}

// Component returns the shared writers of a component. Every Write is
// emitted at once as whole lines (a missing final newline is added), so it
// suits host messages; a guest instance should use Request instead, whose
// buffering keeps a line written in pieces together.
func (s *Sink) Component(id string) (stdout, stderr io.Writer) {
	if s == nil {
		return io.Discard, io.Discard
	}
	return unbuffered{s.stream(id, "stdout")}, unbuffered{s.stream(id, "stderr")}
}

// Request returns line-buffered writers for one instance of a component.
// Closing them flushes a final unterminated line.
func (s *Sink) Request(id string) (stdout, stderr io.WriteCloser) {
	if s == nil {
		return discard, discard
	}
	return &lineWriter{out: s.stream(id, "stdout")}, &lineWriter{out: s.stream(id, "stderr")}
}

// Hostf writes a host message about a component (for example why a request
// failed) to the component's stderr log, where its developer looks.
func (s *Sink) Hostf(id, format string, args ...any) {
	if s == nil {
		return
	}
	s.stream(id, "stderr").writeLines(terminate([]byte(fmt.Sprintf(format, args...))))
}

// Close closes the log files. Writes after Close still reach the console.
func (s *Sink) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var first error
	for _, st := range s.streams {
		if err := st.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// stream returns (creating on first use) the destination of one component
// output.
func (s *Sink) stream(id, which string) *stream {
	key := id + "_" + which
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.streams[key]; ok {
		return st
	}
	st := &stream{sink: s, prefix: []byte("[" + id + "] ")}
	if s.console != nil && (s.follow == nil || s.follow[id]) {
		st.console = s.console
	}
	if s.dir != "" && !s.closed {
		// A file that cannot be opened must not fail the guest: the output
		// still reaches the console, and the error is reported there once.
		f, err := os.OpenFile(filepath.Join(s.dir, key+".txt"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil && s.console != nil {
			fmt.Fprintf(s.console, "wisp: cannot open log file: %v\n", err)
		}
		st.file = f
	}
	s.streams[key] = st
	return st
}
