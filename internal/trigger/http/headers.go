package http

import (
	"net/http"
	"strings"
)

// Spin's request metadata headers, as the wasi:http and Spin executors set
// them on the guest's request (WAGI gets the same values as X_* variables).
const (
	HeaderFullURL           = "spin-full-url"
	HeaderPathInfo          = "spin-path-info"
	HeaderMatchedRoute      = "spin-matched-route"
	HeaderComponentRoute    = "spin-component-route"
	HeaderRawComponentRoute = "spin-raw-component-route"
	HeaderBasePath          = "spin-base-path"
	HeaderClientAddr        = "spin-client-addr"
	// HeaderPathMatchPrefix + a parameter name (lower case, '_' as '-')
	// carries the value of a ":name" route segment.
	HeaderPathMatchPrefix = "spin-path-match-"
)

// SpinHeaders returns Spin's request metadata headers for info, in the
// order Spin computes them. Parameters whose names cannot be header names
// are skipped, as Spin skips them.
func SpinHeaders(info *RequestInfo) [][2]string {
	return AppendSpinHeaders(make([][2]string, 0, 7+len(info.Params)), info)
}

// AppendSpinHeaders appends SpinHeaders(info) to h, so that an executor can
// build them in a buffer of its own (on its stack).
func AppendSpinHeaders(h [][2]string, info *RequestInfo) [][2]string {
	h = append(h,
		[2]string{HeaderPathInfo, info.PathInfo},
		[2]string{HeaderFullURL, info.FullURL},
		[2]string{HeaderMatchedRoute, info.MatchedRoute},
		[2]string{HeaderBasePath, info.BasePath},
		[2]string{HeaderRawComponentRoute, info.RawComponentRoute},
		[2]string{HeaderComponentRoute, info.ComponentRoute},
		[2]string{HeaderClientAddr, info.ClientAddr},
	)
	for _, p := range info.Params {
		name := HeaderPathMatchPrefix + strings.ToLower(strings.ReplaceAll(p.Name, "_", "-"))
		if validHeaderName(name) {
			h = append(h, [2]string{name, p.Value})
		}
	}
	return h
}

// SetSpinHeaders replaces any metadata headers in h with the values for
// info. The trigger already strips client-sent copies (see
// stripSpinHeaders); doing it again here keeps executors safe when they are
// driven by something other than this trigger.
func SetSpinHeaders(h http.Header, info *RequestInfo) {
	stripSpinHeaders(h)
	for _, kv := range SpinHeaders(info) {
		h.Set(kv[0], kv[1])
	}
}

// IsSpinHeader reports whether name is one of the metadata headers (in any
// case): a header a client must not be able to send to a guest.
func IsSpinHeader(name string) bool {
	if len(name) < len("spin-") || !strings.EqualFold(name[:len("spin-")], "spin-") {
		return false
	}
	switch strings.ToLower(name) {
	case HeaderFullURL, HeaderPathInfo, HeaderMatchedRoute, HeaderComponentRoute,
		HeaderRawComponentRoute, HeaderBasePath, HeaderClientAddr:
		return true
	}
	return len(name) > len(HeaderPathMatchPrefix) &&
		strings.EqualFold(name[:len(HeaderPathMatchPrefix)], HeaderPathMatchPrefix)
}

// stripSpinHeaders deletes metadata headers from h. Spin appends its values
// after the client's, so a guest reading the first value could be fooled by
// a client sending "spin-client-addr: 10.0.0.1"; Wisp drops the client's.
func stripSpinHeaders(h http.Header) {
	for name := range h {
		if IsSpinHeader(name) {
			delete(h, name)
		}
	}
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
