// Package cron is the cron trigger, in the shape of the spin-trigger-cron
// plugin: each [[trigger.cron]] runs its component on the schedule of its
// cron_expression, calling the world-level export the plugin's SDK makes:
//
//	handle-cron-event: func(metadata: metadata) -> result<_, error>
//
// (fermyon:spin-cron@2.0.0, world spin-cron; metadata is
// record { timestamp: u64 }, the tick's time in Unix seconds; error is
// variant { other(string) }).
//
// cron_expression has six fields, seconds first ("0 */5 * * * *": every
// five minutes), plus an optional year that must be "*"; the @hourly,
// @daily, ... and "@every 1m30s" descriptors work too. Schedules are in
// UTC, as the plugin's scheduler keeps them.
//
// Runs of one trigger never overlap: a tick that comes while the previous
// run is still going is skipped (logged and counted), not queued, so a
// slow component does not build up a backlog. Ticks that pass while Wisp
// is not running are not made up. A failing guest is logged and counted;
// the next tick runs it again.
package cron

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	robfig "github.com/robfig/cron/v3"

	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/trigger"
	"github.com/wisp-dev/wisp/pkg/manifest"
)

// Type is the trigger type in the manifest.
const Type = "cron"

// Export is the guest export the trigger calls.
var Export = trigger.WorldFunc("fermyon:spin-cron/spin-cron@2.0.0", "handle-cron-event")

// Options tunes the trigger.
type Options struct {
	// Logger receives the trigger's own messages; nil discards them.
	Logger *slog.Logger
	// Invoke is how components are called (timeout, extra context).
	Invoke trigger.Options
	// Now returns the current time; nil uses time.Now. Tests set it.
	Now func() time.Time
}

// Trigger is the cron trigger of one app.
type Trigger struct {
	jobs  []*job
	log   *slog.Logger
	now   func() time.Time
	stats trigger.Stats
}

var _ trigger.Trigger = (*Trigger)(nil)

type job struct {
	triggerID string
	expr      string
	schedule  robfig.Schedule
	inv       *trigger.Invoker
	running   atomic.Bool
}

// New prepares the cron triggers of app; it fails if a trigger's
// expression or component is unusable.
func New(app *executor.App, opts Options) (*Trigger, error) {
	t := &Trigger{log: opts.Logger, now: opts.Now}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	for _, lt := range app.Locked.Triggers {
		if lt.Type != Type {
			continue
		}
		j, err := newJob(app, lt.ID, lt.Component, lt.Config, opts)
		if err != nil {
			return nil, fmt.Errorf("cron trigger %q: %w", lt.ID, err)
		}
		t.jobs = append(t.jobs, j)
	}
	return t, nil
}

func newJob(app *executor.App, id, componentID string, cfg map[string]any, opts Options) (*job, error) {
	c := app.Component(componentID)
	if c == nil {
		return nil, fmt.Errorf("component %q is not loaded", componentID)
	}
	expr, err := trigger.String(cfg, "cron_expression")
	if err != nil {
		return nil, err
	}
	if expr == "" {
		return nil, fmt.Errorf("no cron_expression")
	}
	sched, err := manifest.ParseCronExpression(expr)
	if err != nil {
		return nil, err
	}
	inv, err := trigger.NewInvoker(c, opts.Invoke, Export)
	if err != nil {
		return nil, err
	}
	return &job{triggerID: id, expr: expr, schedule: sched, inv: inv}, nil
}

// Stats returns the trigger's counters.
func (t *Trigger) Stats() *trigger.Stats { return &t.stats }

// Run runs the schedules until ctx is cancelled, then waits for runs in
// progress (each bounded by its timeout).
func (t *Trigger) Run(ctx context.Context) error {
	if len(t.jobs) == 0 {
		<-ctx.Done()
		return nil
	}
	c := robfig.New(robfig.WithLocation(time.UTC))
	for _, j := range t.jobs {
		c.Schedule(j.schedule, robfig.FuncJob(func() { t.tick(ctx, j) }))
		t.log.Info("Cron trigger scheduled", "trigger", j.triggerID, "cron_expression", j.expr,
			"next", j.schedule.Next(time.Now().UTC()).Format(time.RFC3339))
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// tick runs j once, unless its previous run is still going.
func (t *Trigger) tick(ctx context.Context, j *job) {
	if ctx.Err() != nil {
		return
	}
	if !j.running.CompareAndSwap(false, true) {
		t.stats.Skipped.Add(1)
		j.inv.Component().Logf("cron trigger %q: skipped a tick: the previous run is still going", j.triggerID)
		t.log.Warn("Cron tick skipped: the previous run is still going", "trigger", j.triggerID)
		return
	}
	defer j.running.Store(false)
	ts := uint64(t.now().Unix())
	// A run that started finishes (within its timeout) even if the
	// trigger is stopped meanwhile.
	err := j.inv.Call(context.WithoutCancel(ctx), []any{ts})
	t.stats.Record(err)
	if err != nil {
		j.inv.Component().Logf("cron trigger %q: %s", j.triggerID, trigger.DescribeError(err))
		t.log.Debug("Cron run failed", "trigger", j.triggerID, "error", err)
		return
	}
	t.log.Debug("Cron run done", "trigger", j.triggerID, "timestamp", ts)
}
