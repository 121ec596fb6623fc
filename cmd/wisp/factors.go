package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/llm"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/factors/outboundnet"
	"github.com/wisp-dev/wisp/internal/factors/postgres"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	factorvars "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/internal/wasi"
	"github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// factors is the set of host capabilities for wisp up and doctor, in
// dependency order. As in Spin, variables come from --variable flags
// first, then the runtime config's providers, then the environment, then
// a .env file in the working directory (Spin's default env provider reads
// "./.env").
func factors(vars map[string]string) (*factor.Set, error) {
	dotenv, err := variables.DotEnv(variables.DefaultEnvPrefix, ".env")
	if err != nil {
		return nil, err
	}
	return factorSet(outboundnet.New(), []variables.Provider{variables.Static(vars)},
		variables.Env(variables.DefaultEnvPrefix, os.LookupEnv), dotenv)
}

// serverFactors is the same set for one app of wisp server: its variables
// come only from what was deployed with it, never from the node's own
// environment, which every tenant would otherwise see.
//
// Each app's outbound connections are bounded (tenants bring no runtime
// config, so the node's default is the limit): one app flooding the
// network cannot take the node's sockets and file descriptors from the
// others, nor hammer a third party with them.
func serverFactors(vars map[string]string) (*factor.Set, error) {
	onet := outboundnet.NewWithLimits(outboundnet.Limits{MaxTotalConnections: serverMaxOutboundConnections})
	return factorSet(onet, []variables.Provider{variables.Static(vars)})
}

// serverMaxOutboundConnections is the outbound connections one app of wisp
// server may have open at once ([outbound_networking]
// max_total_connections): two for each instance at the default
// per-app concurrency quota (platform.DefaultMaxConcurrency, 64), so a
// fan-out of two requests per instance, or pooled idle connections, do
// not wait. A variable so that tests can lower it.
var serverMaxOutboundConnections = 128

// factorSet lists every capability. Adding one means adding it here;
// nothing else in the CLI changes.
func factorSet(onet *outboundnet.Factor, before []variables.Provider, after ...variables.Provider) (*factor.Set, error) {
	return factor.NewSet(
		factorvars.New(before, after...),
		llm.New(),
		onet,
		keyvalue.New(),
		sqlite.New(),
		redis.New(),
		mqtt.New(),
		postgres.New(),
		mysql.New(),
	)
}

// newHost is the set of host interfaces components may import. Every
// component gets the same functions; what each may reach (files, stores,
// outbound hosts, ...) is decided per component by the manifest.
func newHost(set *factor.Set) (*component.Host, error) {
	ifaces := append(wasi.Interfaces(), wasihttp.Interfaces()...)
	return component.NewHost(append(ifaces, set.Interfaces()...)...)
}

// configureFactors validates the app against the factors and the runtime
// config (every section must be taken by a factor) and, unless
// validateOnly, opens their backends. State lives in <app dir>/.wisp.
func configureFactors(ctx context.Context, set *factor.Set, app *lockedapp.LockedApp, appDir, runtimeConfig string, validateOnly bool) (*factor.App, error) {
	rc := runtimeconfig.Empty()
	baseDir := appDir
	if runtimeConfig != "" {
		var err error
		if rc, err = runtimeconfig.Load(runtimeConfig); err != nil {
			return nil, err
		}
		baseDir = filepath.Dir(runtimeConfig)
	}
	return set.ConfigureApp(ctx, &factor.AppContext{
		App:           app,
		RuntimeConfig: rc,
		StateDir:      filepath.Join(appDir, ".wisp"),
		BaseDir:       baseDir,
		ValidateOnly:  validateOnly,
	})
}
