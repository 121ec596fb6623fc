package mysql_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/outbound"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// TestGuest runs a real guest through component.LoadCore with the
// factor's interfaces in the Host, App.Prepare's context and the
// component's outbound policy passed to the call: the wiring cmd/wisp does.
func TestGuest(t *testing.T) {
	address := testsvc.MySQL(t)
	u, err := url.Parse(address)
	if err != nil {
		t.Fatal(err)
	}
	wasm := factortest.WAT(t, "testdata/mysqlguest.wat", map[string]string{
		"ADDRESS": address,
		"DENIED":  "mysql://root@192.0.2.1:3306/test",
	})
	ac := factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), "")
	g := factortest.NewGuest(t, wasm, ac, mysql.New())
	policy := factortest.Policy(t, "mysql://"+u.Host)
	for range 3 { // fresh instance per request
		g.Run(outbound.WithPolicy(context.Background(), policy), "a")
	}
}
