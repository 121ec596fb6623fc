package main

// End-to-end tests of the event triggers: the real wisp binary runs an app
// with HTTP, Redis, MQTT and cron triggers against the real Redis and
// Mosquitto.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

// upReady starts `wisp up args...` in dir and waits until its output has
// every one of ready (an app without HTTP triggers never prints "Serving").
func upReady(t *testing.T, dir string, ready []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(wispBin, append([]string{"up"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WISP_CACHE_DIR="+cacheDir(t))
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1)}
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				s.mu.Lock()
				s.URL = m[1]
				s.mu.Unlock()
			}
			if !signalled && containsAll(s.output(), ready) {
				signalled = true
				close(readyc)
			}
		}
	}()
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { s.stop(t) })
	select {
	case <-readyc:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s
	case err := <-s.done:
		t.Fatalf("wisp up exited early: %v\n%s", err, s.output())
	case <-time.After(90 * time.Second):
		t.Fatalf("wisp up did not get ready in time\n%s", s.output())
	}
	return nil
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool, s *server) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, s.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readLog(t *testing.T, dir, componentID, which string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".wisp", "logs", componentID+"_"+which+".txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func redisClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// One `wisp up` runs an app with all four trigger types; each works, and
// Ctrl-C stops them all cleanly.
func TestE2EMixedTriggers(t *testing.T) {
	requireTool(t, "clang-19")
	redisURL := testsvc.Redis(t)
	broker := testsvc.MQTT(t)
	channel := testsvc.Unique(t)
	topic := "wisp/" + testsvc.Unique(t)
	manifest := fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "mixed"
[variables]
channel = { default = %q }
[application.trigger.redis]
address = %q
[application.trigger.mqtt]
address = %q
keep_alive_interval = "30"

[[trigger.http]]
route = "/hello"
component = "hello"
executor = { type = "wagi" }

[[trigger.redis]]
channel = "{{ channel }}"
component = "redis-guest"

[[trigger.mqtt]]
component = "mqtt-guest"
topic = "%s/+"
qos = "1"

[[trigger.cron]]
component = "cron-guest"
cron_expression = "* * * * * *"

[component.hello]
source = "hello.wasm"
[component.redis-guest]
source = "redis.wasm"
[component.mqtt-guest]
source = "mqtt.wasm"
[component.cron-guest]
source = "cron.wasm"
`, channel, redisURL, broker, topic)
	dir := writeAppFiles(t, manifest, nil)
	copyFile(t, testguest.C(t, filepath.Join("..", "..", "testdata", "guests", "wagi", "hello.c")), filepath.Join(dir, "hello.wasm"))
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(dir, "redis.wasm"))
	copyFile(t, triggertest.Guest(t, triggertest.MQTTQuiet), filepath.Join(dir, "mqtt.wasm"))
	copyFile(t, triggertest.Guest(t, triggertest.CronQuiet), filepath.Join(dir, "cron.wasm"))

	ready := []string{"Serving http", "Redis trigger subscribed", "MQTT trigger subscribed", "Cron trigger scheduled"}
	s := upReady(t, dir, ready, "--listen", "127.0.0.1:0", "--verbose", "--quiet")

	// HTTP.
	if r := get(t, s.URL+"/hello"); r.Status != 200 {
		t.Errorf("GET /hello: %d %q", r.Status, r.Body)
	}

	// Redis: the guest prints each payload; all of them, in order.
	rdb := redisClient(t, redisURL)
	const nRedis = 200
	for i := range nRedis {
		if err := rdb.Publish(context.Background(), channel, "r-"+strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the Redis guest's output", 30*time.Second, func() bool {
		return strings.Count(readLog(t, dir, "redis-guest", "stdout"), "\n") >= nRedis
	}, s)
	var want strings.Builder
	for i := range nRedis {
		fmt.Fprintf(&want, "r-%d\n", i)
	}
	if got := readLog(t, dir, "redis-guest", "stdout"); got != want.String() {
		t.Errorf("Redis guest output:\n%.500s\nwant r-0 … r-%d, one per line", got, nRedis-1)
	}

	// MQTT: 5 of 100 messages make the guest fail; the others succeed.
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("wisp-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("MQTT publisher: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	const nMQTT = 100
	for i := range nMQTT {
		msg := "m-" + strconv.Itoa(i)
		if i%20 == 19 {
			msg = "fail-" + strconv.Itoa(i)
		}
		if tok := pub.Publish(topic+"/room"+strconv.Itoa(i%2), 1, false, msg); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	handled := regexp.MustCompile(`MQTT message handled`)
	waitUntil(t, "95 MQTT messages handled", 30*time.Second, func() bool {
		return len(handled.FindAllString(s.output(), -1)) >= nMQTT-5
	}, s)
	waitUntil(t, "5 MQTT guest errors", 10*time.Second, func() bool {
		return strings.Count(readLog(t, dir, "mqtt-guest", "stderr"), "guest returned an error: other: failed on purpose") == 5
	}, s)

	// Cron: every second.
	waitUntil(t, "two cron runs", 10*time.Second, func() bool {
		return strings.Count(s.output(), "Cron run done") >= 2
	}, s)

	s.stop(t) // Ctrl-C: every trigger stops, the exit is clean
	if out := s.output(); !strings.Contains(out, "Stopped") || strings.Contains(out, "panic") {
		t.Errorf("output after Ctrl-C:\n%s", out)
	}
	if n := len(handled.FindAllString(s.output(), -1)); n != nMQTT-5 {
		t.Errorf("%d MQTT messages handled, want %d", n, nMQTT-5)
	}
}

// An app with only a Redis trigger runs without an HTTP server.
func TestE2ERedisOnlyApp(t *testing.T) {
	redisURL := testsvc.Redis(t)
	channel := testsvc.Unique(t)
	dir := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "redis-only"
[[trigger.redis]]
address = %q
channel = %q
component = "guest"
[component.guest]
source = "guest.wasm"
`, redisURL, channel), nil)
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(dir, "guest.wasm"))
	s := upReady(t, dir, []string{"Redis trigger subscribed"}, "--quiet")
	rdb := redisClient(t, redisURL)
	if err := rdb.Publish(context.Background(), channel, "only redis").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the guest's output", 20*time.Second, func() bool {
		return readLog(t, dir, "guest", "stdout") == "only redis\n"
	}, s)
	if strings.Contains(s.output(), "Serving http") {
		t.Errorf("an app without HTTP triggers started an HTTP server:\n%s", s.output())
	}
	s.stop(t)
}

// A trigger that cannot reach its server at startup is a clear error.
func TestE2ETriggerStartupError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "bad-address"
[[trigger.http]]
route = "/..."
static_response = { body = "hi" }
[[trigger.redis]]
address = "redis://127.0.0.1:%d"
channel = "c"
component = "guest"
[component.guest]
source = "guest.wasm"
`, port), nil)
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(dir, "guest.wasm"))
	out, err := wisp(t, dir, "up", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(out, fmt.Sprintf("redis trigger: cannot connect to 127.0.0.1:%d", port)) {
		t.Errorf("wisp up with an unreachable Redis: %v\n%s", err, out)
	}
}
