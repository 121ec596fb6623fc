package postgres

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// allowedKeys are the connection-string keys a guest may use: what Spin's
// driver (tokio-postgres) understands and pgx implements. Anything else is
// refused before pgx reads a file or resolves a name, notably passfile,
// servicefile, service and the sslcert/sslkey/sslrootcert paths, which
// would make the host read its own files for the guest.
var allowedKeys = []string{
	"host", "port", "user", "password", "dbname", "options", "application_name",
	"sslmode", "connect_timeout", "target_session_attrs", "sslnegotiation",
}

// parseAddress parses a guest's address (URL or keyword/value form) into a
// pgx connection config and checks every host it names against the
// component's outbound policy, as Spin does. Errors are connection-failed.
func parseAddress(address string, p *outbound.Policy) (*pgx.ConnConfig, *rdbms.Error) {
	cfg, err := pgx.ParseConfigWithOptions(address, pgx.ParseConfigOptions{
		ParseConfigOptions: pgconn.ParseConfigOptions{ConnStringAllowedKeys: allowedKeys},
	})
	if err != nil {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "invalid PostgreSQL address: %s", redact(parseErrorText(err), address))
	}
	hosts := []*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port}}
	hosts = append(hosts, cfg.Fallbacks...)
	for _, h := range hosts {
		if strings.HasPrefix(h.Host, "/") {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "Unix sockets are not supported on WebAssembly")
		}
		hp := net.JoinHostPort(h.Host, strconv.Itoa(int(h.Port)))
		if !p.AllowsURL(hp, "postgres") && !p.Allows("postgresql", h.Host, int(h.Port)) {
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "address postgres://%s is not permitted", hp)
		}
	}
	// pgx fills what the address leaves out from the host's environment
	// (PGPASSWORD), ~/.pgpass and ~/.postgresql: none of it is the
	// guest's to use or to send to a server the guest chose.
	if !hasPassword(address) {
		cfg.Password = ""
	}
	for _, tc := range append([]*pgconn.FallbackConfig{{TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...) {
		if tc.TLSConfig != nil {
			tc.TLSConfig.Certificates = nil
			tc.TLSConfig.GetClientCertificate = nil
		}
	}
	// Every connection goes through the policy's dialer, which resolves
	// the name itself and refuses blocked networks: pgx must hand it the
	// host as written, not addresses it resolved.
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cfg.DialFunc = p.DialContext
	return cfg, nil
}

var kvPassword = regexp.MustCompile(`(^|\s)password\s*=`)

// hasPassword reports whether the address itself carries a password.
func hasPassword(address string) bool {
	if strings.HasPrefix(address, "postgres://") || strings.HasPrefix(address, "postgresql://") {
		u, err := url.Parse(address)
		if err != nil {
			return false
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
		return u.Query().Has("password")
	}
	return kvPassword.MatchString(address)
}

// parseErrorText is pgx's parse error without the connection string.
func parseErrorText(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		if inner := pe.Unwrap(); inner != nil {
			return inner.Error()
		}
		// The message is the part after the (redacted) connection string.
		s := pe.Error()
		if i := strings.LastIndex(s, ": "); i >= 0 {
			return s[i+2:]
		}
		return s
	}
	return err.Error()
}

var kvPasswordValue = regexp.MustCompile(`(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// redact removes the address's password from msg.
func redact(msg, address string) string {
	var pws []string
	if u, err := url.Parse(address); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			pws = append(pws, pw)
		}
	}
	for _, m := range kvPasswordValue.FindAllStringSubmatch(address, -1) {
		pws = append(pws, m[1], strings.Trim(m[1], "'"))
	}
	for _, pw := range pws {
		if pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}
