package main

// The Go SDK's MQTT and cron trigger handlers end to end: the templates
// mqtt-go and cron-go (wisp new, wisp build offline with the SDK copy the
// template wrote, wisp up) and the examples examples/mqtt-go and
// examples/cron-go, against the real Mosquitto and Redis.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/wasi"
)

// mqttPublisher connects a client to broker for the test.
func mqttPublisher(t *testing.T, broker string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID("wisp-sdk-" + testsvc.Unique(t)))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("MQTT publisher: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func mqttPublish(t *testing.T, c paho.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish on %s: %v", topic, tok.Error())
	}
}

// newGoTriggerApp runs `wisp new <template> <name> -a -v values...` and
// `wisp build` offline, and returns the app's directory.
func newGoTriggerApp(t *testing.T, template, name string, values ...string) string {
	t.Helper()
	requireTool(t, "go")
	work := t.TempDir()
	args := []string{"new", template, name, "-a"}
	for _, v := range values {
		args = append(args, "-v", v)
	}
	if out, err := wisp(t, work, args...); err != nil {
		t.Fatalf("wisp new: %v\n%s", err, out)
	}
	app := filepath.Join(work, name)
	// Offline: the SDK is in the project, nothing is downloaded.
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	wispBuild(t, app)
	return app
}

func wispBuild(t *testing.T, app string) {
	t.Helper()
	if out, err := wisp(t, app, "build"); err != nil {
		t.Fatalf("wisp build: %v\n%s", err, out)
	}
}

// logLines returns the lines of a component's log that match re, each
// reduced to re's first group.
func logLines(t *testing.T, app, componentID, which string, re *regexp.Regexp) []string {
	t.Helper()
	var out []string
	for _, m := range re.FindAllStringSubmatch(readLog(t, app, componentID, which), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestSDKTriggerTemplateMQTTGo: `wisp new mqtt-go` subscribes to the
// broker and topic filter given; the generated handler logs every message
// once, in order, with its topic and exact bytes.
func TestSDKTriggerTemplateMQTTGo(t *testing.T) {
	broker := testsvc.MQTT(t)
	base := "wisp/" + testsvc.Unique(t)
	app := newGoTriggerApp(t, "mqtt-go", "listener",
		"mqtt-address="+broker, "mqtt-topic="+base+"/+", "mqtt-qos=1")
	s := upReady(t, app, []string{"MQTT trigger subscribed"})

	pub := mqttPublisher(t, broker)
	const n = 40
	var want []string
	for i := range n {
		topic := fmt.Sprintf("%s/room%d", base, i%3)
		payload := []byte("message " + strconv.Itoa(i))
		if i == 7 {
			payload = []byte{0, 0xff, '\n', 'x'} // bytes, not text
		}
		mqttPublish(t, pub, topic, payload)
		want = append(want, fmt.Sprintf("received %d bytes on %q: %q", len(payload), topic, payload))
	}
	// Not on the filter: never delivered.
	mqttPublish(t, pub, base+"/room0/deeper", []byte("not for us"))
	mqttPublish(t, pub, base, []byte("not for us either"))

	line := regexp.MustCompile(`(?m)(received .*)$`)
	waitUntil(t, "every message in the handler's log", 60*time.Second, func() bool {
		return len(logLines(t, app, "listener", "stderr", line)) >= n
	}, s)
	time.Sleep(500 * time.Millisecond) // a stray extra delivery would show now
	if got := logLines(t, app, "listener", "stderr", line); !slices.Equal(got, want) {
		t.Errorf("handler log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(readLog(t, app, "listener", "stderr"), "guest returned an error") {
		t.Errorf("the handler failed:\n%s", readLog(t, app, "listener", "stderr"))
	}
	s.stop(t)
}

// TestSDKTriggerTemplateCronGo: `wisp new cron-go` with an every-second
// expression runs the generated handler on each tick, with the tick's
// time.
func TestSDKTriggerTemplateCronGo(t *testing.T) {
	app := newGoTriggerApp(t, "cron-go", "ticker", "cron-expression=* * * * * *")
	start := time.Now().Truncate(time.Second)
	s := upReady(t, app, []string{"Cron trigger scheduled"})
	line := regexp.MustCompile(`cron event at (\S+)`)
	waitUntil(t, "two cron runs in the handler's log", 20*time.Second, func() bool {
		return len(logLines(t, app, "ticker", "stderr", line)) >= 2
	}, s)
	s.stop(t)
	checkTicks(t, logLines(t, app, "ticker", "stderr", line), start, func(v string) (time.Time, error) {
		if !strings.HasSuffix(v, "Z") {
			return time.Time{}, fmt.Errorf("not in UTC")
		}
		return time.Parse(time.RFC3339, v)
	})
}

// checkTicks checks the tick times a handler saw: at least two, strictly
// increasing, between start and now.
func checkTicks(t *testing.T, ticks []string, start time.Time, parse func(string) (time.Time, error)) {
	t.Helper()
	if len(ticks) < 2 {
		t.Fatalf("ticks %v: want at least 2", ticks)
	}
	var prev time.Time
	for _, v := range ticks {
		tick, err := parse(v)
		if err != nil {
			t.Fatalf("tick %q: %v", v, err)
		}
		if tick.Before(start) || tick.After(time.Now()) || !tick.After(prev) {
			t.Errorf("ticks %v: %q is out of order or outside [%s, now]", ticks, v, start.UTC().Format(time.RFC3339))
		}
		prev = tick
	}
}

// TestSDKTriggerCronErrors: a cron handler's error and panic reach the
// host as other(message), logged in the component's log; the next tick
// runs the handler again.
func TestSDKTriggerCronErrors(t *testing.T) {
	app := newGoTriggerApp(t, "cron-go", "failing", "cron-expression=* * * * * *")
	src := `package main

import (
	"fmt"
	"time"

	"github.com/wisp-dev/wisp/sdk/go/crontrigger"
)

func init() {
	crontrigger.Handle(func(tick time.Time) error {
		if tick.Unix()%2 == 0 {
			return fmt.Errorf("tick %d failed on purpose", tick.Unix())
		}
		panic(fmt.Sprintf("tick %d panicked on purpose", tick.Unix()))
	})
}

func main() {}
`
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	wispBuild(t, app)
	s := upReady(t, app, []string{"Cron trigger scheduled"})
	failed := regexp.MustCompile(`guest returned an error: other: tick (\d+) failed on purpose`)
	panicked := regexp.MustCompile(`guest returned an error: other: panic: tick (\d+) panicked on purpose`)
	waitUntil(t, "a failed and a panicked run", 20*time.Second, func() bool {
		return len(logLines(t, app, "failing", "stderr", failed)) >= 1 && len(logLines(t, app, "failing", "stderr", panicked)) >= 1
	}, s)
	s.stop(t)
	log := readLog(t, app, "failing", "stderr")
	for _, ts := range logLines(t, app, "failing", "stderr", failed) {
		if n, _ := strconv.ParseInt(ts, 10, 64); n%2 != 0 {
			t.Errorf("tick %s reported as failed, but odd ticks panic", ts)
		}
	}
	for _, ts := range logLines(t, app, "failing", "stderr", panicked) {
		if n, _ := strconv.ParseInt(ts, 10, 64); n%2 != 1 {
			t.Errorf("tick %s reported as panicked, but even ticks fail", ts)
		}
	}
	// The panic's stack is in the component's log too.
	if !strings.Contains(log, "crontrigger: panic handling the event of ") || !strings.Contains(log, "goroutine ") {
		t.Errorf("no panic stack in the log:\n%s", log)
	}
}

// TestSDKTriggerMQTTExample runs examples/mqtt-go: each message on the
// topic filter is appended to a Redis list named after its topic;
// "fail" and "panic" come back to the host as errors and are not retried.
func TestSDKTriggerMQTTExample(t *testing.T) {
	broker := testsvc.MQTT(t)
	redisURL := testsvc.Redis(t)
	base := "wisp/" + testsvc.Unique(t)
	prefix := testsvc.Unique(t)
	app := sdkApp(t, "mqtt-go")
	s := upReady(t, app, []string{"MQTT trigger subscribed"},
		"--variable", "broker="+broker, "--variable", "topic="+base+"/+",
		"--variable", "redis_address="+redisURL, "--variable", "key_prefix="+prefix)

	pub := mqttPublisher(t, broker)
	want := map[string][]string{}
	const n = 60
	for i := range n {
		topic := base + "/sensor" + strconv.Itoa(i%4)
		payload := fmt.Sprintf("%d.5", i)
		switch i {
		case 10:
			payload = "fail"
		case 20:
			payload = "panic"
		default:
			want[topic] = append(want[topic], payload)
		}
		mqttPublish(t, pub, topic, []byte(payload))
	}

	rdb := redisClient(t, redisURL)
	ctx := context.Background()
	stored := func() int {
		total := 0
		for topic := range want {
			k, _ := rdb.LLen(ctx, prefix+":"+topic).Result()
			total += int(k)
		}
		return total
	}
	waitUntil(t, "every message stored in Redis", 60*time.Second, func() bool { return stored() >= n-2 }, s)
	waitUntil(t, "the two handler errors", 10*time.Second, func() bool {
		log := readLog(t, app, "mqtt-go", "stderr")
		return strings.Contains(log, "guest returned an error: other: asked to fail") &&
			strings.Contains(log, "guest returned an error: other: panic: asked to panic")
	}, s)
	time.Sleep(500 * time.Millisecond) // a redelivery would show now
	for topic, w := range want {
		got, err := rdb.LRange(ctx, prefix+":"+topic, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, w) {
			t.Errorf("list for %s = %v, want %v", topic, got, w)
		}
		rdb.Del(ctx, prefix+":"+topic)
	}
	log := readLog(t, app, "mqtt-go", "stderr")
	if c := strings.Count(log, "other: asked to fail"); c != 1 {
		t.Errorf("%d failures logged, want 1:\n%s", c, log)
	}
	if c := strings.Count(log, "other: panic: asked to panic"); c != 1 {
		t.Errorf("%d panics logged, want 1:\n%s", c, log)
	}
	if !strings.Contains(log, fmt.Sprintf(`mqtttrigger: panic handling a message on "%s/sensor0": asked to panic`, base)) {
		t.Errorf("the panic is not in the log with its topic:\n%s", log)
	}
	s.stop(t)
}

// TestSDKTriggerCronExample runs examples/cron-go on an every-second
// schedule: each run appends its tick's Unix time to a Redis list.
func TestSDKTriggerCronExample(t *testing.T) {
	redisURL := testsvc.Redis(t)
	prefix := testsvc.Unique(t)
	app := sdkApp(t, "cron-go")
	manifest := filepath.Join(app, "spin.toml")
	text, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	every := strings.Replace(string(text), `cron_expression = "*/10 * * * * *"`, `cron_expression = "* * * * * *"`, 1)
	if every == string(text) {
		t.Fatal("examples/cron-go/spin.toml: cron_expression not found")
	}
	if err := os.WriteFile(manifest, []byte(every), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	s := upReady(t, app, []string{"Cron trigger scheduled"},
		"--variable", "redis_address="+redisURL, "--variable", "key_prefix="+prefix)
	rdb := redisClient(t, redisURL)
	ctx := context.Background()
	key := prefix + ":ticks"
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	waitUntil(t, "two ticks in Redis", 20*time.Second, func() bool {
		k, _ := rdb.LLen(ctx, key).Result()
		return k >= 2
	}, s)
	s.stop(t)
	ticks, err := rdb.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	checkTicks(t, ticks, start, func(v string) (time.Time, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		return time.Unix(n, 0).UTC(), err
	})
	// The handler logs each run with the list's length.
	runs := regexp.MustCompile(`tick \S+ \(run (\d+)\)`)
	if got := logLines(t, app, "cron-go", "stderr", runs); len(got) != len(ticks) || got[0] != "1" {
		t.Errorf("runs logged %v for %d ticks", got, len(ticks))
	}
}

// abiGuest handles both triggers and reports what it received in its
// errors, so the test sees the exact values the SDK handed the handler.
const abiGuest = `package main

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/sdk/go/crontrigger"
	"github.com/wisp-dev/wisp/sdk/go/mqtttrigger"
)

func init() {
	mqtttrigger.Handle(func(payload []byte, topic string) error {
		switch string(payload) {
		case "ok":
			return nil
		case "panic":
			panic("on " + topic)
		case "big-error":
			return fmt.Errorf("%s", strings.Repeat("e", 300<<10))
		}
		return fmt.Errorf("%d bytes on %s: %x", len(payload), topic, sha256.Sum256(payload))
	})
	crontrigger.Handle(func(tick time.Time) error {
		if tick.Unix()%2 == 0 {
			return nil
		}
		return fmt.Errorf("tick %s", tick.Format(time.RFC3339))
	})
}

func main() {}
`

// TestSDKTriggerCoreABI loads a guest using both packages the way Wisp
// links an SDK module (component.LoadCore) and calls the world-level
// exports directly: arguments arrive intact (payloads larger than the
// SDK's static arena too), errors come back as other(message) whatever
// their size, and one instance serves many calls.
func TestSDKTriggerCoreABI(t *testing.T) {
	requireTool(t, "go")
	dir := t.TempDir()
	gomod := "module abiguest\n\ngo 1.26\n\nrequire github.com/wisp-dev/wisp/sdk/go v0.0.0\n\nreplace github.com/wisp-dev/wisp/sdk/go => " +
		filepath.Join(repoRoot(t), "sdk", "go") + "\n"
	for name, text := range map[string]string{"go.mod": gomod, "main.go": abiGuest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "main.wasm")
	testguest.GoReactor(t, dir, out)
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.Config{CacheDir: testguest.CompilationCacheDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	host, err := component.NewHost(wasi.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := component.LoadCore(ctx, eng, wasm, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var stderr bytes.Buffer
	wctx := &wasi.Ctx{Stderr: &stderr}
	callCtx := engine.WithWASI(wasi.WithCtx(ctx, wctx), engine.RunConfig{Stderr: &stderr})
	inst, err := c.Instantiate(callCtx)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)

	// call runs fn and returns "" for ok, the other(...) message for err.
	call := func(fn string, args ...any) string {
		t.Helper()
		res, err := inst.Call(callCtx, "", fn, args...)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		r := res[0].(cabi.Result)
		if !r.IsErr {
			return ""
		}
		v, ok := r.Value.(cabi.Variant)
		if !ok || v.Case != 0 {
			t.Fatalf("%s: error %#v, want other(string)", fn, r.Value)
		}
		return v.Value.(string)
	}
	big := bytes.Repeat([]byte{0, 1, 0xfe, 'x'}, 300<<10/4) // past the 128 KiB arena
	for i := range 3 {                                      // the same instance, again and again
		if got := call("handle-message", []byte("ok"), []any{"a/b"}); got != "" {
			t.Errorf("ok message: error %q", got)
		}
		for _, payload := range [][]byte{{}, []byte("hello"), big, {0xff, 0}} {
			topic := fmt.Sprintf("sensors/%d/é", i)
			want := fmt.Sprintf("%d bytes on %s: %x", len(payload), topic, sha256.Sum256(payload))
			if got := call("handle-message", payload, []any{topic}); got != want {
				t.Errorf("message of %d bytes: error %.100q, want %q", len(payload), got, want)
			}
		}
		if got := call("handle-message", []byte("big-error"), []any{"t"}); got != strings.Repeat("e", 300<<10) {
			t.Errorf("big error: %d bytes %.20q...", len(got), got)
		}
		// A shorter message after a longer one reuses the buffer.
		if got := call("handle-message", []byte("panic"), []any{"x/y"}); got != "panic: on x/y" {
			t.Errorf("panic: error %q", got)
		}
		if got := call("handle-cron-event", []any{uint64(1700000000)}); got != "" {
			t.Errorf("even tick: error %q", got)
		}
		if got := call("handle-cron-event", []any{uint64(1700000001)}); got != "tick 2023-11-14T22:13:21Z" {
			t.Errorf("odd tick: error %q", got)
		}
	}
	flushCtx, cancel := context.WithTimeout(ctx, time.Second)
	wctx.Flush(flushCtx)
	cancel()
	if n := strings.Count(stderr.String(), `mqtttrigger: panic handling a message on "x/y": on x/y`); n != 3 {
		t.Errorf("%d panic reports on stderr, want 3:\n%.2000s", n, stderr.String())
	}
}
