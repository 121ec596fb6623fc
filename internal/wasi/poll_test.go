package wasi

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

const (
	monoNowFn   = "wasi:clocks/monotonic-clock#now"
	monoResFn   = "wasi:clocks/monotonic-clock#resolution"
	subInstant  = "wasi:clocks/monotonic-clock#subscribe-instant"
	subDuration = "wasi:clocks/monotonic-clock#subscribe-duration"
)

func indices(v any) []uint32 {
	var out []uint32
	for _, x := range v.([]any) {
		out = append(out, x.(uint32))
	}
	return out
}

func TestPollWaitsForFirstReady(t *testing.T) {
	ctx := context.Background()
	before := runtime.NumGoroutine()
	pr, pw := io.Pipe()
	defer pw.Close()
	long := call1(t, ctx, subDuration, uint64(time.Hour))
	short := call1(t, ctx, subDuration, uint64(20*time.Millisecond))
	stream := call1(t, ctx, inSubscribe, NewInputStream(pr))
	start := time.Now()
	got := indices(call1(t, ctx, pollPoll, []any{long, short, stream}))
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("poll = %v, want [1]", got)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("poll returned after %v, before the timer", d)
	}
	// Now the short timer stays ready: poll returns at once, listing
	// every ready pollable.
	past := call1(t, ctx, subInstant, uint64(0))
	got = indices(call1(t, ctx, pollPoll, []any{long, short, past}))
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("poll = %v, want [1 2]", got)
	}
	pw.Close() // the pipe reader's goroutine ends with the pipe
	waitGoroutines(t, before)
}

func TestPollStopsAtDeadline(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	a := call1(t, ctx, subDuration, uint64(time.Hour))
	b := call1(t, ctx, subDuration, uint64(time.Hour))
	if _, err := call(t, ctx, pollPoll, []any{a, b}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("poll past the deadline: %v", err)
	}
	if _, err := call(t, ctx, pollBlock, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("block past the deadline: %v", err)
	}
	waitGoroutines(t, before)
}

func TestPollEmptyListTraps(t *testing.T) {
	if _, err := call(t, context.Background(), pollPoll, []any{}); err == nil {
		t.Fatal("poll of nothing succeeded")
	}
}

// waitGoroutines fails if goroutines started by the test outlive it.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before", runtime.NumGoroutine(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestClocks(t *testing.T) {
	ctx := context.Background()
	a := call1(t, ctx, monoNowFn).(uint64)
	time.Sleep(time.Millisecond)
	b := call1(t, ctx, monoNowFn).(uint64)
	if b <= a || b-a < uint64(time.Millisecond) {
		t.Fatalf("monotonic now went %d -> %d", a, b)
	}
	if r := call1(t, ctx, monoResFn).(uint64); r == 0 {
		t.Fatal("zero resolution")
	}
	now := call1(t, ctx, "wasi:clocks/wall-clock#now").([]any)
	wall := time.Unix(int64(now[0].(uint64)), int64(now[1].(uint32)))
	if d := time.Since(wall); d < 0 || d > time.Second {
		t.Fatalf("wall clock off by %v", d)
	}
	res := call1(t, ctx, "wasi:clocks/wall-clock#resolution").([]any)
	if res[0].(uint64) != 0 || res[1].(uint32) == 0 {
		t.Fatalf("wall resolution %v", res)
	}
	call1(t, ctx, "wasi:clocks/timezone#display", now)
	call1(t, ctx, "wasi:clocks/timezone#utc-offset", now)

	// subscribe-instant at now+10ms is not ready at once, then is; a huge
	// duration does not overflow into the past.
	p := call1(t, ctx, subInstant, call1(t, ctx, monoNowFn).(uint64)+uint64(10*time.Millisecond))
	if call1(t, ctx, pollReady, p).(bool) {
		t.Fatal("future instant ready")
	}
	if _, err := call(t, ctx, pollBlock, p); err != nil || !call1(t, ctx, pollReady, p).(bool) {
		t.Fatalf("block: %v", err)
	}
	if call1(t, ctx, pollReady, call1(t, ctx, subDuration, ^uint64(0))).(bool) {
		t.Fatal("max duration ready")
	}
}
