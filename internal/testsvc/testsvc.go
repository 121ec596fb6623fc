// Package testsvc finds the real services tests run against: Redis,
// PostgreSQL, MariaDB/MySQL and an MQTT broker on localhost (started by
// scripts/services.sh in CI). Each function checks that the server
// answers; without one the test fails when CI=true and is skipped
// elsewhere, so CI never silently skips.
package testsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Redis returns the Redis URL ($WISP_TEST_REDIS_URL, default
// redis://127.0.0.1:6379).
func Redis(t testing.TB) string {
	t.Helper()
	u := env("WISP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
	reach(t, "Redis", hostOf(u, "127.0.0.1:6379"), "WISP_TEST_REDIS_URL")
	return u
}

// Postgres returns the PostgreSQL URL ($WISP_TEST_POSTGRES_URL, default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable; trust auth).
func Postgres(t testing.TB) string {
	t.Helper()
	u := env("WISP_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	reach(t, "PostgreSQL", hostOf(u, "127.0.0.1:5432"), "WISP_TEST_POSTGRES_URL")
	return u
}

// MySQL returns the MySQL URL in Spin's form ($WISP_TEST_MYSQL_URL,
// default mysql://root@127.0.0.1:3306/test).
func MySQL(t testing.TB) string {
	t.Helper()
	u := env("WISP_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
	reach(t, "MySQL/MariaDB", hostOf(u, "127.0.0.1:3306"), "WISP_TEST_MYSQL_URL")
	return u
}

// MQTT returns the MQTT broker URL ($WISP_TEST_MQTT_URL, default
// mqtt://127.0.0.1:1883).
func MQTT(t testing.TB) string {
	t.Helper()
	u := env("WISP_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
	reach(t, "MQTT broker", hostOf(u, "127.0.0.1:1883"), "WISP_TEST_MQTT_URL")
	return u
}

// Unique returns a name unique to this test run, usable as a key prefix,
// table name or topic segment: letters, digits and underscores.
func Unique(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return "wisp_" + strings.ToLower(name) + "_" + hex.EncodeToString(b)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// hostOf extracts host:port from a URL without depending on its scheme's
// syntax details.
func hostOf(u, def string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return def
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if rest == "" {
		return def
	}
	return rest
}

func reach(t testing.TB, what, addr, envName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s at %s (CI=true requires one; scripts/services.sh starts it): %v", what, addr, err)
		}
		t.Skipf("no %s at %s, skipping (run scripts/services.sh or set %s): %v", what, addr, envName, err)
	}
	conn.Close()
}
