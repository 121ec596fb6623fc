package factorfuzz

import (
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factors/postgres"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

// TestRepros replays, with fixed arguments, the failures the random test
// found, so each stays visible until its factor is fixed.
func TestRepros(t *testing.T) {
	t.Run("sqlite text that is not UTF-8", func(t *testing.T) {
		_, ctx := configure(t, nil)
		h := newHarness(t, ctx, newRand(1), testsvc.Unique(t))
		h.g.hint = hints(h, sqlite.New(), "")
		fns := functions(t, sqlite.New(), false)
		h.harvestHandles(fns)
		defer h.dropAll()
		for _, fn := range fns {
			if fn.name == "[method]connection.execute" {
				conn := h.g.pool[fn.wit.Type.Params[0].Type.Resource][0]
				args := []any{conn, "SELECT CAST(x'ff' AS TEXT)", []any{}}
				h.report(fn, args, h.call(fn, args, true), false)
			}
		}
	})
	t.Run("postgres empty statement with parameters", func(t *testing.T) {
		url := testsvc.Postgres(t)
		_, ctx := configure(t, []string{hostPort("postgres", url)})
		h := newHarness(t, ctx, newRand(1), testsvc.Unique(t))
		h.g.hint = hints(h, postgres.New(), url)
		fns := functions(t, postgres.New(), false)
		h.harvestHandles(fns)
		defer h.dropAll()
		for _, fn := range fns {
			if fn.name == "[method]connection.execute" || fn.name == "[method]connection.query" {
				conn := h.g.pool[fn.wit.Type.Params[0].Type.Resource][0]
				args := []any{conn, "", []any{cabi.Variant{Case: 3, Value: int32(1)}}}
				h.report(fn, args, h.call(fn, args, true), false)
			}
		}
	})
}
