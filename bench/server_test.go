package bench

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wispServer is a `wisp server` process started by startWispServer.
type wispServer struct {
	cmd         *exec.Cmd
	apps, admin string // http://127.0.0.1:port
}

// startWispServer builds cmd/wisp into work and runs `wisp server` as its
// own process, with its data dir and a fresh compile cache under work,
// loopback listeners on free ports, env added to the environment and args
// appended; it stops the server when the benchmark ends. Every stderr line
// after the listeners' announcements goes to onLine (nil: discarded).
func startWispServer(b *testing.B, work string, env []string, onLine func(string), args ...string) wispServer {
	bin := filepath.Join(work, "wisp")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wisp").CombinedOutput(); err != nil {
		b.Fatalf("building wisp: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"server", "--data-dir", filepath.Join(work, "data"),
		"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), "WISP_CACHE_DIR="+filepath.Join(work, "cache")), env...)
	cmd.Dir = work
	out, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	s := wispServer{cmd: cmd}
	sc := bufio.NewScanner(out)
	for (s.apps == "" || s.admin == "") && sc.Scan() {
		line := sc.Text()
		if _, rest, ok := strings.Cut(line, "Serving apps on "); ok {
			s.apps, _, _ = strings.Cut(rest, " ")
		}
		if _, rest, ok := strings.Cut(line, "Admin API on "); ok {
			s.admin, _, _ = strings.Cut(rest, " ")
		}
	}
	if s.apps == "" || s.admin == "" {
		b.Fatal("wisp server did not start")
	}
	go func() {
		for onLine != nil && sc.Scan() {
			onLine(sc.Text())
		}
		io.Copy(io.Discard, out)
	}()
	return s
}
