package mysql_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

// timed calls fn with a deadline well beyond what the statement needs and
// fails the test if the call came close to it.
func timed(t *testing.T, ctx context.Context, iface, fn string, args ...any) cabi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	r := call(t, ctx, iface, fn, args...)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%s %q took %v: %#v", fn, args[1], d, r)
	}
	return r
}

// TestExecuteResults is the regression test for execute blocking until
// the deadline (and the connection being closed) when a statement
// returned fewer rows than columns or failed part way through its result:
// the driver's Exec skipped rows as if they were the column definitions
// MariaDB leaves out. Every such statement must return at once, failures
// as query-failed, and leave the session usable; dropping the connection
// must give its slot back.
func TestExecuteResults(t *testing.T) {
	ctx, address := setup(t, mysql.NewWithLimits(mysql.Limits{MaxPerInstance: 1, AcquireTimeout: 2 * time.Second}),
		"[outbound_mysql]\nmax_connections = 1\n")
	name := testsvc.Unique(t)
	table, proc := name+"_t", name+"_p"

	setupConn := open(t, ctx, mysql.FermyonV2, address)
	execute(t, ctx, mysql.FermyonV2, setupConn, "CREATE TABLE "+table+" (id BIGINT, name TEXT, data BLOB, f DOUBLE)")
	execute(t, ctx, mysql.FermyonV2, setupConn, "CREATE PROCEDURE "+proc+"() BEGIN SELECT 1, 2; SELECT 3, 4, 5; SELECT CAST(1 AS UNSIGNED) - 2; END")
	setupConn.(component.Dropper).Drop()
	t.Cleanup(func() {
		c := open(t, ctx, mysql.FermyonV2, address)
		execute(t, ctx, mysql.FermyonV2, c, "DROP TABLE IF EXISTS "+table)
		execute(t, ctx, mysql.FermyonV2, c, "DROP PROCEDURE IF EXISTS "+proc)
		c.(component.Dropper).Drop()
	})

	const outOfRange = "out of range"
	cases := []struct {
		stmt    string
		params  []any
		wantErr string
	}{
		{"SELECT 1, 2", nil, ""},
		{"SELECT 1.5, CAST(1e30 AS DECIMAL(65,0))", nil, ""},
		{"SELECT * FROM " + table, nil, ""}, // four columns, no rows
		{"SELECT ?, ?, ?", []any{v(rdbms.Int32, int32(1)), v(rdbms.Str, "x"), v(rdbms.DbNull, nil)}, ""},
		{"SELECT CAST(1 AS UNSIGNED) - 2", nil, outOfRange}, // fails at its first row
		{"SELECT a - 2 FROM (SELECT CAST(5 AS UNSIGNED) a UNION ALL SELECT CAST(1 AS UNSIGNED) a) t", nil, outOfRange},
		{"CALL " + proc + "()", nil, outOfRange}, // fails in its third result
		{"SELEC 1", nil, "syntax"},
		{"SELECT ?", nil, "arguments"}, // a parameter short
	}
	for _, iface := range []string{mysql.FermyonV2, mysql.SpinV3} {
		// Each interface's connection takes the only slot: this open
		// fails unless the previous one's drop released it.
		c := open(t, ctx, iface, address)
		execute(t, ctx, iface, c, "SET @wisp_calls = 0")
		for _, tc := range cases {
			r := timed(t, ctx, iface, "[method]connection.execute", c, tc.stmt, append([]any{}, tc.params...))
			if tc.wantErr == "" {
				if r.IsErr {
					t.Errorf("%s execute %q: %#v", iface, tc.stmt, r.Value)
				}
			} else if ev, _ := r.Value.(cabi.Variant); !r.IsErr || ev.Case != rdbms.QueryFailed || !strings.Contains(ev.Value.(string), tc.wantErr) {
				t.Errorf("%s execute %q: %#v, want query-failed with %q", iface, tc.stmt, r, tc.wantErr)
			}
			// The same session goes on: its variable counts every call.
			execute(t, ctx, iface, c, "SET @wisp_calls = @wisp_calls + 1")
		}
		// query is the same on both interfaces' connections; v3's is
		// served only by v2's function here.
		for _, tc := range cases {
			r := timed(t, ctx, mysql.FermyonV2, "[method]connection.query", c, tc.stmt, append([]any{}, tc.params...))
			if r.IsErr != (tc.wantErr != "") {
				t.Errorf("%s query %q: %#v", iface, tc.stmt, r)
			}
		}
		want := v(rdbms.Int64, int64(len(cases)))
		if got := query(t, ctx, c, "SELECT @wisp_calls").rows[0].([]any)[0]; got != want {
			t.Errorf("%s: session variable %#v after the calls, want %#v: the session was replaced", iface, got, want)
		}
		c.(component.Dropper).Drop()
	}
}

// TestInterruptedStatement checks what a statement cut short by the
// call's deadline leaves: the driver closes the connection, later calls
// say so and how to go on, and the drop gives the slot back.
func TestInterruptedStatement(t *testing.T) {
	ctx, address := setup(t, mysql.NewWithLimits(mysql.Limits{MaxPerInstance: 1, AcquireTimeout: 2 * time.Second}),
		"[outbound_mysql]\nmax_connections = 1\n")
	c := open(t, ctx, mysql.SpinV3, address)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if r := call(t, short, mysql.SpinV3, "[method]connection.execute", c, "SELECT SLEEP(5)", []any{}); !r.IsErr {
		t.Fatalf("interrupted statement: %#v", r)
	}
	for _, iface := range []string{mysql.SpinV3, mysql.FermyonV2} {
		fn := "[method]connection.execute"
		if iface == mysql.FermyonV2 {
			fn = "[method]connection.query"
		}
		r := call(t, ctx, iface, fn, c, "SELECT 1", []any{})
		if ev, _ := r.Value.(cabi.Variant); !r.IsErr || ev.Case != rdbms.QueryFailed || !strings.Contains(ev.Value.(string), "open a new connection") {
			t.Errorf("after the interruption: %#v", r)
		}
	}
	c.(component.Dropper).Drop()
	c = open(t, ctx, mysql.SpinV3, address)
	execute(t, ctx, mysql.SpinV3, c, "SELECT 1")
}
