// Package crontrigger handles the runs of a cron trigger ([[trigger.cron]]
// in spin.toml, the spin-trigger-cron plugin's shape): the module exports
// the world-level function handle-cron-event of
// fermyon:spin-cron/spin-cron@2.0.0, which Wisp (and Spin with the plugin)
// calls on every tick of the trigger's cron_expression, in a fresh
// instance.
//
// Register the handler from init; a reactor's main is never run:
//
//	func init() {
//		crontrigger.Handle(func(tick time.Time) error {
//			log.Printf("tick at %s", tick.Format(time.RFC3339))
//			return nil
//		})
//	}
//
// tick is the time the host scheduled the run for, in whole seconds, in
// UTC (the event's Unix timestamp). A handler's error, or a panic, is
// returned to the host as the WIT error other(message), which the host
// logs; the next tick runs the handler again.
//
// The export is a plain (world-level) function, which Wisp lifts by name;
// `wisp build --component` does not make such a module a component yet.
package crontrigger

import "time"

var handler func(tick time.Time) error

// Handle registers f as the module's cron event handler.
func Handle(f func(tick time.Time) error) { handler = f }
