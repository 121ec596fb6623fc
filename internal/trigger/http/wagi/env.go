package wagi

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	trigger "github.com/wisp-dev/wisp/internal/trigger/http"
)

// Values of CGI variables that never change (Spin's wagi constants).
const (
	gatewayInterface = "CGI/1.1"
	serverSoftware   = "WAGI/1"
)

// skippedHeaders are not passed as HTTP_* variables: credentials (RFC 3875
// §4.1.18 lets servers withhold them; Spin drops Authorization) and
// connection-level headers that mean nothing to the guest.
var skippedHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Connection":          true,
}

// environment returns the guest's environment: the component's own
// variables, then the CGI/1.1 meta-variables (which win on a clash, so a
// guest can rely on them), as sorted "KEY=value" entries.
//
// It runs on every request, so it builds each entry once, straight into
// the result (constant ones cost nothing), and settles clashes by sorting
// rather than through a map.
func environment(component []string, r *http.Request, info *trigger.RequestInfo, contentLength int64) []string {
	// In order of precedence, lowest first: a later entry replaces an
	// earlier one with the same name.
	env := make([]string, 0, len(component)+len(r.Header)+26+len(info.Params))
	env = append(env, component...)

	// Request headers, as RFC 3875 §4.1.18 names them.
	for name, values := range r.Header {
		if skippedHeaders[name] {
			continue
		}
		env = append(env, envVar("HTTP_", name, strings.Join(values, ", "), true))
	}
	// net/http moves Host out of the header map.
	env = append(env, "HTTP_HOST="+r.Host)

	host, port := serverNameAndPort(r)
	clientAddr := info.ClientAddr
	if clientAddr == "" {
		clientAddr = r.RemoteAddr
	}
	clientIP := clientAddr
	if h, _, err := net.SplitHostPort(clientAddr); err == nil {
		clientIP = h
	}
	basePath := info.BasePath
	if basePath == "" {
		basePath = "/"
	}
	fullURL := info.FullURL
	if fullURL == "" {
		fullURL = scheme(r) + "://" + r.Host + r.URL.RequestURI()
	}

	env = append(env,
		"AUTH_TYPE=", // not supported, as in Spin
		"CONTENT_LENGTH="+strconv.FormatInt(contentLength, 10),
		"CONTENT_TYPE="+r.Header.Get("Content-Type"),
		"GATEWAY_INTERFACE="+gatewayInterface,
		"PATH_INFO="+info.PathInfo,
		"PATH_TRANSLATED="+unescapePath(info.PathInfo),
		"QUERY_STRING="+r.URL.RawQuery,
		"REMOTE_ADDR="+clientIP,
		"REMOTE_HOST="+clientIP, // RFC 3875 allows the address instead of a name
		"REMOTE_USER=",
		"REQUEST_METHOD="+r.Method,
		"SCRIPT_NAME="+info.ComponentRoute,
		"SERVER_NAME="+host,
		"SERVER_PORT="+port,
		"SERVER_PROTOCOL="+r.Proto,
		"SERVER_SOFTWARE="+serverSoftware,
		// Not in RFC 3875, hence the X_ prefix; the same values Spin
		// passes to its other executor as spin-* headers.
		"X_FULL_URL="+fullURL,
		"X_MATCHED_ROUTE="+info.MatchedRoute,
		"X_RAW_COMPONENT_ROUTE="+info.RawComponentRoute,
		"X_COMPONENT_ROUTE="+info.ComponentRoute,
		"X_BASE_PATH="+basePath,
		"X_RAW_PATH_INFO="+info.PathInfo,
		"X_CLIENT_ADDR="+clientAddr,
	)
	for _, p := range info.Params {
		env = append(env, envVar("X_PATH_MATCH_", p.Name, p.Value, false))
	}

	// Keep the last entry of each name, then sort the "KEY=value" strings.
	slices.SortStableFunc(env, func(a, b string) int { return strings.Compare(envName(a), envName(b)) })
	out := env[:0]
	for i, kv := range env {
		if i+1 < len(env) && envName(env[i+1]) == envName(kv) {
			continue // replaced by the next one
		}
		out = append(out, kv)
	}
	clear(env[len(out):])
	slices.Sort(out)
	return out
}

// envName is the name of a "KEY=value" entry.
func envName(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// envVar returns prefix+NAME+"="+value in one allocation, NAME being name
// upper-cased, with '-' as '_' if dashes is set (an HTTP header name, as
// RFC 3875 says; route parameter names keep theirs, as in Spin).
func envVar(prefix, name, value string, dashes bool) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(name) + 1 + len(value))
	b.WriteString(prefix)
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= utf8.RuneSelf:
			// Not a token: upper-case the rest as Unicode.
			rest := name[i:]
			if dashes {
				rest = strings.ReplaceAll(rest, "-", "_")
			}
			b.WriteString(strings.ToUpper(rest))
			i = len(name)
		case c == '-' && dashes:
			b.WriteByte('_')
		case 'a' <= c && c <= 'z':
			b.WriteByte(c - ('a' - 'A'))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('=')
	b.WriteString(value)
	return b.String()
}

// serverNameAndPort takes SERVER_NAME and SERVER_PORT from the Host header,
// as RFC 3875 §4.1.14 says, defaulting the port by scheme.
func serverNameAndPort(r *http.Request) (string, string) {
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		return h, p
	}
	if r.TLS != nil {
		return host, "443"
	}
	return host, "80"
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// unescapePath percent-decodes a path, leaving it as is when malformed.
func unescapePath(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}
