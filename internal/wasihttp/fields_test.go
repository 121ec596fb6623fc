package wasihttp

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
)

func TestEveryFunctionImplemented(t *testing.T) {
	for _, iface := range Interfaces() {
		def, ok := wit.Builtin().LookupInterface(iface.Name)
		if !ok {
			t.Fatalf("%s: no WIT definition", iface.Name)
		}
		var missing []string
		for name := range def.Funcs {
			if _, ok := iface.Funcs[name]; !ok && !isDrop(name) {
				missing = append(missing, name)
			}
		}
		for name := range iface.Funcs {
			if _, ok := def.Funcs[name]; !ok {
				t.Errorf("%s: %q is not in the WIT", iface.Name, name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: not implemented: %v", iface.Name, missing)
		}
	}
}

func isDrop(name string) bool { return len(name) > 15 && name[:15] == "[resource-drop]" }

func TestErrorCodeCases(t *testing.T) {
	typ := errorCodeType()
	want := map[uint32]string{
		ecDNSTimeout: "DNS-timeout", ecDNSError: "DNS-error", ecConnectionRefused: "connection-refused",
		ecConnectionReadTimeout: "connection-read-timeout", ecHTTPRequestDenied: "HTTP-request-denied",
		ecHTTPRequestBodySize: "HTTP-request-body-size", ecHTTPResponseBodySize: "HTTP-response-body-size",
		ecDestinationNotFound: "destination-not-found", ecHTTPProtocolError: "HTTP-protocol-error",
		ecHTTPRequestURIInvalid: "HTTP-request-URI-invalid", ecInternalError: "internal-error",
		ecTLSCertificateError: "TLS-certificate-error", ecConnectionTimeout: "connection-timeout",
		ecHTTPRequestMethodInvalid: "HTTP-request-method-invalid", ecTLSAlertReceived: "TLS-alert-received",
	}
	for c, name := range want {
		if got := typ.Cases[c].Name; got != name {
			t.Errorf("case %d is %q, want %q", c, got, name)
		}
	}
	if len(typ.Cases) != int(ecInternalError)+1 {
		t.Errorf("error-code has %d cases", len(typ.Cases))
	}
	if got := errorCode(ecHTTPRequestDenied, nil).Error(); got != "wasi:http HTTP-request-denied" {
		t.Errorf("Error() = %q", got)
	}
}

func TestFieldsBasics(t *testing.T) {
	f := call(t, "[constructor]fields").(*Fields)
	if r := call(t, "[method]fields.append", f, "Content-Type", []byte("text/plain")); r.(cabi.Result).IsErr {
		t.Fatal(r)
	}
	mustOk(t, call(t, "[method]fields.append", f, "x-a", []byte("1")))
	mustOk(t, call(t, "[method]fields.append", f, "X-A", []byte("2")))
	if got := call(t, "[method]fields.get", f, "x-A"); !reflect.DeepEqual(got, []any{[]byte("1"), []byte("2")}) {
		t.Errorf("get = %q", got)
	}
	if got := call(t, "[method]fields.get", f, "missing"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("get missing = %#v", got)
	}
	if got := call(t, "[method]fields.get", f, "bad name"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("get invalid = %#v", got)
	}
	if !call(t, "[method]fields.has", f, "CONTENT-TYPE").(bool) || call(t, "[method]fields.has", f, "nope").(bool) {
		t.Error("has")
	}
	mustOk(t, call(t, "[method]fields.set", f, "x-a", []any{[]byte("3")}))
	want := []any{
		[]any{"content-type", []byte("text/plain")},
		[]any{"x-a", []byte("3")},
	}
	if got := call(t, "[method]fields.entries", f); !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %q", got)
	}
	c := call(t, "[method]fields.clone", f).(*Fields)
	mustOk(t, call(t, "[method]fields.delete", f, "x-a"))
	if call(t, "[method]fields.has", f, "x-a").(bool) || !call(t, "[method]fields.has", c, "x-a").(bool) {
		t.Error("delete / clone independence")
	}
	mustOk(t, call(t, "[method]fields.delete", f, "never-set"))
}

func TestFieldsErrors(t *testing.T) {
	f := NewFields()
	for _, tc := range []struct {
		name  string
		value string
		want  uint32
	}{
		{"bad name", "v", headerErrInvalidSyntax},
		{"", "v", headerErrInvalidSyntax},
		{"x-ok", "line\r\nbreak", headerErrInvalidSyntax},
		{"x-ok", "nul\x00", headerErrInvalidSyntax},
		{"x-ok", "del\x7f", headerErrInvalidSyntax},
		{"connection", "close", headerErrForbidden},
		{"Keep-Alive", "x", headerErrForbidden},
		{"proxy-connection", "x", headerErrForbidden},
		{"proxy-authorization", "x", headerErrForbidden},
		{"proxy-authenticate", "x", headerErrForbidden},
		{"transfer-encoding", "chunked", headerErrForbidden},
		{"upgrade", "h2c", headerErrForbidden},
		{"Host", "example.com", headerErrForbidden},
		{"http2-settings", "x", headerErrForbidden},
	} {
		if got := headerErr(t, call(t, "[method]fields.append", f, tc.name, []byte(tc.value))); got != tc.want {
			t.Errorf("append(%q, %q) = %d, want %d", tc.name, tc.value, got, tc.want)
		}
		if got := headerErr(t, call(t, "[method]fields.set", f, tc.name, []any{[]byte(tc.value)})); got != tc.want {
			t.Errorf("set(%q, %q) = %d, want %d", tc.name, tc.value, got, tc.want)
		}
		if got := headerErr(t, call(t, "[static]fields.from-list", list([2]string{tc.name, tc.value}))); got != tc.want {
			t.Errorf("from-list(%q, %q) = %d, want %d", tc.name, tc.value, got, tc.want)
		}
	}
	if got := headerErr(t, call(t, "[method]fields.delete", f, "transfer-encoding")); got != headerErrForbidden {
		t.Errorf("delete forbidden = %d", got)
	}
	if got := headerErr(t, call(t, "[method]fields.delete", f, "a b")); got != headerErrInvalidSyntax {
		t.Errorf("delete invalid = %d", got)
	}
	// Values may hold obs-text, tabs and surrounding spaces.
	mustOk(t, call(t, "[method]fields.append", f, "x-ok", []byte("\tcaf\xe9 ")))
	fl := mustOk(t, call(t, "[static]fields.from-list", list([2]string{"A", "1"}, [2]string{"b", "2"}, [2]string{"a", "3"}))).(*Fields)
	if got := fl.Get("a"); len(got) != 2 || string(got[1]) != "3" {
		t.Errorf("from-list get = %q", got)
	}
}

func TestImmutableHeaders(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://example.com/x", nil)
	r.Header.Set("X-Test", "yes")
	req := NewIncomingRequest(r, nil)
	resp := call(t, "[constructor]outgoing-response", NewFields()).(*OutgoingResponse)
	oreq := call(t, "[constructor]outgoing-request", NewFields()).(*OutgoingRequest)
	views := map[string]*Fields{
		"incoming-request":  call(t, "[method]incoming-request.headers", req).(*Fields),
		"outgoing-response": call(t, "[method]outgoing-response.headers", resp).(*Fields),
		"outgoing-request":  call(t, "[method]outgoing-request.headers", oreq).(*Fields),
		"incoming-response": (&IncomingResponse{headers: fieldsFromHeader(http.Header{"A": {"b"}}, true).list}).headers.view(),
	}
	for name, h := range views {
		if got := headerErr(t, call(t, "[method]fields.set", h, "x-new", []any{[]byte("1")})); got != headerErrImmutable {
			t.Errorf("%s: set = %d", name, got)
		}
		if got := headerErr(t, call(t, "[method]fields.append", h, "x-new", []byte("1"))); got != headerErrImmutable {
			t.Errorf("%s: append = %d", name, got)
		}
		if got := headerErr(t, call(t, "[method]fields.delete", h, "x-test")); got != headerErrImmutable {
			t.Errorf("%s: delete = %d", name, got)
		}
		// A clone is mutable.
		mustOk(t, call(t, "[method]fields.set", call(t, "[method]fields.clone", h), "x-new", []any{[]byte("1")}))
	}
	if got := views["incoming-request"].Get("x-test"); len(got) != 1 || string(got[0]) != "yes" {
		t.Errorf("incoming headers = %q", got)
	}
}

func TestHeadersMovedIntoMessage(t *testing.T) {
	h := NewFields()
	h.Append("x-a", []byte("1"))
	resp := call(t, "[constructor]outgoing-response", h).(*OutgoingResponse)
	view := call(t, "[method]outgoing-response.headers", resp).(*Fields)
	if got := view.Get("x-a"); len(got) != 1 {
		t.Fatalf("headers = %q", got)
	}
	// Building a request from an immutable view copies it.
	req := call(t, "[constructor]outgoing-request", view).(*OutgoingRequest)
	if req.headers == resp.headers {
		t.Error("request shares the response's header storage")
	}
}

func TestForbiddenHeadersHiddenFromGuest(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://example.com/", nil)
	r.Header.Set("Keep-Alive", "timeout=5")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("X-Ok", "1")
	req := NewIncomingRequest(r, nil)
	got := call(t, "[method]fields.entries", call(t, "[method]incoming-request.headers", req))
	if want := []any{[]any{"x-ok", []byte("1")}}; !reflect.DeepEqual(got, want) {
		t.Errorf("entries = %q", got)
	}
}

// TestIncomingRequestWithExtra checks what an executor adding its own
// headers gives the guest: the request's fields minus hidden and forbidden
// ones, lower-cased, then the extra ones; copied, so the request's header
// can change afterwards; and values that cannot grow into each other
// (they share one backing array).
func TestIncomingRequestWithExtra(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://example.com/", nil)
	r.Header["X-Multi"] = []string{"a", "b"}
	r.Header.Set("Spin-Client-Addr", "6.6.6.6:1") // a client posing as the host
	r.Header.Set("Upgrade", "websocket")
	req := NewIncomingRequestWith(r, r.Header, func(name string) bool { return name == "Spin-Client-Addr" },
		[][2]string{{"spin-client-addr", "127.0.0.1:8777"}, {"connection", "close"}, {"bad name", "x"}})
	r.Header.Set("X-Multi", "changed")

	h := req.headers.view()
	if got := h.Get("X-MULTI"); len(got) != 2 || string(got[0]) != "a" || string(got[1]) != "b" {
		t.Errorf("x-multi = %q", got)
	}
	if got := h.Get("spin-client-addr"); len(got) != 1 || string(got[0]) != "127.0.0.1:8777" {
		t.Errorf("spin-client-addr = %q", got)
	}
	for _, name := range []string{"upgrade", "connection", "bad name"} {
		if h.Has(name) {
			t.Errorf("guest sees %q", name)
		}
	}
	es := req.headers.entries
	if len(es) != 3 || es[2].name != "spin-client-addr" {
		t.Fatalf("entries = %q", es)
	}
	for _, e := range es {
		if cap(e.value) != len(e.value) {
			t.Fatalf("%s: value has spare capacity %d: an append would overwrite its neighbour", e.name, cap(e.value)-len(e.value))
		}
	}
	before := fmt.Sprintf("%q", es)
	for _, e := range es {
		_ = append(e.value, "zzzz"...)
	}
	if after := fmt.Sprintf("%q", es); after != before {
		t.Errorf("appending to a value changed the others: %s, was %s", after, before)
	}
}
