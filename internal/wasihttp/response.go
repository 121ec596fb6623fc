package wasihttp

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// OutgoingResponse is the Go value of an outgoing-response resource.
type OutgoingResponse struct {
	status  uint16
	headers *fieldList
	body    *OutgoingBody
}

func newOutgoingResponse(h *Fields) *OutgoingResponse {
	return &OutgoingResponse{status: http.StatusOK, headers: h.take()}
}

// setStatus accepts what the http crate's StatusCode accepts.
func (r *OutgoingResponse) setStatus(code uint16) bool {
	if code < 100 || code > 999 {
		return false
	}
	r.status = code
	return true
}

func (r *OutgoingResponse) takeBody() (*OutgoingBody, bool) {
	if r.body != nil {
		return nil, false
	}
	n, ok := contentLength(r.headers)
	if !ok {
		return nil, false
	}
	r.body = newOutgoingBody(true, n)
	return r.body, true
}

// ResponseOutparam is the Go value of the response-outparam resource the
// executor hands to the guest's handle: the guest's response goes to w.
//
// When the guest calls set with a response, its status and headers are
// written to w at once and a drainer goroutine streams the body as the
// guest writes it; from then until Finish returns the drainer is the only
// user of w.
type ResponseOutparam struct {
	w http.ResponseWriter

	mu      sync.Mutex
	set     bool
	errCode *ErrorCode
	resp    *OutgoingResponse
	sent    bool
	done    chan struct{} // closed when the drainer is done
	bodyErr error
}

// NewResponseOutparam returns the response-outparam that answers on w.
func NewResponseOutparam(w http.ResponseWriter) *ResponseOutparam {
	return &ResponseOutparam{w: w}
}

// Outcome is what became of a response-outparam.
type Outcome struct {
	// Set reports that the guest called response-outparam.set.
	Set bool
	// ErrorCode is the error the guest set instead of a response.
	ErrorCode *ErrorCode
	// Sent reports that the status and headers were written to w.
	Sent bool
	// Complete reports that the whole body reached w (or there was none).
	Complete bool
	// BodyErr says why the body is incomplete: the guest aborted it, wrote
	// the wrong length, or the client went away.
	BodyErr error
	// Status is the status sent.
	Status int
	// BodyBytes is how many body bytes the guest wrote.
	BodyBytes uint64
}

// setResponse implements [static]response-outparam.set.
func (o *ResponseOutparam) setResponse(res cabi.Result) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.set {
		return errors.New("response-outparam.set called twice")
	}
	o.set = true
	if res.IsErr {
		v, ok := res.Value.(cabi.Variant)
		if !ok {
			return errors.New("response-outparam.set: error is not an error-code")
		}
		o.errCode = &ErrorCode{Code: v}
		return nil
	}
	resp, ok := res.Value.(*OutgoingResponse)
	if !ok {
		return errors.New("response-outparam.set: not an outgoing-response")
	}
	if resp.status < 200 {
		// net/http would take a 1xx as informational and then send 200.
		o.errCode = internalError("response status is informational (1xx)")
		return nil
	}
	o.resp = resp
	o.send()
	return nil
}

// send writes the head and starts the drainer (o.mu held).
func (o *ResponseOutparam) send() {
	h := o.w.Header()
	clear(h)
	o.resp.headers.addTo(h)
	if _, ok := h["Content-Type"]; !ok {
		// Send what the guest sent: no sniffed Content-Type.
		h["Content-Type"] = nil
	}
	o.w.WriteHeader(int(o.resp.status))
	o.sent = true
	o.done = make(chan struct{})
	body := o.resp.body
	if body == nil {
		// StarlingMonkey never takes the body of new Response(null) (204,
		// 304): the response simply has none.
		close(o.done)
		return
	}
	w := o.w
	go func() {
		defer close(o.done)
		flush := func() { _ = http.NewResponseController(w).Flush() }
		var err error
		if bodyAllowed(int(o.resp.status)) {
			err = body.drain(w, flush)
		} else {
			err = body.drain(discard{}, nil)
		}
		if err == nil && body.trailers != nil {
			for k, v := range body.trailers.header() {
				for _, s := range v {
					w.Header().Add(http.TrailerPrefix+k, s)
				}
			}
		}
		o.mu.Lock()
		o.bodyErr = err
		o.mu.Unlock()
	}()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// Finish is called by the executor once the guest is done (handle
// returned or trapped, its instance closed): a body the guest left
// unfinished is aborted, and Finish waits for the drainer to write what
// was buffered. Afterwards the caller owns w again.
func (o *ResponseOutparam) Finish() Outcome {
	o.mu.Lock()
	if o.resp != nil && o.resp.body != nil {
		o.resp.body.Drop() // no-op when finished
	}
	done := o.done
	o.mu.Unlock()
	if done != nil {
		<-done
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out := Outcome{Set: o.set, ErrorCode: o.errCode, Sent: o.sent, BodyErr: o.bodyErr}
	if o.resp != nil {
		out.Status = int(o.resp.status)
		out.Complete = o.resp.body == nil || (o.bodyErr == nil && o.resp.body.complete())
		if o.resp.body != nil {
			out.BodyBytes = o.resp.body.written()
		}
	}
	return out
}

// Drop is the guest dropping the outparam without calling set; Finish
// reports it.
func (o *ResponseOutparam) Drop() {}

// IncomingResponse is the Go value of an incoming-response resource (the
// response to an outbound request).
type IncomingResponse struct {
	status  uint16
	headers *fieldList
	body    *IncomingBody // nil once consumed
}

func (r *IncomingResponse) consume() (*IncomingBody, bool) {
	b := r.body
	r.body = nil
	return b, b != nil
}

// Drop releases the connection if the guest never read the body.
func (r *IncomingResponse) Drop() {
	if r.body != nil {
		r.body.close()
	}
}

// FutureIncomingResponse is the Go value of a future-incoming-response:
// the outbound request runs on its own goroutine and resolves it.
type FutureIncomingResponse struct {
	p      *pipe // only its lock and wake channel are used
	cancel context.CancelCauseFunc
	resp   *IncomingResponse
	err    *ErrorCode
	ready  bool
	taken  bool
}

func newFuture(cancel context.CancelCauseFunc) *FutureIncomingResponse {
	return &FutureIncomingResponse{p: newPipe(0), cancel: cancel}
}

// resolve sets the outcome once; a later call is ignored.
func (f *FutureIncomingResponse) resolve(resp *IncomingResponse, ec *ErrorCode) bool {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	if f.ready {
		return false
	}
	f.resp, f.err, f.ready = resp, ec, true
	f.p.changedLocked()
	return true
}

func (f *FutureIncomingResponse) subscribe() wasiio.Pollable {
	return pollable{p: f.p, ready: func() bool { return f.ready }}
}

// get implements [method]future-incoming-response.get:
// option<result<result<incoming-response, error-code>>>.
func (f *FutureIncomingResponse) get() cabi.Option {
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	switch {
	case !f.ready:
		return cabi.None
	case f.taken:
		return cabi.Some(cabi.Err(nil))
	}
	f.taken = true
	if f.err != nil {
		return cabi.Some(cabi.Ok(cabi.Err(f.err.Code)))
	}
	return cabi.Some(cabi.Ok(cabi.Ok(f.resp)))
}

// Drop cancels the request if the guest lost interest before the
// response, and releases an untaken response.
func (f *FutureIncomingResponse) Drop() {
	f.p.mu.Lock()
	ready, taken, resp := f.ready, f.taken, f.resp
	f.p.mu.Unlock()
	if !ready && f.cancel != nil {
		f.cancel(errors.New("future-incoming-response dropped"))
	}
	if ready && !taken && resp != nil {
		resp.Drop()
	}
}
