package redis

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeServer is a tiny RESP server for what the real Redis cannot do:
// misbehave. It answers HELLO with an unknown-command error (go-redis then
// carries on in RESP2), PING with PONG, AUTH and SELECT with OK, and every
// other command with what reply returns, hanging up after it if asked.
type fakeServer struct {
	Addr string

	mu   sync.Mutex
	cmds [][]string
}

// FakeReply decides the raw bytes a fake server sends for a command.
type FakeReply func(cmd []string) (raw string, hangUp bool)

func startFakeServer(t testing.TB, ln net.Listener, reply FakeReply) *fakeServer {
	t.Helper()
	s := &fakeServer{Addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns sync.Map // hung up at cleanup, whatever clients left open
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c, reply)
			}()
		}
	}()
	return s
}

// StartFakeServer starts a fake server on a local port.
func StartFakeServer(t testing.TB, reply FakeReply) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startFakeServer(t, ln, reply)
}

// Commands returns the commands received so far, across connections.
func (s *fakeServer) Commands() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.cmds...)
}

func (s *fakeServer) serve(c net.Conn, reply FakeReply) {
	br := bufio.NewReader(c)
	for {
		cmd, err := readFakeCommand(br)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, cmd)
		s.mu.Unlock()
		raw, hangUp := "", false
		switch strings.ToUpper(cmd[0]) {
		case "HELLO":
			raw = "-ERR unknown command 'HELLO'\r\n"
		case "PING":
			raw = "+PONG\r\n"
		case "AUTH", "SELECT":
			raw = "+OK\r\n"
		default:
			raw, hangUp = reply(cmd)
		}
		if _, err := io.WriteString(c, raw); err != nil || hangUp {
			return
		}
	}
}

// readFakeCommand reads one command sent as an array of bulk strings.
func readFakeCommand(br *bufio.Reader) ([]string, error) {
	line := func(prefix byte) (int, error) {
		l, err := br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if len(l) < 3 || l[0] != prefix {
			return 0, io.ErrUnexpectedEOF
		}
		return strconv.Atoi(strings.TrimSuffix(l[1:], "\r\n"))
	}
	n, err := line('*')
	if err != nil || n < 1 {
		return nil, io.ErrUnexpectedEOF
	}
	cmd := make([]string, n)
	for i := range cmd {
		size, err := line('$')
		if err != nil || size < 0 {
			return nil, io.ErrUnexpectedEOF
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, err
		}
		cmd[i] = string(b[:size])
	}
	return cmd, nil
}
