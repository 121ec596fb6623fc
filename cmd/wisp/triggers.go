package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/factor"
	factorvars "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/trigger"
	crontrigger "github.com/wisp-dev/wisp/internal/trigger/cron"
	httptrigger "github.com/wisp-dev/wisp/internal/trigger/http"
	mqtttrigger "github.com/wisp-dev/wisp/internal/trigger/mqtt"
	redistrigger "github.com/wisp-dev/wisp/internal/trigger/redis"
	"github.com/wisp-dev/wisp/internal/wasihttp"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// triggerTypes are the trigger types `wisp up` and `wisp server` run.
var triggerTypes = []string{"http", redistrigger.Type, mqtttrigger.Type, crontrigger.Type}

// triggerKinds returns the trigger types app has, failing on one that
// runner (wisp up, wisp server) does not run.
func triggerKinds(app *lockedapp.LockedApp, runner string) (map[string]bool, error) {
	has := map[string]bool{}
	for _, t := range app.Triggers {
		if !slices.Contains(triggerTypes, t.Type) {
			return nil, fmt.Errorf("trigger %q has type %q, which %s does not run (it runs %s)", t.ID, t.Type, runner, strings.Join(triggerTypes, ", "))
		}
		has[t.Type] = true
	}
	return has, nil
}

// serveTriggers runs every trigger the app has under one process: the HTTP
// server only if the app has HTTP triggers (or no triggers at all), the
// Redis, MQTT and cron triggers if it has those. Every trigger is
// configured before any starts, so a bad setting fails the whole app
// before it serves anything. It returns when ctx is cancelled (Ctrl-C,
// SIGTERM) and every trigger has stopped, or as soon as one trigger fails
// (it cannot reach its server, the port is taken), after stopping the
// others.
func serveTriggers(ctx context.Context, loaded *executor.App, fapp *factor.App, log *slog.Logger, o upOptions) error {
	has, err := triggerKinds(loaded.Locked, "wisp up")
	if err != nil {
		return err
	}

	var srv *httptrigger.Server
	self := func() http.Handler { return srv }
	var handlers map[string]httptrigger.Handler
	if has["http"] || len(has) == 0 {
		if handlers, err = httpHandlers(loaded, log, self); err != nil {
			return err
		}
	}
	invoke := eventInvoke(o.requestTimeout, handlers, func() http.Handler {
		if srv == nil {
			return nil // not a nil *Server in a non-nil interface
		}
		return srv
	})
	run, err := eventTriggers(ctx, loaded, fapp, log, invoke, nil)
	if err != nil {
		return err
	}
	if handlers != nil {
		srv, err = httptrigger.New(loaded.Locked, handlers, httptrigger.Config{
			Listen:         o.listen,
			TLS:            o.tlsConfig,
			RequestTimeout: o.requestTimeout,
			Logger:         log,
			Version:        version,
		})
		if err != nil {
			return err
		}
		ln, err := httptrigger.Listen(o.listen, o.findFreePort)
		if err != nil {
			return err
		}
		run = append(run, trigger.Func(func(ctx context.Context) error { return srv.Serve(ctx, ln) }))
	}
	return runAll(ctx, run)
}

// eventInvoke is how the event triggers call components: with timeout,
// and reaching the app's HTTP components in process too (service
// chaining to handlers, self requests to the app's HTTP server, which
// self returns, nil for none).
func eventInvoke(timeout time.Duration, handlers map[string]httptrigger.Handler, self func() http.Handler) trigger.Options {
	return trigger.Options{
		Timeout: timeout,
		Context: func(ctx context.Context, c *executor.Component) context.Context {
			return wasihttp.WithOutbound(ctx, &wasihttp.Outbound{
				Chain: chainTo(handlers),
				Self:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveSelf(self(), w, r) }),
				Logf:  c.Logf,
			})
		},
	}
}

// eventTriggers prepares the app's Redis, MQTT and cron triggers (those it
// has), checking their settings; none runs until its Run. dial, if not
// nil, opens every connection of the Redis and MQTT triggers (wisp server
// passes the tenant's outbound policy); nil dials directly (wisp up).
func eventTriggers(ctx context.Context, loaded *executor.App, fapp *factor.App, log *slog.Logger, invoke trigger.Options, dial dialFunc) ([]trigger.Trigger, error) {
	has := map[string]bool{}
	for _, t := range loaded.Locked.Triggers {
		has[t.Type] = true
	}
	resolve := variableResolver(fapp)
	var run []trigger.Trigger
	if has[redistrigger.Type] {
		t, err := redistrigger.New(ctx, loaded, redistrigger.Options{Logger: log, Invoke: invoke, Resolve: resolve, Dial: dial})
		if err != nil {
			return nil, err
		}
		run = append(run, t)
	}
	if has[mqtttrigger.Type] {
		t, err := mqtttrigger.New(ctx, loaded, mqtttrigger.Options{Logger: log, Invoke: invoke, Resolve: resolve, Dial: dial})
		if err != nil {
			return nil, err
		}
		run = append(run, t)
	}
	if has[crontrigger.Type] {
		t, err := crontrigger.New(loaded, crontrigger.Options{Logger: log, Invoke: invoke})
		if err != nil {
			return nil, err
		}
		run = append(run, t)
	}
	return run, nil
}

// dialFunc opens a network connection, as net.Dialer.DialContext.
type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// runAll runs the triggers until ctx is cancelled or one fails; then it
// stops the others, waits for all, and returns the first failure.
func runAll(ctx context.Context, triggers []trigger.Trigger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(triggers))
	for _, t := range triggers {
		go func() {
			err := t.Run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range triggers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// chainTo routes service-chaining requests (http://<id>.spin.internal) to
// the app's HTTP components, as the HTTP trigger's own executor does.
func chainTo(handlers map[string]httptrigger.Handler) func(string) (http.Handler, bool) {
	return func(id string) (http.Handler, bool) {
		h, ok := handlers[id]
		if !ok {
			return nil, false
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r, &httptrigger.RequestInfo{
				ComponentID: id, FullURL: r.URL.String(), PathInfo: r.URL.EscapedPath(),
				BasePath: "/", ClientAddr: "127.0.0.1:0",
			})
		}), true
	}
}

// serveSelf answers a request to the app's own routes; an app without an
// HTTP trigger has none.
func serveSelf(srv http.Handler, w http.ResponseWriter, r *http.Request) {
	if srv == nil {
		http.Error(w, "this application has no HTTP trigger", http.StatusNotFound)
		return
	}
	srv.ServeHTTP(w, r)
}

// variableResolver renders {{ variable }} templates in trigger settings
// (a Redis address, an MQTT topic) with the variables factor, as Spin
// resolves them with its variables factor.
func variableResolver(fapp *factor.App) trigger.Resolver {
	st, ok := fapp.State(factorvars.Name)
	if !ok {
		return nil
	}
	vs, ok := st.(*factorvars.AppState)
	if !ok {
		return nil
	}
	return vs.Resolver().ResolveTemplate
}
