// Package jco runs `jco serve` (the Bytecode Alliance's JavaScript host for
// wasi:http components) beside Wisp in tests and benchmarks, as the
// independent implementation to compare against. jco is installed by
// scripts/deps.sh into tools/jco (pinned in tools/jco/package.json).
package jco

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// ErrNotInstalled is returned by Serve when jco or node is missing.
var ErrNotInstalled = errors.New("jco is not installed (run scripts/deps.sh)")

// Server is a running `jco serve`.
type Server struct {
	// URL is "http://127.0.0.1:<port>" (no trailing slash).
	URL string
	cmd *exec.Cmd
	out *strings.Builder
}

// Binary is the path of the jco installed in tools/jco.
func Binary() string {
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/testguest/jco/jco.go.
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "tools", "jco", "node_modules", ".bin", "jco")
}

// Serve starts `jco serve --isolate-requests instance` on a free loopback
// port (StarlingMonkey components need a fresh instance per request, as
// Wisp gives them) and waits up to two minutes until it answers.
func Serve(wasm, workDir string) (*Server, error) {
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "serve", wasm, "--isolate-requests", "instance", "--host", "127.0.0.1", "--port", fmt.Sprint(port))
	cmd.Dir = workDir
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, out: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// jco serve runs the component in worker processes of its own: Stop
	// kills the whole process group and never waits long for their pipes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("jco serve did not answer: %v\n%s", err, s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop kills jco and its workers.
func (s *Server) Stop() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd.Wait()
}
