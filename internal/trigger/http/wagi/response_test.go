package wagi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name   string
		out    string
		status int
		header http.Header
		body   string
		err    string
	}{
		{"content type", "Content-Type: text/html\n\n<p>", 200, http.Header{"Content-Type": {"text/html"}}, "<p>", ""},
		{"crlf", "Content-Type: text/html\r\nX-A: 1\r\n\r\nbody\r\n", 200, http.Header{"Content-Type": {"text/html"}, "X-A": {"1"}}, "body\r\n", ""},
		{"status only", "Status: 404 Not Found\n\n", 404, http.Header{}, "", ""},
		{"status code only", "status:201\n\nok", 201, http.Header{}, "ok", ""},
		{"location", "Location: /x\n\n", 302, http.Header{"Location": {"/x"}}, "", ""},
		{"location then status", "Location: /x\nStatus: 301\n\n", 301, http.Header{"Location": {"/x"}}, "", ""},
		{"status then location", "Status: 307\nLocation: /x\n\n", 307, http.Header{"Location": {"/x"}}, "", ""},
		{"repeated header", "Content-Type: a/b\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n", 200, http.Header{"Content-Type": {"a/b"}, "Set-Cookie": {"a=1", "b=2"}}, "", ""},
		{"host computes length", "Content-Type: a/b\nContent-Length: 999\n\nabc", 200, http.Header{"Content-Type": {"a/b"}}, "abc", ""},
		{"body keeps blank lines", "Content-Type: a/b\n\n\n\nx", 200, http.Header{"Content-Type": {"a/b"}}, "\n\nx", ""},
		{"malformed line skipped", "Content-Type: a/b\nnonsense\n\n", 200, http.Header{"Content-Type": {"a/b"}}, "", ""},
		{"no header block", "just text", 0, nil, "", "no empty line"},
		{"empty", "", 0, nil, "", "no empty line"},
		{"insufficient", "X-A: 1\n\nbody", 0, nil, "", "one of Content-Type, Location or Status"},
		{"bad status", "Status: abc\n\n", 0, nil, "", "invalid Status"},
		{"informational status", "Status: 101\n\n", 0, nil, "", "invalid Status"},
		{"value with control char", "Content-Type: a\x00b\n\n", 0, nil, "", "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _, err := parseResponse([]byte(tt.out))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.status != tt.status || string(resp.body) != tt.body {
				t.Errorf("got %d %q, want %d %q", resp.status, resp.body, tt.status, tt.body)
			}
			for k, v := range tt.header {
				if !slices.Equal(resp.header[k], v) {
					t.Errorf("header %s = %v, want %v", k, resp.header[k], v)
				}
			}
			if len(resp.header) != len(tt.header) {
				t.Errorf("headers %v, want %v", resp.header, tt.header)
			}
		})
	}
}

func TestArgv(t *testing.T) {
	tests := []struct {
		template, script, query string
		want                    []string
	}{
		{"", "/r", "", []string{"/r"}},
		{"", "/r", "a=1&b=x%20y&c+d", []string{"/r", "a=1", "b=x y", "c d"}},
		{"${SCRIPT_NAME}  ${ARGS}", "/r", "%zz", []string{"/r", "%zz"}},
		{"bin -v ${ARGS}", "/r", "q", []string{"bin", "-v", "q"}},
		{"bin --all=${ARGS}", "/r", "a&b", []string{"bin", "--all=a b"}},
	}
	for _, tt := range tests {
		if got := argv(tt.template, tt.script, tt.query); !slices.Equal(got, tt.want) {
			t.Errorf("argv(%q, %q, %q) = %q, want %q", tt.template, tt.script, tt.query, got, tt.want)
		}
	}
}

// FuzzParseResponse checks that no guest output makes the parser panic or
// produce a response net/http refuses to send.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"Content-Type: a\n\nb", "Status: 404\r\n\r\n", "Location: /\n\n", "x", "\n\n", "Status: 999 x\nA: b\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		resp, _, err := parseResponse(out)
		if err != nil {
			return
		}
		if resp.status < 200 || resp.status > 999 {
			t.Fatalf("status %d", resp.status)
		}
		resp.write(httptest.NewRecorder())
	})
}
