// Package wasihttp is the wasi:http executor of the HTTP trigger: it serves
// requests with components that export wasi:http/incoming-handler@0.2.x
// (what the Spin SDKs build), in a fresh instance per request, as Spin's
// WasiHttpExecutor does. The host side of wasi:http is internal/wasihttp.
package wasihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/engine"
	"github.com/wisp-dev/wisp/internal/executor"
	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
	"github.com/wisp-dev/wisp/internal/wasi"
	host "github.com/wisp-dev/wisp/internal/wasihttp"
)

// Options tunes a Handler. The zero value denies service chaining and
// self requests.
type Options struct {
	// Chain returns the handler of another component of the app, for
	// service chaining (http://<id>.spin.internal); the composition root
	// wires it to the trigger.
	Chain func(componentID string) (http.Handler, bool)
	// Self serves the app's own routes, for requests to "self".
	Self http.Handler
	// Transport sends outbound requests; nil uses wasihttp's default.
	Transport http.RoundTripper
}

// Handler serves requests with one component through wasi:http.
type Handler struct {
	c        *executor.Component
	comp     *component.Component
	export   string
	outbound *host.Outbound
	env      [][2]string
}

var _ trigger.Handler = (*Handler)(nil)

// New returns the handler for c, whose linked component is comp. It fails
// if comp does not export wasi:http/incoming-handler@0.2.x.
//
// What the component may reach over outbound HTTP is not decided here: the
// outbound-networking factor puts the component's policy (its
// allowed_outbound_hosts, the app's blocked networks) in the context when
// the executor prepares each call; without that factor every outbound
// request is denied.
func New(c *executor.Component, comp *component.Component, opts Options) (*Handler, error) {
	export, ok := comp.Export(host.IncomingHandlerInterface)
	if !ok {
		return nil, fmt.Errorf("component %q does not export %s", c.ID, host.IncomingHandlerInterface)
	}
	h := &Handler{c: c, comp: comp, export: export}
	h.outbound = &host.Outbound{
		Chain:     opts.Chain,
		Self:      opts.Self,
		Transport: opts.Transport,
		Logf:      c.Logf,
	}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		h.env = append(h.env, [2]string{k, v})
	}
	return h, nil
}

// ServeHTTP runs the guest's handle in a fresh instance and streams its
// response. Failures before the response started are answered with a bare
// status (500, 504, 413); the reason goes only to the component's log.
// A failure after the response started aborts the connection, so the
// client sees a broken response rather than a short one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, info *trigger.RequestInfo) {
	ctx := r.Context()
	// Guests may read the request while they stream the response.
	_ = http.NewResponseController(w).EnableFullDuplex()

	// The guest sees the client's headers, minus any posing as Spin's
	// metadata (the trigger strips them already; this keeps the executor
	// safe when driven by something else), plus the metadata itself: as
	// trigger.SetSpinHeaders on a copy would make them, without the copy.
	var spin [12][2]string
	req := host.NewIncomingRequestWith(r, r.Header, trigger.IsSpinHeader, trigger.AppendSpinHeaders(spin[:0], info))
	out := host.NewResponseOutparam(w)

	stdout, stderr := h.c.Output()
	wctx := &wasi.Ctx{Env: h.env, Stdout: stdout, Stderr: stderr, FS: h.c.FS}
	callCtx := host.WithOutbound(wasi.WithCtx(ctx, wctx), h.outbound)
	// Guests that also use WASI preview1 (the Go runtime in a Wisp Go SDK
	// module) see the same environment, output and files through it.
	callCtx = engine.WithWASI(callCtx, engine.RunConfig{Env: h.c.Env, Stdout: stdout, Stderr: stderr, FS: h.c.FS})

	callErr := h.call(callCtx, req, out)
	oc := out.Finish()
	h.stopBody(w, r, req)

	if wctx.Writing() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		wctx.Flush(flushCtx)
		cancel()
	}
	stdout.Close()
	stderr.Close()

	if oc.Sent {
		// A guest that sets a response, takes its body and returns without
		// writing or finishing it (StarlingMonkey does this for the 500 it
		// makes of an exception) meant an empty body: send it whole rather
		// than abort a response the client has not seen any of.
		if !oc.Complete && callErr == nil && oc.BodyBytes == 0 && errors.Is(oc.BodyErr, host.ErrBodyAborted) {
			h.c.Logf("wasi-http: the guest dropped its response body without finishing it; sent it empty (status %d)", oc.Status)
			return
		}
		if !oc.Complete {
			reason := "body incomplete"
			switch {
			case errors.Is(callErr, context.Canceled) && ctx.Err() != nil:
				// The client closed the connection (often right after it
				// had every byte it expected) while the guest was still
				// finishing the body; the guest was stopped.
				reason = "the client went away before the guest finished the body"
			case callErr != nil:
				reason = describe(callErr)
			case oc.BodyErr != nil:
				reason = oc.BodyErr.Error()
			}
			h.c.Logf("wasi-http: response aborted after it started (status %d): %s", oc.Status, reason)
			panic(http.ErrAbortHandler)
		}
		if callErr != nil {
			h.c.Logf("wasi-http: component error after the response was sent: %s", describe(callErr))
		}
		return
	}

	var tooLarge *http.MaxBytesError
	switch bodyErr := req.Body().Err(); {
	case errors.As(bodyErr, &tooLarge):
		h.failf(w, http.StatusRequestEntityTooLarge, "wasi-http: request body exceeds %d bytes", tooLarge.Limit)
	case isTimeout(callErr) || (callErr == nil && errors.Is(ctx.Err(), context.DeadlineExceeded)):
		h.failf(w, http.StatusGatewayTimeout, "wasi-http: guest exceeded the request deadline")
	case errors.Is(callErr, context.Canceled):
		h.failf(w, http.StatusServiceUnavailable, "wasi-http: request canceled while the guest ran")
	case callErr != nil:
		h.failf(w, http.StatusInternalServerError, "wasi-http: %s", describe(callErr))
	case oc.ErrorCode != nil:
		h.failf(w, http.StatusInternalServerError, "wasi-http: guest responded with an error: %v", oc.ErrorCode)
	default:
		h.failf(w, http.StatusInternalServerError, "wasi-http: guest failed to produce a response prior to returning")
	}
}

// call instantiates the component and runs handle. The instance is closed
// before it returns, which drops every resource the guest still held (an
// unfinished body is aborted).
func (h *Handler) call(ctx context.Context, req *host.IncomingRequest, out *host.ResponseOutparam) error {
	ctx, err := h.c.Prepare(ctx)
	if err != nil {
		return fmt.Errorf("preparing host capabilities: %w", err)
	}
	inst, err := h.comp.Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("instantiating: %w", err)
	}
	defer inst.Close(context.WithoutCancel(ctx))
	_, err = inst.Call(ctx, h.export, host.HandleFunc, req, out)
	return err
}

// stopBody stops the request body pump. One blocked reading a client
// that sends nothing is woken with a read deadline: the request body must
// not be read after ServeHTTP returns.
func (h *Handler) stopBody(w http.ResponseWriter, r *http.Request, req *host.IncomingRequest) {
	body := req.Body()
	if body.Close() {
		if err := http.NewResponseController(w).SetReadDeadline(time.Now()); err != nil {
			return // cannot interrupt it; it ends when net/http closes the body
		}
		body.Wait(5 * time.Second)
		return
	}
	// Nothing reads the body now. Drain what is left of a small one while
	// the handler still runs: in full-duplex mode net/http would drain it
	// after the handler returned, and the end of the body would start its
	// background connection read after the point where it cancels that
	// read ("invalid concurrent Body.Read call" on the next request of the
	// connection). A large remainder is left to net/http, which then closes
	// the connection instead of reading it.
	if r.Body != nil && r.Body != http.NoBody {
		io.CopyN(io.Discard, r.Body, maxDrain)
	}
}

// maxDrain is how much of an unread request body is read to keep the
// connection reusable (net/http's own limit).
const maxDrain = 256 << 10

func isTimeout(err error) bool {
	return errors.Is(err, engine.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

// describe renders a guest failure for the log, with the trap's trace.
func describe(err error) string {
	msg := err.Error()
	var trap *engine.TrapError
	if errors.As(err, &trap) && trap.Trace != "" {
		msg += "\n" + trap.Trace
	}
	return msg
}

func (h *Handler) failf(w http.ResponseWriter, status int, format string, args ...any) {
	h.c.Logf(format, args...)
	// Only the status line, as the WAGI executor answers.
	http.Error(w, fmt.Sprintf("%d %s", status, http.StatusText(status)), status)
}
