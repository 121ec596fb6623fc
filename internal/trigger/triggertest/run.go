package triggertest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/trigger"
)

// Resolve renders templates with vars, as the variables factor would
// with the app variables' defaults and no providers.
func Resolve(vars map[string]string) trigger.Resolver {
	return func(_ context.Context, _ string, tmpl string) (string, error) {
		out := tmpl
		for k, v := range vars {
			out = strings.ReplaceAll(out, "{{ "+k+" }}", v)
		}
		return out, nil
	}
}

// WaitFor polls cond until it holds, failing the test after timeout.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Running is a trigger's Run in its own goroutine.
type Running struct {
	cancel context.CancelFunc
	done   chan error
}

// Run starts run (a trigger's Run) and stops it when the test ends.
func Run(t testing.TB, run func(context.Context) error) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Done receives what Run returned, if it returns before Stop.
func (r *Running) Done() <-chan error { return r.done }

// Stop cancels Run's context and waits (at most 10s) for it to return
// nil.
func (r *Running) Stop(t testing.TB) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- nil // later stops see a clean exit too
	case <-time.After(10 * time.Second):
		t.Error("Run did not return within 10s of cancellation")
	}
}

// FreePort returns a local TCP port nobody listens on.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Server is a broker process a test starts, kills and restarts.
type Server struct {
	cmd *exec.Cmd
}

// StartServer runs bin with args and waits until it accepts connections
// on port; it is killed when the test ends. A missing bin skips the test
// (fails it in CI).
func StartServer(t testing.TB, port int, bin string, args ...string) *Server {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing", bin)
		}
		t.Skipf("%s is missing", bin)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd}
	t.Cleanup(s.Kill)
	WaitFor(t, bin+" to accept connections", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return s
}

// Kill stops the server and waits for it to exit.
func (s *Server) Kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}
