package main

// Event triggers on wisp server: apps with Redis, MQTT and cron triggers
// deployed to an in-process node (the real runtime: factors, executor, the
// same trigger packages as wisp up) against the real Redis and Mosquitto.
// Such apps are pinned: loaded at deploy and at node start, never
// unloaded for idleness, their subscriptions stopped by redeploy and
// delete.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/platform"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
	"github.com/wisp-dev/wisp/pkg/platformapi"
)

// startTriggerNode is startNode with --allow-private-outbound: the test
// services listen on loopback, which tenants may not reach by default.
func startTriggerNode(t *testing.T, dataDir string, tweak func(*platform.Config)) *testNode {
	t.Helper()
	return startNode(t, dataDir, func(c *platform.Config) {
		c.Runtime.(*serverRuntime).blockPrivate = false
		if tweak != nil {
			tweak(c)
		}
	})
}

// stop closes the node as a shutdown does (its Cleanup closes it again,
// harmlessly).
func (n *testNode) stop() {
	n.apps.Close()
	n.admin.Close()
	n.node.Close()
}

// waitSubscribers waits until Redis counts want subscribers of channel.
func waitSubscribers(t *testing.T, rdb *goredis.Client, channel string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[channel] == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s has %d subscribers, want %d", channel, got[channel], want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// appLog returns the tenant's view of the app's log file name (wisp logs).
func appLog(t *testing.T, c *platformapi.Client, app, file string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Logs(context.Background(), app, 0, &buf); err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(buf.String(), "==> "+file+" <==\n")
	if !ok {
		return ""
	}
	if i := strings.Index(rest, "==> "); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mixedApp has an HTTP route (a WAGI C guest) and a Redis trigger whose
// guest writes each payload and a newline to its stdout log.
func mixedApp(t *testing.T, redisURL string) string {
	t.Helper()
	requireTool(t, "clang-19")
	dir := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "mixed"
[variables]
channel = { required = true }
[application.trigger.redis]
address = %q
[[trigger.http]]
route = "/..."
component = "hello"
executor = { type = "wagi" }
[[trigger.redis]]
channel = "{{ channel }}"
component = "listener"
[component.hello]
source = "hello.wasm"
[component.listener]
source = "listener.wasm"
`, redisURL), nil)
	copyFile(t, testguest.C(t, filepath.Join("..", "..", "testdata", "guests", "wagi", "hello.c")), filepath.Join(dir, "hello.wasm"))
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(dir, "listener.wasm"))
	return dir
}

func publishRedis(t *testing.T, rdb *goredis.Client, channel string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := rdb.Publish(context.Background(), channel, m).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// An app with HTTP and Redis triggers serves both; it stays loaded while
// HTTP apps scale to zero; a redeploy moves the subscription to the new
// revision; a node restart restores it; delete ends it.
func TestServerTriggersRedisPinnedRedeployRestartDelete(t *testing.T) {
	redisURL := testsvc.Redis(t)
	rdb := redisClient(t, redisURL)
	data := t.TempDir()
	n := startTriggerNode(t, data, func(c *platform.Config) {
		c.IdleTimeout = 200 * time.Millisecond
		c.MaxLoaded = 1
	})
	ctx := context.Background()
	alice, aliceTok := n.tenant("alice", platformapi.Quotas{})
	dir := mixedApp(t, redisURL)
	ch1, ch2 := testsvc.Unique(t), testsvc.Unique(t)

	a := mustDeploy(t, alice, "mixed", dir, map[string]string{"channel": ch1}, platformapi.DeployOptions{})
	if !a.Loaded {
		t.Error("an app with a Redis trigger is not loaded right after deploy")
	}
	waitSubscribers(t, rdb, ch1, 1)
	if r := n.get("mixed", "/"); r.Status != 200 || r.Body != "hello from wagi\n" {
		t.Errorf("HTTP of the mixed app: %d %q", r.Status, r.Body)
	}
	var want []string
	for i := range 20 {
		want = append(want, "m-"+strconv.Itoa(i))
	}
	publishRedis(t, rdb, ch1, want...)
	eventually(t, "20 messages in the app's log", func() bool {
		return strings.Count(appLog(t, alice, "mixed", "listener_stdout.txt"), "\n") >= 20
	})
	if got := appLog(t, alice, "mixed", "listener_stdout.txt"); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("listener log:\n%s\nwant m-0 … m-19 in order", got)
	}

	// HTTP apps scale to zero and are evicted beyond MaxLoaded (1); the
	// pinned app is neither.
	hello := wagiApp(t, "hello", "", nil)
	for _, name := range []string{"web1", "web2"} {
		mustDeploy(t, alice, name, hello, nil, platformapi.DeployOptions{})
		if r := n.get(name, "/"); r.Status != 200 {
			t.Fatalf("%s: %d", name, r.Status)
		}
	}
	eventually(t, "the HTTP apps to scale to zero", func() bool {
		apps, err := alice.ListApps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var loaded []string
		for _, a := range apps {
			if a.Loaded {
				loaded = append(loaded, a.Name)
			}
		}
		return slices.Equal(loaded, []string{"mixed"})
	})
	waitSubscribers(t, rdb, ch1, 1)

	// Redeploy on another channel: the new revision subscribes, the old
	// one's subscription ends.
	mustDeploy(t, alice, "mixed", dir, map[string]string{"channel": ch2}, platformapi.DeployOptions{})
	waitSubscribers(t, rdb, ch2, 1)
	waitSubscribers(t, rdb, ch1, 0)
	publishRedis(t, rdb, ch2, "after-redeploy")
	eventually(t, "the redeployed revision's message", func() bool {
		return strings.HasSuffix(appLog(t, alice, "mixed", "listener_stdout.txt"), "m-19\nafter-redeploy\n")
	})

	// Rollback to revision 1: back on ch1.
	if _, err := alice.Rollback(ctx, "mixed", 1); err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, rdb, ch1, 1)
	waitSubscribers(t, rdb, ch2, 0)

	// A restart restores the subscription before any request comes.
	n.stop()
	waitSubscribers(t, rdb, ch1, 0)
	n2 := startTriggerNode(t, data, nil)
	waitSubscribers(t, rdb, ch1, 1)
	alice2 := n2.client(aliceTok.Secret)
	publishRedis(t, rdb, ch1, "after-restart")
	eventually(t, "the message after the restart", func() bool {
		return strings.HasSuffix(appLog(t, alice2, "mixed", "listener_stdout.txt"), "after-redeploy\nafter-restart\n")
	})
	if r := n2.get("mixed", "/"); r.Status != 200 {
		t.Errorf("HTTP after restart: %d", r.Status)
	}

	// Delete ends the subscription.
	if err := alice2.DeleteApp(ctx, "mixed"); err != nil {
		t.Fatal(err)
	}
	waitSubscribers(t, rdb, ch1, 0)
}

// The MQTT example (Go SDK) on a node: two tenants deploy it with their own
// variables; each app's messages land under its own key prefix (through
// its own outbound Redis connection); a restart restores the
// subscriptions; delete stops one app and not the other.
func TestServerTriggersMQTTExampleTenants(t *testing.T) {
	broker := testsvc.MQTT(t)
	redisURL := testsvc.Redis(t)
	rdb := redisClient(t, redisURL)
	app := sdkApp(t, "mqtt-go")
	data := t.TempDir()
	n := startTriggerNode(t, data, nil)
	ctx := context.Background()
	base := "wisp/" + testsvc.Unique(t)
	type tenant struct {
		name, prefix string
		tok          platformapi.Token
	}
	tenants := []*tenant{{name: "alice"}, {name: "bob"}}
	for _, tn := range tenants {
		var c *platformapi.Client
		c, tn.tok = n.tenant(tn.name, platformapi.Quotas{})
		tn.prefix = testsvc.Unique(t)
		mustDeploy(t, c, "sensors-"+tn.name, app, map[string]string{
			"broker": broker, "topic": base + "/" + tn.name + "/+",
			"redis_address": redisURL, "key_prefix": tn.prefix,
		}, platformapi.DeployOptions{})
		t.Cleanup(func() { rdb.Del(context.Background(), tn.prefix+":"+base+"/"+tn.name+"/s") })
	}
	pub := mqttPublisher(t, broker)
	list := func(tn *tenant) []string {
		got, err := rdb.LRange(ctx, tn.prefix+":"+base+"/"+tn.name+"/s", 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	send := func(round string) {
		for _, tn := range tenants {
			for i := range 5 {
				mqttPublish(t, pub, base+"/"+tn.name+"/s", []byte(fmt.Sprintf("%s-%s-%d", round, tn.name, i)))
			}
		}
	}
	wantOf := func(tn *tenant, rounds ...string) []string {
		var w []string
		for _, r := range rounds {
			for i := range 5 {
				w = append(w, fmt.Sprintf("%s-%s-%d", r, tn.name, i))
			}
		}
		return w
	}
	send("a")
	for _, tn := range tenants {
		eventually(t, tn.name+"'s messages in Redis", func() bool { return len(list(tn)) >= 5 })
		if got, want := list(tn), wantOf(tn, "a"); !slices.Equal(got, want) {
			t.Errorf("%s's list = %v, want %v", tn.name, got, want)
		}
	}

	// Restart: the subscriptions come back without any request.
	n.stop()
	n2 := startTriggerNode(t, data, nil)
	eventually(t, "both apps loaded after the restart", func() bool {
		for _, tn := range tenants {
			a, err := n2.client(tn.tok.Secret).App(ctx, "sensors-"+tn.name)
			if err != nil {
				t.Fatal(err)
			}
			if !a.Loaded {
				return false
			}
		}
		return true
	})
	send("b")
	for _, tn := range tenants {
		eventually(t, tn.name+"'s messages after the restart", func() bool { return len(list(tn)) >= 10 })
		if got, want := list(tn), wantOf(tn, "a", "b"); !slices.Equal(got, want) {
			t.Errorf("%s's list after restart = %v, want %v", tn.name, got, want)
		}
	}

	// Delete alice's app: bob's still runs, alice's gets nothing more.
	if err := n2.client(tenants[0].tok.Secret).DeleteApp(ctx, "sensors-alice"); err != nil {
		t.Fatal(err)
	}
	send("c")
	eventually(t, "bob's messages after alice's delete", func() bool { return len(list(tenants[1])) >= 15 })
	time.Sleep(500 * time.Millisecond) // a message to the deleted app would show by now
	if got, want := list(tenants[0]), wantOf(tenants[0], "a", "b"); !slices.Equal(got, want) {
		t.Errorf("alice's list after delete = %v, want %v", got, want)
	}
}

// The cron example runs every second on the node until deleted.
func TestServerTriggersCron(t *testing.T) {
	redisURL := testsvc.Redis(t)
	rdb := redisClient(t, redisURL)
	app := sdkApp(t, "cron-go")
	manifest := filepath.Join(app, "spin.toml")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	every := strings.Replace(text, `cron_expression = "*/10 * * * * *"`, `cron_expression = "* * * * * *"`, 1)
	if every == text {
		t.Fatal("examples/cron-go/spin.toml: cron_expression not found")
	}
	if err := os.WriteFile(manifest, []byte(every), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startTriggerNode(t, t.TempDir(), nil)
	alice, _ := n.tenant("alice", platformapi.Quotas{})
	prefix := testsvc.Unique(t)
	key := prefix + ":ticks"
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	mustDeploy(t, alice, "ticker", app, map[string]string{"redis_address": redisURL, "key_prefix": prefix}, platformapi.DeployOptions{})
	ctx := context.Background()
	eventually(t, "two ticks in Redis", func() bool {
		k, _ := rdb.LLen(ctx, key).Result()
		return k >= 2
	})
	if err := alice.DeleteApp(ctx, "ticker"); err != nil {
		t.Fatal(err)
	}
	after, _ := rdb.LLen(ctx, key).Result()
	time.Sleep(2500 * time.Millisecond) // two more ticks, were it still scheduled
	if k, _ := rdb.LLen(ctx, key).Result(); k != after {
		t.Errorf("%d ticks after delete, %d before: the schedule still runs", k, after)
	}
}

// A trigger that cannot start is a deploy error and the running revision
// stays; by default a tenant's trigger may not subscribe at loopback or
// private addresses, as its components may not connect there.
func TestServerTriggersDeployErrorsAndPolicy(t *testing.T) {
	redisURL := testsvc.Redis(t)
	broker := testsvc.MQTT(t)
	rdb := redisClient(t, redisURL)
	ctx := context.Background()
	dir := mixedApp(t, redisURL)

	// Default node: private networks blocked for tenants.
	strict := startNode(t, t.TempDir(), nil)
	alice, _ := strict.tenant("alice", platformapi.Quotas{})
	ch := testsvc.Unique(t)
	_, err := deployApp(t, alice, "mixed", dir, map[string]string{"channel": ch}, platformapi.DeployOptions{})
	if !platformapi.IsStatus(err, 400) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("Redis trigger at %s on a node blocking private networks: %v, want a 400 naming the block", redisURL, err)
	}
	mqttDir := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "m"
[application.trigger.mqtt]
address = %q
[[trigger.mqtt]]
component = "c"
topic = "t"
[component.c]
source = "c.wasm"
`, broker), nil)
	copyFile(t, triggertest.Guest(t, triggertest.MQTTQuiet), filepath.Join(mqttDir, "c.wasm"))
	if _, err := deployApp(t, alice, "m", mqttDir, nil, platformapi.DeployOptions{}); !platformapi.IsStatus(err, 400) || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("MQTT trigger at %s on a node blocking private networks: %v, want a 400 naming the block", broker, err)
	}
	if apps, _ := alice.ListApps(ctx); len(apps) != 0 {
		t.Errorf("failed deploys left apps: %+v", apps)
	}
	if got, _ := rdb.PubSubNumSub(ctx, ch).Result(); got[ch] != 0 {
		t.Errorf("a refused app subscribed: %d subscribers", got[ch])
	}

	// Allowed node: an unreachable server fails the deploy with the
	// reason; the running revision keeps its subscription.
	n := startTriggerNode(t, t.TempDir(), nil)
	bob, _ := n.tenant("bob", platformapi.Quotas{})
	mustDeploy(t, bob, "mixed", dir, map[string]string{"channel": ch}, platformapi.DeployOptions{})
	waitSubscribers(t, rdb, ch, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	bad := mixedApp(t, fmt.Sprintf("redis://127.0.0.1:%d", port))
	_, err = deployApp(t, bob, "mixed", bad, map[string]string{"channel": ch}, platformapi.DeployOptions{})
	if !platformapi.IsStatus(err, 400) || !strings.Contains(err.Error(), fmt.Sprintf("cannot connect to 127.0.0.1:%d", port)) {
		t.Errorf("deploying with an unreachable Redis: %v, want a 400 naming the server", err)
	}
	if a, err := bob.App(ctx, "mixed"); err != nil || a.Current != 1 || !a.Loaded {
		t.Errorf("after the failed deploy: %v %+v, want revision 1 loaded", err, a)
	}
	waitSubscribers(t, rdb, ch, 1)
	if _, err := deployApp(t, bob, "fresh", bad, map[string]string{"channel": ch}, platformapi.DeployOptions{}); !platformapi.IsStatus(err, 400) {
		t.Errorf("a new app with an unreachable Redis: %v, want 400", err)
	}
	if _, err := bob.App(ctx, "fresh"); !platformapi.IsStatus(err, 404) {
		t.Errorf("the failed new app exists: %v", err)
	}

	// Event triggers' concurrency counts against the per-app quota.
	carol, _ := n.tenant("carol", platformapi.Quotas{MaxConcurrency: 2})
	busy := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "busy"
[[trigger.redis]]
address = %q
channel = %q
component = "c"
concurrency = 3
[component.c]
source = "c.wasm"
`, redisURL, ch), nil)
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(busy, "c.wasm"))
	if _, err := deployApp(t, carol, "busy", busy, nil, platformapi.DeployOptions{}); !platformapi.IsStatus(err, 400) || !strings.Contains(err.Error(), "limit of 2") {
		t.Errorf("Redis concurrency 3 under a quota of 2: %v, want a 400", err)
	}
}

// A deploy returns once the app's Redis trigger is subscribed: a message
// published right after it reaches the app, with no wait for the
// subscription. Each deploy moves to a new channel, so the count is the
// new revision's alone.
func TestServerTriggersRedisDeployReturnsSubscribed(t *testing.T) {
	redisURL := testsvc.Redis(t)
	rdb := redisClient(t, redisURL)
	ctx := context.Background()
	n := startTriggerNode(t, t.TempDir(), nil)
	alice, _ := n.tenant("alice", platformapi.Quotas{})
	dir := writeAppFiles(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "listener"
[variables]
channel = { required = true }
[[trigger.redis]]
address = %q
channel = "{{ channel }}"
component = "c"
[component.c]
source = "c.wasm"
`, redisURL), nil)
	copyFile(t, triggertest.Guest(t, triggertest.RedisStdout), filepath.Join(dir, "c.wasm"))
	for i := range 3 {
		ch := testsvc.Unique(t) + "-" + strconv.Itoa(i)
		mustDeploy(t, alice, "listener", dir, map[string]string{"channel": ch}, platformapi.DeployOptions{})
		got, err := rdb.PubSubNumSub(ctx, ch).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got[ch] != 1 {
			t.Fatalf("deploy %d returned with %d subscribers on its channel, want 1", i+1, got[ch])
		}
		msg := "right-after-deploy-" + strconv.Itoa(i)
		publishRedis(t, rdb, ch, msg)
		eventually(t, msg+" in the app's log", func() bool {
			return strings.Contains(appLog(t, alice, "listener", "c_stdout.txt"), msg+"\n")
		})
	}
}
