package wasihttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/wasi/wasiio"
)

// patternReader produces n bytes of a repeating pattern without holding
// them.
type patternReader struct{ n, off int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = byte((r.off + int64(i)) % 251)
	}
	r.off += int64(len(p))
	return len(p), nil
}

func TestIncomingBody100MiBBounded(t *testing.T) {
	const size = 100 << 20
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})

	r := httptest.NewRequest("POST", "/upload", io.NopCloser(&patternReader{n: size}))
	req := NewIncomingRequest(r, nil)
	body := mustOk(t, call(t, "[method]incoming-request.consume", req)).(*IncomingBody)
	if r := call(t, "[method]incoming-request.consume", req).(cabi.Result); !r.IsErr {
		t.Fatal("consume twice succeeded")
	}
	s := mustOk(t, call(t, "[method]incoming-body.stream", body)).(wasiio.InputStream)
	if r := call(t, "[method]incoming-body.stream", body).(cabi.Result); !r.IsErr {
		t.Fatal("stream twice succeeded")
	}
	got := sha256.New()
	var total, maxCap int
	ctx := context.Background()
	for {
		b, err := s.BlockingRead(ctx, 1<<20)
		if errors.Is(err, wasiio.ErrClosed) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
		total += len(b)
		body.p.mu.Lock()
		maxCap = max(maxCap, cap(body.p.buf))
		body.p.mu.Unlock()
	}
	if total != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read %d bytes, digest mismatch", total)
	}
	// The buffer never held more than its bound (plus append slack).
	if maxCap > 2*incomingBuffer {
		t.Errorf("buffer grew to %d bytes", maxCap)
	}
}

func TestIncomingBodyNonBlockingAndTrailers(t *testing.T) {
	pr, pw := io.Pipe()
	r := httptest.NewRequest("POST", "/", pr)
	r.Trailer = http.Header{}
	req := NewIncomingRequest(r, nil)
	body := mustOk(t, call(t, "[method]incoming-request.consume", req)).(*IncomingBody)
	s := mustOk(t, call(t, "[method]incoming-body.stream", body)).(wasiio.InputStream)
	sub := s.Subscribe()
	if b, err := s.Read(10); err != nil || len(b) != 0 {
		t.Fatalf("read with nothing buffered = %q, %v", b, err)
	}
	if sub.Ready() {
		t.Fatal("ready without data")
	}
	go pw.Write([]byte("hello"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sub.Block(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Read(3); err != nil || string(b) != "hel" {
		t.Fatalf("read = %q, %v", b, err)
	}
	r.Trailer.Set("X-Checksum", "abc")
	pw.Close()
	ft := call(t, "[static]incoming-body.finish", body).(*FutureTrailers)
	if err := call(t, "[method]future-trailers.subscribe", ft).(wasiio.Pollable).Block(ctx); err != nil {
		t.Fatal(err)
	}
	got := call(t, "[method]future-trailers.get", ft).(cabi.Option)
	tr := got.Value.(cabi.Result).Value.(cabi.Result).Value.(cabi.Option).Value.(*Fields)
	if v := tr.Get("x-checksum"); len(v) != 1 || string(v[0]) != "abc" {
		t.Errorf("trailers = %q", v)
	}
	mustOk(t, call(t, "[method]fields.set", tr, "x-more", []any{[]byte("1")})) // trailers are mutable
	if again := call(t, "[method]future-trailers.get", ft).(cabi.Option); !again.Some || !again.Value.(cabi.Result).IsErr {
		t.Errorf("second get = %#v", again)
	}
}

func TestIncomingBodyReadError(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	rec := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(rec, io.NopCloser(strings.NewReader("0123456789")), 4)
	req := NewIncomingRequest(r, nil)
	body := mustOk(t, call(t, "[method]incoming-request.consume", req)).(*IncomingBody)
	s, _ := body.stream()
	var err error
	for err == nil {
		_, err = s.BlockingRead(context.Background(), 100)
	}
	var ec *ErrorCode
	if !errors.As(err, &ec) || ec.Code.Case != ecHTTPRequestBodySize {
		t.Fatalf("err = %v", err)
	}
	// What wasi:io hands back through http-error-code.
	if got := httpErrorCode(err); !got.Some || got.Value.(cabi.Variant).Case != ecHTTPRequestBodySize {
		t.Errorf("http-error-code = %#v", got)
	}
	var tooLarge *http.MaxBytesError
	if !errors.As(req.Body().Err(), &tooLarge) {
		t.Errorf("Body().Err() = %v", req.Body().Err())
	}
}

func TestIncomingRequestAccessors(t *testing.T) {
	r := httptest.NewRequest("PURGE", "http://example.com:8080/a/b?x=1&y=%20", nil)
	r.RequestURI = "/a/b?x=1&y=%20"
	req := NewIncomingRequest(r, http.Header{"X-Spin": {"1"}})
	if m := call(t, "[method]incoming-request.method", req).(cabi.Variant); m.Case != methodOther || m.Value != "PURGE" {
		t.Errorf("method = %#v", m)
	}
	if pq := call(t, "[method]incoming-request.path-with-query", req); pq != cabi.Some("/a/b?x=1&y=%20") {
		t.Errorf("path-with-query = %#v", pq)
	}
	if s := call(t, "[method]incoming-request.scheme", req); s != cabi.Some(cabi.Variant{Case: schemeHTTP}) {
		t.Errorf("scheme = %#v", s)
	}
	if a := call(t, "[method]incoming-request.authority", req); a != cabi.Some("example.com:8080") {
		t.Errorf("authority = %#v", a)
	}
	h := call(t, "[method]incoming-request.headers", req).(*Fields)
	if !h.Has("x-spin") {
		t.Error("header replacement not used")
	}
	for i, m := range methodNames {
		r.Method = m
		if v := methodVariant(m); v.Case != uint32(i) {
			t.Errorf("%s = %d", m, v.Case)
		}
	}
	if v := methodVariant("get"); v.Case != methodOther {
		t.Error("methods are case-sensitive")
	}
}

// respond runs a guest-like sequence against a recorder.
func newOutparam() (*ResponseOutparam, *httptest.ResponseRecorder) {
	rec := httptest.NewRecorder()
	return NewResponseOutparam(rec), rec
}

func TestResponseWithoutBody(t *testing.T) {
	// StarlingMonkey's new Response(null, {status: 204}): body() never called.
	out, rec := newOutparam()
	h := mustOk(t, call(t, "[static]fields.from-list", list([2]string{"x-status", "204"}))).(*Fields)
	resp := call(t, "[constructor]outgoing-response", h).(*OutgoingResponse)
	mustOk(t, call(t, "[method]outgoing-response.set-status-code", resp, uint16(204)))
	call(t, "[static]response-outparam.set", out, cabi.Ok(resp))
	oc := out.Finish()
	if !oc.Sent || !oc.Complete || rec.Code != 204 || rec.Body.Len() != 0 || rec.Header().Get("X-Status") != "204" {
		t.Fatalf("outcome %+v, code %d, body %q, header %v", oc, rec.Code, rec.Body, rec.Header())
	}
	if _, err := testFuncs["[static]response-outparam.set"](context.Background(), nil, []any{out, cabi.Ok(resp)}); err == nil {
		t.Error("set twice did not trap")
	}
}

func TestResponseStreamed(t *testing.T) {
	out, rec := newOutparam()
	resp := call(t, "[constructor]outgoing-response", NewFields()).(*OutgoingResponse)
	if r := call(t, "[method]outgoing-response.set-status-code", resp, uint16(99)).(cabi.Result); !r.IsErr {
		t.Error("status 99 accepted")
	}
	if code := call(t, "[method]outgoing-response.status-code", resp); code != uint16(200) {
		t.Errorf("default status %v", code)
	}
	body := mustOk(t, call(t, "[method]outgoing-response.body", resp)).(*OutgoingBody)
	if r := call(t, "[method]outgoing-response.body", resp).(cabi.Result); !r.IsErr {
		t.Error("body twice")
	}
	s := mustOk(t, call(t, "[method]outgoing-body.write", body)).(wasiio.OutputStream)
	if r := call(t, "[method]outgoing-body.write", body).(cabi.Result); !r.IsErr {
		t.Error("write twice")
	}
	// Written before set: buffered.
	if err := s.Write([]byte("hello ")); err != nil {
		t.Fatal(err)
	}
	if err := s.BlockingFlush(context.Background()); err != nil {
		t.Fatal("flush before set must not block:", err)
	}
	call(t, "[static]response-outparam.set", out, cabi.Ok(resp))
	line := bytes.Repeat([]byte("x"), 1000)
	for i := 0; i < 200; i++ {
		n, err := s.CheckWrite()
		if err != nil {
			t.Fatal(err)
		}
		if n > writeBudget {
			t.Fatalf("check-write %d over budget", n)
		}
		if n < uint64(len(line)) {
			if err := s.Subscribe().Block(context.Background()); err != nil {
				t.Fatal(err)
			}
			i--
			continue
		}
		if err := s.Write(line); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := s.BlockingFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	tr := NewFields()
	tr.Append("x-trailer", []byte("t"))
	if r := call(t, "[static]outgoing-body.finish", body, cabi.Some(tr)).(cabi.Result); r.IsErr {
		t.Fatal(r)
	}
	oc := out.Finish()
	if !oc.Complete || rec.Body.Len() != 6+200*1000 || !strings.HasPrefix(rec.Body.String(), "hello x") {
		t.Fatalf("outcome %+v, %d bytes", oc, rec.Body.Len())
	}
	if _, sniffed := rec.Header()["Content-Type"]; sniffed && rec.Header().Get("Content-Type") != "" {
		t.Errorf("content-type sniffed: %q", rec.Header().Get("Content-Type"))
	}
	if !rec.Flushed {
		t.Error("flush did not reach the ResponseWriter")
	}
	if got := rec.Result().Trailer.Get("X-Trailer"); got != "t" {
		t.Errorf("trailer = %q", got)
	}
	if err := s.Write([]byte("late")); !errors.Is(err, wasiio.ErrClosed) {
		t.Errorf("write after finish = %v", err)
	}
}

func TestResponseBodyAborted(t *testing.T) {
	out, _ := newOutparam()
	resp := newOutgoingResponse(NewFields())
	body, _ := resp.takeBody()
	s, _ := body.write()
	s.Write([]byte("partial"))
	call(t, "[static]response-outparam.set", out, cabi.Ok(resp))
	body.Drop() // the guest dropped it without finish
	oc := out.Finish()
	if !oc.Sent || oc.Complete || !errors.Is(oc.BodyErr, ErrBodyAborted) {
		t.Fatalf("outcome %+v", oc)
	}
}

func TestResponseErrorCode(t *testing.T) {
	out, rec := newOutparam()
	call(t, "[static]response-outparam.set", out, cabi.Err(cabi.Variant{Case: ecHTTPProtocolError}))
	oc := out.Finish()
	if oc.Sent || oc.ErrorCode == nil || oc.ErrorCode.Code.Case != ecHTTPProtocolError || rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("outcome %+v", oc)
	}
	out2, _ := newOutparam()
	if oc := out2.Finish(); oc.Set {
		t.Error("unset outparam reported set")
	}
}

func TestOutgoingBodyContentLength(t *testing.T) {
	h := mustOk(t, call(t, "[static]fields.from-list", list([2]string{"content-length", "5"}))).(*Fields)
	resp := newOutgoingResponse(h)
	body := mustOk(t, call(t, "[method]outgoing-response.body", resp)).(*OutgoingBody)
	s, _ := body.write()
	if err := s.Write([]byte("123456")); err == nil {
		t.Error("write beyond content-length accepted")
	}
	s.Write([]byte("123"))
	r := call(t, "[static]outgoing-body.finish", body, cabi.None).(cabi.Result)
	if !r.IsErr || r.Value.(cabi.Variant).Case != ecHTTPResponseBodySize {
		t.Errorf("finish short = %#v", r)
	}

	bad := mustOk(t, call(t, "[static]fields.from-list", list([2]string{"content-length", "x"}))).(*Fields)
	if r := call(t, "[method]outgoing-response.body", newOutgoingResponse(bad)).(cabi.Result); !r.IsErr {
		t.Error("body() with a malformed content-length succeeded")
	}
}

func TestWriteBudgetBeforeSet(t *testing.T) {
	resp := newOutgoingResponse(NewFields())
	body, _ := resp.takeBody()
	s, _ := body.write()
	var total uint64
	for {
		n, err := s.CheckWrite()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := s.Write(make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != outgoingBuffer {
		t.Errorf("buffered %d before blocking, want %d", total, outgoingBuffer)
	}
	if s.Subscribe().Ready() {
		t.Error("pollable ready with a full buffer")
	}
	if err := s.Write([]byte("x")); err == nil {
		t.Error("write beyond check-write accepted")
	}
}
