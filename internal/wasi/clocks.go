package wasi

import (
	"context"
	"math"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
)

// monoBase is the origin of wasi:clocks/monotonic-clock instants. Go's
// time.Since reads the monotonic clock, so instants never go backwards
// whatever happens to the wall clock. Instants are comparable across all
// instances of this process, which is all the WIT promises.
var monoBase = time.Now()

func monoNow() uint64 { return uint64(time.Since(monoBase)) }

func clockInterfaces() []component.Interface {
	return []component.Interface{
		iface("clocks/monotonic-clock", map[string]component.HostFunc{
			"now":                monotonicNow,
			"resolution":         monotonicResolution,
			"subscribe-instant":  subscribeInstant,
			"subscribe-duration": subscribeDuration,
		}),
		iface("clocks/wall-clock", map[string]component.HostFunc{
			"now":        wallNow,
			"resolution": wallResolution,
		}),
		// timezone is unstable in WASI; instances run in UTC.
		iface("clocks/timezone", map[string]component.HostFunc{
			"display":    timezoneDisplay,
			"utc-offset": timezoneUTCOffset,
		}),
	}
}

func monotonicNow(context.Context, *component.Call, []any) ([]any, error) {
	return []any{monoNow()}, nil
}

// monotonicResolution is Go's monotonic clock's: nanoseconds.
func monotonicResolution(context.Context, *component.Call, []any) ([]any, error) {
	return []any{uint64(1)}, nil
}

func subscribeInstant(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	when, err := arg[uint64](args, 0)
	if err != nil {
		return nil, err
	}
	return []any{&timer{at: when}}, nil
}

func subscribeDuration(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	d, err := arg[uint64](args, 0)
	if err != nil {
		return nil, err
	}
	now := monoNow()
	at := now + d
	if at < now { // overflow: never
		at = math.MaxUint64
	}
	return []any{&timer{at: at}}, nil
}

// timer is a pollable ready at a monotonic instant. It holds no Go timer:
// one exists only inside Block, and is stopped when Block returns, so a
// dropped (or never awaited) timer costs nothing.
type timer struct{ at uint64 }

func (t *timer) Ready() bool { return monoNow() >= t.at }

func (t *timer) Block(ctx context.Context) error {
	now := monoNow()
	if now >= t.at {
		return nil
	}
	left := t.at - now
	if left > math.MaxInt64 {
		left = math.MaxInt64
	}
	tm := time.NewTimer(time.Duration(left))
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// datetime is wasi:clocks/wall-clock's datetime record.
func datetime(t time.Time) []any {
	return []any{uint64(t.Unix()), uint32(t.Nanosecond())}
}

func wallNow(context.Context, *component.Call, []any) ([]any, error) {
	return []any{datetime(time.Now())}, nil
}

func wallResolution(context.Context, *component.Call, []any) ([]any, error) {
	return []any{[]any{uint64(0), uint32(1)}}, nil
}

func timezoneDisplay(context.Context, *component.Call, []any) ([]any, error) {
	return []any{[]any{int32(0), "UTC", false}}, nil
}

func timezoneUTCOffset(context.Context, *component.Call, []any) ([]any, error) {
	return []any{int32(0)}, nil
}
