package cron_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/internal/trigger/cron"
	"github.com/wisp-dev/wisp/internal/trigger/triggertest"
)

const app = `spin_manifest_version = 2
[application]
name = "cron-test"
[[trigger.cron]]
component = "guest"
cron_expression = "* * * * * *"
[component.guest]
source = "guest.wasm"
`

func load(t *testing.T) *triggertest.App {
	return triggertest.Load(t, app, map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.Cron)}, nil)
}

func run(t *testing.T, trig *cron.Trigger, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- trig.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(d + 10*time.Second):
		t.Fatal("Run did not return after cancellation")
	}
}

// Every second, the guest runs with the tick's Unix time.
func TestCronRunsOnSchedule(t *testing.T) {
	a := load(t)
	trig, err := cron.New(a.App, cron.Options{Invoke: trigger.Options{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Unix()
	run(t, trig, 3500*time.Millisecond)
	calls := a.Recorder.Calls()
	if len(calls) < 3 || len(calls) > 4 {
		t.Fatalf("guest ran %d times in 3.5s on a one-second schedule, want 3 or 4", len(calls))
	}
	for i, c := range calls {
		if int64(c.N) < start || int64(c.N) > time.Now().Unix() || (i > 0 && c.N <= calls[i-1].N) {
			t.Errorf("run %d has timestamp %d (started at %d)", i, c.N, start)
		}
	}
	if st := trig.Stats(); st.Handled.Load() != int64(len(calls)) || st.Failed.Load() != 0 || st.Skipped.Load() != 0 {
		t.Errorf("stats: handled %d, failed %d, skipped %d", st.Handled.Load(), st.Failed.Load(), st.Skipped.Load())
	}
}

// A run longer than the interval: the ticks during it are skipped, never
// stacked, and runs never overlap.
func TestCronSkipsTicksWhileRunning(t *testing.T) {
	a := load(t)
	var inFlight, peak, runs atomic.Int32
	a.Recorder.Hook = func(triggertest.Call) {
		if n := inFlight.Add(1); n > peak.Load() {
			peak.Store(n)
		}
		if runs.Add(1) == 1 {
			time.Sleep(2500 * time.Millisecond) // the first run spans two ticks
		}
		inFlight.Add(-1)
	}
	trig, err := cron.New(a.App, cron.Options{Invoke: trigger.Options{Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, trig, 4500*time.Millisecond)
	st := trig.Stats()
	if st.Skipped.Load() < 2 {
		t.Errorf("skipped %d ticks, want at least 2", st.Skipped.Load())
	}
	if peak.Load() != 1 {
		t.Errorf("%d runs overlapped", peak.Load())
	}
	if got := runs.Load(); got < 2 || got > 3 {
		t.Errorf("%d runs in 4.5s with the first taking 2.5s, want 2 or 3", got)
	}
	if log := a.ReadLog(t, "guest", "stderr"); !strings.Contains(log, `skipped a tick: the previous run is still going`) {
		t.Errorf("component log:\n%s", log)
	}
}

func TestCronBadConfig(t *testing.T) {
	a := load(t)
	// A locked app from elsewhere (an OCI artifact) is checked again.
	a.Locked.Triggers[0].Config["cron_expression"] = "*/5 * * * *"
	_, err := cron.New(a.App, cron.Options{})
	if err == nil || !strings.Contains(err.Error(), `cron trigger "guest-cron-trigger": cron_expression "*/5 * * * *" has 5 fields`) {
		t.Errorf("five fields: %v", err)
	}
	b := triggertest.Load(t, app, map[string]string{"guest.wasm": triggertest.Guest(t, triggertest.MQTT)}, nil)
	_, err = cron.New(b.App, cron.Options{})
	if err == nil || !strings.Contains(err.Error(), `component "guest" exports none of handle-cron-event`) {
		t.Errorf("non-cron guest: %v", err)
	}
}
