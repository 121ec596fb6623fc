package main

// The Go SDK templates end to end: wisp new / wisp add, wisp build with
// the standard Go toolchain and the SDK copy the template wrote (no
// network, no published module), wisp up, requests and Redis messages.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/testsvc"
)

func TestSDKTemplateRedisGo(t *testing.T) {
	requireTool(t, "go")
	redisURL := testsvc.Redis(t)
	channel := testsvc.Unique(t)
	work := t.TempDir()
	if out, err := wisp(t, work, "new", "redis-go", "listener", "-a", "-v", "redis-address="+redisURL, "-v", "redis-channel="+channel); err != nil {
		t.Fatalf("wisp new: %v\n%s", err, out)
	}
	app := filepath.Join(work, "listener")
	// Offline: the SDK is in the project, nothing is downloaded.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	if out, err := wisp(t, app, "build"); err != nil {
		t.Fatalf("wisp build: %v\n%s", err, out)
	}
	s := upReady(t, app, []string{"Redis trigger subscribed"})
	if err := redisClient(t, redisURL).Publish(context.Background(), channel, "hello redis-go").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the handler's log line", 30*time.Second, func() bool {
		return strings.Contains(readLog(t, app, "listener", "stderr"), `received 14 bytes: "hello redis-go"`)
	}, s)
}

func TestSDKTemplateHTTPGoAdded(t *testing.T) {
	requireTool(t, "go")
	work := t.TempDir()
	if out, err := wisp(t, work, "new", "http-go", "site", "-a"); err != nil {
		t.Fatalf("wisp new: %v\n%s", err, out)
	}
	app := filepath.Join(work, "site")
	if out, err := wisp(t, app, "add", "http-go", "api", "-a"); err != nil {
		t.Fatalf("wisp add: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(app, "api", "wisp-sdk-go", "go.mod")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPROXY", "off")
	if out, err := wisp(t, app, "build"); err != nil {
		t.Fatalf("wisp build: %v\n%s", err, out)
	}
	s := up(t, app)
	// The added component is routed at /api/...; it routes on the path
	// below that (spin-path-info).
	r := get(t, s.URL+"/api/json")
	if r.Status != 200 || !strings.Contains(r.Body, `"path":"/json"`) || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/json = %d %v %q", r.Status, r.Header, r.Body)
	}
	if r := get(t, s.URL+"/"); r.Status != 200 || !strings.Contains(r.Body, "Hello, Fermyon!") {
		t.Fatalf("GET / = %d %q", r.Status, r.Body)
	}
}

// TestSDKRedisTriggerExample runs examples/redis-go: a Redis trigger
// handler that uses outbound Redis and variables.
func TestSDKRedisTriggerExample(t *testing.T) {
	redisURL := testsvc.Redis(t)
	channel, replies := testsvc.Unique(t), testsvc.Unique(t)
	app := sdkApp(t, "redis-go")
	rdb := redisClient(t, redisURL)
	ctx := context.Background()
	sub := rdb.Subscribe(ctx, replies)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	s := upReady(t, app, []string{"Redis trigger subscribed"},
		"--variable", "redis_address="+redisURL, "--variable", "channel="+channel, "--variable", "reply_channel="+replies)
	for _, msg := range []string{"hello", "fail", "ping"} {
		if err := rdb.Publish(ctx, channel, msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case m := <-sub.Channel():
		if !strings.HasPrefix(m.Payload, "pong ") {
			t.Fatalf("reply %q", m.Payload)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no reply\n%s", s.output())
	}
	waitUntil(t, "the handler's log", 10*time.Second, func() bool {
		log := readLog(t, app, "redis-go", "stderr")
		return strings.Contains(log, `"hello"`) && strings.Contains(log, "redistrigger: asked to fail")
	}, s)
}
