package logs_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wisp-dev/wisp/internal/logs"
)

// syncBuffer is a console that tolerates concurrent writers (the race
// detector checks the sink serialises them anyway).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFilesAndConsole(t *testing.T) {
	dir := t.TempDir()
	var console syncBuffer
	s, err := logs.New(dir, &console, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, errw := s.Request("hello")
	io.WriteString(out, "one\ntw")
	io.WriteString(out, "o\nunterminated")
	io.WriteString(errw, "oops\n")
	out.Close()
	errw.Close()
	s.Hostf("hello", "wagi: guest trapped: %s", "unreachable")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if got, want := readFile(t, filepath.Join(dir, "hello_stdout.txt")), "one\ntwo\nunterminated\n"; got != want {
		t.Errorf("stdout file %q, want %q", got, want)
	}
	if got, want := readFile(t, filepath.Join(dir, "hello_stderr.txt")), "oops\nwagi: guest trapped: unreachable\n"; got != want {
		t.Errorf("stderr file %q, want %q", got, want)
	}
	for _, line := range []string{"[hello] one\n", "[hello] two\n", "[hello] unterminated\n", "[hello] oops\n", "[hello] wagi: guest trapped: unreachable\n"} {
		if !strings.Contains(console.String(), line) {
			t.Errorf("console %q lacks %q", console.String(), line)
		}
	}
}

func TestFollowAndQuiet(t *testing.T) {
	var console syncBuffer
	s, err := logs.New("", &console, logs.Options{Follow: []string{"shown"}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Component("shown")
	b, _ := s.Component("hidden")
	io.WriteString(a, "visible")
	io.WriteString(b, "invisible\n")
	if got := console.String(); got != "[shown] visible\n" {
		t.Errorf("console %q", got)
	}

	var quiet syncBuffer
	dir := t.TempDir()
	q, _ := logs.New(dir, &quiet, logs.Options{Quiet: true})
	w, _ := q.Component("x")
	io.WriteString(w, "to file only\n")
	q.Close()
	if quiet.String() != "" {
		t.Errorf("quiet console got %q", quiet.String())
	}
	if got := readFile(t, filepath.Join(dir, "x_stdout.txt")); got != "to file only\n" {
		t.Errorf("file %q", got)
	}
}

func TestNilSinkDiscards(t *testing.T) {
	var s *logs.Sink
	out, errw := s.Request("x")
	io.WriteString(out, "a\n")
	errw.Close()
	w, _ := s.Component("x")
	io.WriteString(w, "b")
	s.Hostf("x", "c")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentInstancesDoNotInterleave writes lines in small pieces from
// many instances at once; every line must come out whole.
func TestConcurrentInstancesDoNotInterleave(t *testing.T) {
	dir := t.TempDir()
	var console syncBuffer
	s, err := logs.New(dir, &console, logs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const instances, lines = 16, 50
	var wg sync.WaitGroup
	for i := 0; i < instances; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _ := s.Request("c")
			defer out.Close()
			for j := 0; j < lines; j++ {
				for _, piece := range []string{"instance ", fmt.Sprint(i), " line ", fmt.Sprint(j), "\n"} {
					io.WriteString(out, piece)
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	check := func(name, text, prefix string) {
		got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(got) != instances*lines {
			t.Fatalf("%s: %d lines, want %d", name, len(got), instances*lines)
		}
		for _, l := range got {
			var i, j int
			if _, err := fmt.Sscanf(l, prefix+"instance %d line %d", &i, &j); err != nil {
				t.Fatalf("%s: mangled line %q", name, l)
			}
		}
	}
	check("console", console.String(), "[c] ")
	check("file", readFile(t, filepath.Join(dir, "c_stdout.txt")), "")
}
