package factortest

import (
	"net"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/outbound"
)

// Policy is outbound.NewPolicy failing the test on error: put it in a
// call's context with outbound.WithPolicy.
func Policy(t testing.TB, allowed ...string) *outbound.Policy {
	t.Helper()
	p, err := outbound.NewPolicy(allowed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FirstBytes listens on a local port and reports the first bytes (at
// most 3) the first client sends before hanging up on it: enough to tell
// a TLS handshake record (0x16) from plain text.
func FirstBytes(t testing.TB) (hostPort string, first <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 3)
		n, _ := c.Read(b)
		ch <- b[:n]
	}()
	return ln.Addr().String(), ch
}
