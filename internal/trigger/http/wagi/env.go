package wagi

import (
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

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
func environment(component []string, r *http.Request, info *trigger.RequestInfo, contentLength int64) []string {
	vars := make(map[string]string, len(component)+32+len(r.Header))
	for _, kv := range component {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}

	// Request headers, as RFC 3875 §4.1.18 names them.
	for name, values := range r.Header {
		if skippedHeaders[name] {
			continue
		}
		key := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		vars[key] = strings.Join(values, ", ")
	}
	// net/http moves Host out of the header map.
	vars["HTTP_HOST"] = r.Host

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

	vars["AUTH_TYPE"] = "" // not supported, as in Spin
	vars["CONTENT_LENGTH"] = strconv.FormatInt(contentLength, 10)
	vars["CONTENT_TYPE"] = r.Header.Get("Content-Type")
	vars["GATEWAY_INTERFACE"] = gatewayInterface
	vars["PATH_INFO"] = info.PathInfo
	vars["PATH_TRANSLATED"] = unescapePath(info.PathInfo)
	vars["QUERY_STRING"] = r.URL.RawQuery
	vars["REMOTE_ADDR"] = clientIP
	vars["REMOTE_HOST"] = clientIP // RFC 3875 allows the address instead of a name
	vars["REMOTE_USER"] = ""
	vars["REQUEST_METHOD"] = r.Method
	vars["SCRIPT_NAME"] = info.ComponentRoute
	vars["SERVER_NAME"] = host
	vars["SERVER_PORT"] = port
	vars["SERVER_PROTOCOL"] = r.Proto
	vars["SERVER_SOFTWARE"] = serverSoftware
	// Not in RFC 3875, hence the X_ prefix; the same values Spin passes to
	// its other executor as spin-* headers.
	vars["X_FULL_URL"] = fullURL
	vars["X_MATCHED_ROUTE"] = info.MatchedRoute
	vars["X_RAW_COMPONENT_ROUTE"] = info.RawComponentRoute
	vars["X_COMPONENT_ROUTE"] = info.ComponentRoute
	vars["X_BASE_PATH"] = basePath
	vars["X_RAW_PATH_INFO"] = info.PathInfo
	vars["X_CLIENT_ADDR"] = clientAddr
	for _, p := range info.Params {
		vars["X_PATH_MATCH_"+strings.ToUpper(p.Name)] = p.Value
	}

	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
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
