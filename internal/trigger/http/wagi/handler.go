// Package wagi is the WAGI executor of the HTTP trigger: it runs a WASI
// command (a preview1 module, or a component exporting wasi:cli/run) per
// request, passing the request as CGI/1.1 (environment
// variables, argv and stdin) and reading a CGI response from stdout, as
// Spin's (and deislabs' WAGI's) wagi executor does.
package wagi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// DefaultMaxResponseBytes bounds a guest's stdout when Options leaves it zero.
const DefaultMaxResponseBytes = 64 << 20

// Options tunes a Handler. The zero value uses the defaults.
type Options struct {
	// MaxResponseBytes is the most a guest may write to stdout (CGI headers
	// and body); more is answered with 500. 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// Handler serves requests with one component through WAGI.
type Handler struct {
	c    *executor.Component
	cfg  lockedapp.Executor
	opts Options
}

var _ trigger.Handler = (*Handler)(nil)

// New returns the WAGI handler for c; cfg is the trigger's executor
// configuration (argv template and entrypoint).
func New(c *executor.Component, cfg lockedapp.Executor, opts Options) *Handler {
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return &Handler{c: c, cfg: cfg, opts: opts}
}

// ServeHTTP runs the guest in a fresh instance for r. Failures are answered
// with a generic status text; the reason goes only to the component's
// stderr log, so guest errors and host paths never reach the client.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, info *trigger.RequestInfo) {
	if !h.c.IsCommand() {
		h.fail(w, http.StatusInternalServerError, "wagi: the component is not a WASI command (a preview1 module with an entrypoint, or a component exporting wasi:cli/run)")
		return
	}
	stdin, contentLength, err := requestBody(r)
	if err != nil {
		h.failBody(w, err)
		return
	}

	stdout := &limitedBuffer{max: h.opts.MaxResponseBytes}
	logOut, logErr := h.c.Output()
	code, runErr := h.c.RunCommand(r.Context(), engine.RunConfig{
		Args:       argv(h.cfg.Argv, scriptName(info), r.URL.RawQuery),
		Env:        environment(h.c.Env, r, info, contentLength),
		Stdin:      stdin,
		Stdout:     stdout,
		Stderr:     logErr,
		FS:         h.c.FS,
		Entrypoint: h.cfg.Entrypoint,
	})
	logOut.Close()
	logErr.Close()

	// A body over the trigger's limit is the client's fault, whatever the
	// guest did after its read failed.
	if err := stdin.err(); err != nil {
		h.failBody(w, err)
		return
	}
	switch {
	case errors.Is(runErr, engine.ErrTimeout):
		h.fail(w, http.StatusGatewayTimeout, "wagi: guest exceeded the request deadline")
		return
	case stdout.overflow:
		// Checked before the exit code: the guest usually fails because its
		// write failed.
		h.failf(w, http.StatusInternalServerError, "wagi: guest response exceeds %d bytes", h.opts.MaxResponseBytes)
		return
	case errors.Is(runErr, context.Canceled):
		h.fail(w, http.StatusServiceUnavailable, "wagi: request canceled while the guest ran")
		return
	case runErr != nil:
		msg := "wagi: " + runErr.Error()
		var trap *engine.TrapError
		if errors.As(runErr, &trap) && trap.Trace != "" {
			msg += "\n" + trap.Trace
		}
		h.fail(w, http.StatusInternalServerError, msg)
		return
	case code != 0:
		h.failf(w, http.StatusInternalServerError, "wagi: guest exited with code %d", code)
		return
	}

	resp, warnings, err := parseResponse(stdout.Bytes())
	for _, warn := range warnings {
		h.c.Logf("wagi: %s", warn)
	}
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "wagi: invalid CGI response: "+err.Error())
		return
	}
	resp.write(w)
}

// failBody answers a request whose body could not be read.
func (h *Handler) failBody(w http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.failf(w, http.StatusRequestEntityTooLarge, "wagi: request body exceeds %d bytes", tooLarge.Limit)
		return
	}
	h.fail(w, http.StatusBadRequest, "wagi: reading request body: "+err.Error())
}

func (h *Handler) failf(w http.ResponseWriter, status int, format string, args ...any) {
	h.c.Logf(format, args...)
	writeStatus(w, status)
}

func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	h.c.Logf("%s", msg)
	writeStatus(w, status)
}

// writeStatus answers with only the status line as body ("500 Internal
// Server Error").
func writeStatus(w http.ResponseWriter, status int) {
	http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
}
