package wagi

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// response is a parsed CGI response (RFC 3875 §6).
type response struct {
	status int
	header http.Header
	body   []byte
}

// droppedHeaders are response headers the host computes itself; a guest's
// value could only be wrong (a Content-Length that does not match the body)
// or meaningless.
var droppedHeaders = map[string]bool{
	"Content-Length":    true,
	"Transfer-Encoding": true,
	"Connection":        true,
}

// parseResponse parses CGI output: header lines up to the first empty line
// ("\n" or "\r\n"), then the body. Like Spin, it requires at least one of
// Content-Type, Location or Status; Location without Status means 302.
// Lines that are not "Name: value" are skipped and reported as warnings, as
// Spin does; a value that cannot be sent or a bad Status is an error.
func parseResponse(out []byte) (*response, []string, error) {
	head, body, ok := splitHead(out)
	if !ok {
		return nil, nil, fmt.Errorf("no empty line ends the header block (first bytes: %q)", preview(out))
	}
	resp := &response{status: http.StatusOK, header: http.Header{}, body: body}
	var warnings []string
	sufficient, explicitStatus := false, false
	for rest := head; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			warnings = append(warnings, fmt.Sprintf("ignoring malformed CGI header line %q", preview([]byte(line))))
			continue
		}
		if !validHeaderValue(value) {
			return nil, warnings, fmt.Errorf("header %s has an invalid value", name)
		}
		switch name = http.CanonicalHeaderKey(name); name {
		case "Status":
			code, err := parseStatus(value)
			if err != nil {
				return nil, warnings, err
			}
			resp.status, explicitStatus, sufficient = code, true, true
		case "Location":
			resp.header.Set(name, value)
			if !explicitStatus {
				resp.status = http.StatusFound
			}
			sufficient = true
		case "Content-Type":
			resp.header.Set(name, value)
			sufficient = true
		default:
			if droppedHeaders[name] {
				continue
			}
			resp.header.Add(name, value)
		}
	}
	if !sufficient {
		return nil, warnings, fmt.Errorf("one of Content-Type, Location or Status is required")
	}
	return resp, warnings, nil
}

// splitHead splits at the first empty line; ok is false when there is none.
func splitHead(out []byte) (head string, body []byte, ok bool) {
	for start := 0; start <= len(out); {
		end := bytes.IndexByte(out[start:], '\n')
		if end < 0 {
			return "", nil, false
		}
		line := out[start : start+end]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return strings.TrimSuffix(string(out[:start]), "\n"), out[start+end+1:], true
		}
		start += end + 1
	}
	return "", nil, false
}

// parseStatus reads "404" or "404 Not Found".
func parseStatus(v string) (int, error) {
	codeText, _, _ := strings.Cut(v, " ")
	code, err := strconv.Atoi(codeText)
	if err != nil || len(codeText) != 3 || code < 200 {
		return 0, fmt.Errorf("invalid Status %q", preview([]byte(v)))
	}
	return code, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters (other than tab), which would
// let a guest split the response.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// preview quotes at most 64 bytes of guest output for a log message.
func preview(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// write sends the response.
func (r *response) write(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	w.WriteHeader(r.status)
	if bodyAllowed(r.status) {
		w.Write(r.body)
	}
}

// bodyAllowed mirrors RFC 9110: 204 and 304 responses have no body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}
