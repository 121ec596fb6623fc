package mysql_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testguest"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// guestWAT fills the addresses into a WAT template and assembles it.
func guestWAT(t *testing.T, template string, vars map[string]string) []byte {
	t.Helper()
	src, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{{"+k+"_LEN}}", strconv.Itoa(len(v)))
		text = strings.ReplaceAll(text, "{{"+k+"}}", v)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(template))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(testguest.WAT(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host, App.Prepare's context and the
// component's outbound policy passed to the call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	ctx := context.Background()
	address := testsvc.MySQL(t)
	u, err := url.Parse(address)
	if err != nil {
		t.Fatal(err)
	}
	wasm := guestWAT(t, "testdata/mysqlguest.wat", map[string]string{
		"ADDRESS": address,
		"DENIED":  "mysql://root@192.0.2.1:3306/test",
	})
	set, err := factor.NewSet(mysql.New())
	if err != nil {
		t.Fatal(err)
	}
	host, err := component.NewHost(set.Interfaces()...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	c, err := component.LoadCore(ctx, eng, wasm, host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	app, err := set.ConfigureApp(ctx, factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	policy := mustPolicy(t, "mysql://"+u.Host)
	for range 3 { // fresh instance per request
		inst, err := c.Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		callCtx, err := app.Prepare(outbound.WithPolicy(ctx, policy), "a")
		if err != nil {
			t.Fatal(err)
		}
		res, err := inst.Call(callCtx, "wasi:cli/run@0.2.0", "run")
		inst.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := res[0].(cabi.Result); r.IsErr {
			t.Fatal("guest reported failure")
		}
	}
}
