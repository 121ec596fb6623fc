// Package redistest finds the Redis server tests run against.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// URL returns the Redis URL for tests ($WISP_TEST_REDIS_URL, default
// redis://127.0.0.1:6379) after checking that the server answers. Without
// a server the test fails in CI (CI=true) and is skipped elsewhere.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("WISP_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379"
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("WISP_TEST_REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", pu.Host)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s (CI=true requires one): %v", pu.Host, err)
		}
		t.Skipf("no Redis at %s, skipping (start one or set WISP_TEST_REDIS_URL): %v", pu.Host, err)
	}
	conn.Close()
	return u
}

// Prefix returns a key prefix unique to this test run.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "wisp-test:" + t.Name() + ":" + hex.EncodeToString(b) + ":"
}
