package http

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Connection timeouts that no request needs to exceed: they only bound
// clients that open a connection and then stall (slowloris).
const (
	readHeaderTimeout = time.Minute
	idleTimeout       = 2 * time.Minute
)

// ListenAndServe binds Config.Listen (trying the following ports too if
// findFreePort is set) and serves until ctx is cancelled; see Serve.
func (s *Server) ListenAndServe(ctx context.Context, findFreePort bool) error {
	ln, err := Listen(s.cfg.Listen, findFreePort)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down
// gracefully: it closes ln (new connections are refused), lets in-flight
// requests finish for up to Config.ShutdownTimeout, aborts those still
// running, and returns. It returns nil after a clean drain.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	baseURL := "http://" + ln.Addr().String()
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
		baseURL = "https://" + ln.Addr().String()
	}
	s.log.Info("Serving "+baseURL, "routes", s.RoutesText(baseURL))

	srv := &http.Server{
		Handler:           s,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests keep ctx's values but not its cancellation: cancelling
		// ctx means "drain", not "abort everything now".
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	drainCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(drainCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close() // cancels the stragglers' request contexts
		err = fmt.Errorf("http trigger: requests still running after %v were aborted", s.cfg.ShutdownTimeout)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
