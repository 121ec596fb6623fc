package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/redis"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

// app returns a manifest with one redis trigger per channel, all calling
// the component "guest".
func app(address string, extra string, channels ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `spin_manifest_version = 2
[application]
name = "redis-test"
[variables]
redis_url = { default = %q }
[application.trigger.redis]
address = "{{ redis_url }}"
`, address)
	for _, ch := range channels {
		fmt.Fprintf(&b, "[[trigger.redis]]\nchannel = %q\ncomponent = \"guest\"\n%s\n", ch, extra)
	}
	b.WriteString("[component.guest]\nsource = \"guest.wasm\"\n")
	return b.String()
}

type running struct {
	*triggertest.Running
	trig *redis.Trigger
}

func start(t *testing.T, a *triggertest.App, address string) *running {
	t.Helper()
	trig, err := redis.New(context.Background(), a.App, redis.Options{
		Invoke:  trigger.Options{Timeout: 5 * time.Second},
		Resolve: triggertest.Resolve(map[string]string{"redis_url": address}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &running{Running: triggertest.Run(t, trig.Run), trig: trig}
}

// waitSubscribed waits until channel has n subscribers.
func waitSubscribed(t *testing.T, rdb *goredis.Client, channel string, n int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		res, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		if err == nil && res[channel] >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nobody subscribed to %q", channel)
}

func client(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Ten thousand messages, each handled exactly once, in publication order;
// guest errors are counted and do not stop the stream.
func TestRedisTenThousandMessagesExactlyOnceInOrder(t *testing.T) {
	url := testsvc.Redis(t)
	channel := testsvc.Unique(t)
	a := triggertest.Load(t, app(url, "", channel), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}, nil)
	r := start(t, a, url)
	rdb := client(t, url)
	waitSubscribed(t, rdb, channel, 1)

	const n = 10000
	ctx := context.Background()
	for i := range n {
		msg := "m-" + strconv.Itoa(i)
		if i%1000 == 999 {
			msg = "fail-" + strconv.Itoa(i) // the guest returns its error variant
		}
		if err := rdb.Publish(ctx, channel, msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	triggertest.WaitFor(t, "10,000 messages", 120*time.Second, func() bool { return a.Recorder.Count() >= n })
	time.Sleep(200 * time.Millisecond) // a duplicate would show up by now
	calls := a.Recorder.Calls()
	if len(calls) != n {
		t.Fatalf("guest saw %d messages, want %d", len(calls), n)
	}
	for i, c := range calls {
		want := "m-" + strconv.Itoa(i)
		if i%1000 == 999 {
			want = "fail-" + strconv.Itoa(i)
		}
		if string(c.Message) != want {
			t.Fatalf("message %d is %q, want %q (lost, duplicated or reordered)", i, c.Message, want)
		}
	}
	st := r.trig.Stats()
	if h, f := st.Handled.Load(), st.Failed.Load(); h != n-10 || f != 10 {
		t.Errorf("stats: handled %d, failed %d; want %d and 10", h, f, n-10)
	}
	if log := a.ReadLog(t, "guest", "stderr"); strings.Count(log, "guest returned an error: error") != 10 {
		t.Errorf("component log has %d guest errors, want 10:\n%.2000s", strings.Count(log, "guest returned an error"), log)
	}
}

// Both export forms work, a trapping guest does not stop the trigger, and
// triggers on several channels of one server share its connection.
func TestRedisV3ExportAndTraps(t *testing.T) {
	url := testsvc.Redis(t)
	ch1, ch2 := testsvc.Unique(t), testsvc.Unique(t)
	a := triggertest.Load(t, app(url, "", ch1, ch2), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV3)}, nil)
	r := start(t, a, url)
	rdb := client(t, url)
	waitSubscribed(t, rdb, ch1, 1)
	waitSubscribed(t, rdb, ch2, 1)
	for _, m := range []struct{ ch, msg string }{{ch1, "trap"}, {ch2, "fail"}, {ch1, "after-trap"}, {ch2, "ok"}} {
		if err := rdb.Publish(context.Background(), m.ch, m.msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	triggertest.WaitFor(t, "4 messages", 10*time.Second, func() bool { return a.Recorder.Count() >= 4 })
	triggertest.WaitFor(t, "stats", 5*time.Second, func() bool { st := r.trig.Stats(); return st.Handled.Load()+st.Failed.Load() == 4 })
	st := r.trig.Stats()
	if st.Handled.Load() != 2 || st.Failed.Load() != 2 {
		t.Errorf("handled %d, failed %d; want 2 and 2", st.Handled.Load(), st.Failed.Load())
	}
	log := a.ReadLog(t, "guest", "stderr")
	if !strings.Contains(log, "unreachable") || !strings.Contains(log, "guest returned an error: other: failed on purpose") {
		t.Errorf("component log:\n%s", log)
	}
}

// With concurrency = 4, four messages are handled at once, never more.
func TestRedisConcurrency(t *testing.T) {
	url := testsvc.Redis(t)
	channel := testsvc.Unique(t)
	a := triggertest.Load(t, app(url, "concurrency = 4", channel), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}, nil)
	// The loader carries channel and address into the locked trigger;
	// until it carries concurrency too, put it where the trigger reads it.
	for i := range a.Locked.Triggers {
		if a.Locked.Triggers[i].Type == "redis" && a.Locked.Triggers[i].Config["concurrency"] == nil {
			a.Locked.Triggers[i].Config["concurrency"] = int64(4)
		}
	}
	var inFlight, peak atomic.Int32
	a.Recorder.Hook = func(triggertest.Call) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(150 * time.Millisecond)
		inFlight.Add(-1)
	}
	start(t, a, url)
	rdb := client(t, url)
	waitSubscribed(t, rdb, channel, 1)
	for i := range 16 {
		rdb.Publish(context.Background(), channel, strconv.Itoa(i))
	}
	triggertest.WaitFor(t, "16 messages", 20*time.Second, func() bool { return a.Recorder.Count() >= 16 })
	if p := peak.Load(); p != 4 {
		t.Errorf("peak concurrency %d, want 4", p)
	}
}

// redisServer is a private redis-server this test may kill and restart.
func startRedisServer(t *testing.T, port int) *triggertest.Server {
	t.Helper()
	return triggertest.StartServer(t, port, "/usr/bin/redis-server",
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
}

// A Redis restart mid-stream: the trigger reconnects, resubscribes and
// goes on; messages published while Redis was down are lost (pub/sub
// keeps nothing), every other message is handled exactly once.
func TestRedisRestartMidStream(t *testing.T) {
	port := triggertest.FreePort(t)
	srv := startRedisServer(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d", port)
	a := triggertest.Load(t, app(url, "", "events"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}, nil)
	r := start(t, a, url)
	rdb := client(t, url)
	waitSubscribed(t, rdb, "events", 1)
	ctx := context.Background()
	for i := range 100 {
		rdb.Publish(ctx, "events", "before-"+strconv.Itoa(i))
	}
	triggertest.WaitFor(t, "100 messages before the restart", 10*time.Second, func() bool { return a.Recorder.Count() >= 100 })

	srv.Kill()
	time.Sleep(500 * time.Millisecond) // the trigger sees the failure and backs off
	select {
	case err := <-r.Done():
		t.Fatalf("Run returned when Redis went away: %v", err)
	default:
	}
	startRedisServer(t, port)
	waitSubscribed(t, rdb, "events", 1)

	for i := range 100 {
		if err := rdb.Publish(ctx, "events", "after-"+strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	triggertest.WaitFor(t, "100 messages after the restart", 20*time.Second, func() bool { return a.Recorder.Count() >= 200 })
	time.Sleep(100 * time.Millisecond)
	calls := a.Recorder.Calls()
	if len(calls) != 200 {
		t.Fatalf("guest saw %d messages, want 200", len(calls))
	}
	for i, c := range calls {
		want := "before-" + strconv.Itoa(i)
		if i >= 100 {
			want = "after-" + strconv.Itoa(i-100)
		}
		if string(c.Message) != want {
			t.Fatalf("message %d is %q, want %q", i, c.Message, want)
		}
	}
}

func TestRedisStartupErrors(t *testing.T) {
	guest := map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.RedisV2)}

	// Nothing listens: Run fails fast with the server's address.
	port := triggertest.FreePort(t)
	down := fmt.Sprintf("redis://127.0.0.1:%d", port)
	a := triggertest.Load(t, app(down, "", "c"), guest, nil)
	trig, err := redis.New(context.Background(), a.App, redis.Options{Resolve: triggertest.Resolve(map[string]string{"redis_url": down})})
	if err != nil {
		t.Fatal(err)
	}
	err = trig.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("redis trigger: cannot connect to 127.0.0.1:%d", port)) {
		t.Errorf("Run with no server: %v", err)
	}

	// Not a Redis URL: New fails, without echoing the address (it may
	// hold a password).
	bad := "http://user:hunter2@example.com"
	_, err = redis.New(context.Background(), a.App, redis.Options{Resolve: triggertest.Resolve(map[string]string{"redis_url": bad})})
	if err == nil || !strings.Contains(err.Error(), `redis trigger "guest-redis-trigger": address is not a redis:// or rediss:// URL`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("New with a bad address: %v", err)
	}

	// No resolver for a templated address.
	_, err = redis.New(context.Background(), a.App, redis.Options{})
	if err == nil || !strings.Contains(err.Error(), "address uses {{ }} templates, but no variable resolver is configured") {
		t.Errorf("New without a resolver: %v", err)
	}

	// A component that does not export a Redis handler.
	b := triggertest.Load(t, app(down, "", "c"), map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.Cron)}, nil)
	_, err = redis.New(context.Background(), b.App, redis.Options{Resolve: triggertest.Resolve(map[string]string{"redis_url": down})})
	if err == nil || !strings.Contains(err.Error(), `component "guest" exports none of spin:redis/inbound-redis@3.0.0#handle-message, fermyon:spin/inbound-redis#handle-message`) {
		t.Errorf("New with a non-Redis guest: %v", err)
	}
}
