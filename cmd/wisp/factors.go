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

// factors is the set of host capabilities, in dependency order. Adding a
// capability means adding it here; nothing else in the CLI changes.
func factors(vars map[string]string) (*factor.Set, error) {
	// As in Spin: --variable flags first, then the runtime config's
	// providers, then the environment, then a .env file in the working
	// directory (Spin's default env provider reads "./.env").
	dotenv, err := variables.DotEnv(variables.DefaultEnvPrefix, ".env")
	if err != nil {
		return nil, err
	}
	return factor.NewSet(
		factorvars.New([]variables.Provider{variables.Static(vars)},
			variables.Env(variables.DefaultEnvPrefix, os.LookupEnv), dotenv),
		llm.New(),
		outboundnet.New(),
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
