package mysql

import (
	"crypto/tls"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	driver "github.com/go-sql-driver/mysql"

	"github.com/wisp-dev/wisp/internal/factors/internal/rdbms"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// ignoredParams are URL options of Spin's driver (mysql_async) that tune
// its pool, cache or socket and have no meaning here; they are accepted so
// addresses written for Spin keep working.
var ignoredParams = map[string]bool{
	"pool_min": true, "pool_max": true, "inactive_connection_ttl": true, "ttl_check_interval": true,
	"conn_ttl": true, "abs_conn_ttl": true, "abs_conn_ttl_jitter": true, "stmt_cache_size": true,
	"tcp_nodelay": true, "tcp_keepalive": true, "tcp_keepalive_retries_linux": true,
	"tcp_keepalive_interval_linux": true, "reset_connection": true, "setup": true,
	"wait_timeout": true, "secure_auth": true, "client_found_rows": true, "enable_cleartext_plugin": true,
	"max_allowed_packet": true, "compression": true,
}

// parseAddress converts Spin's MySQL address,
// mysql://user:password@host:port/database?ssl-mode=..., into a driver
// config that dials through the policy, after checking the address
// against the component's outbound policy as Spin does (check_url with
// scheme "mysql"). Errors are connection-failed and never contain the
// password.
func parseAddress(address string, p *outbound.Policy) (*driver.Config, *rdbms.Error) {
	u, err := url.Parse(address)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "invalid MySQL address: expected mysql://user:password@host:port/database")
	}
	if !p.AllowsURL(address, "mysql") {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "address %s is not permitted", redacted(address))
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, rdbms.Errorf(rdbms.ConnectionFailed, "invalid port %q in MySQL address", port)
	}
	cfg := driver.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.Timeout = 30 * time.Second
	// Failures reach the guest as errors; the driver's own log would only
	// repeat them on the host's stderr.
	cfg.Logger = quiet{}
	// Never let a server the guest chose read the host's files.
	cfg.AllowAllFiles = false
	// Values come back as the server sent them; conversion follows Spin.
	cfg.ParseTime = false
	for key, vals := range u.Query() {
		k := strings.ToLower(key)
		switch {
		case k == "ssl-mode" || k == "sslmode":
			// As Spin: anything but DISABLED means TLS, verified.
			if len(vals) > 0 && !strings.EqualFold(vals[len(vals)-1], "disabled") {
				cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
			}
		case k == "require_ssl":
			if len(vals) > 0 && vals[len(vals)-1] == "true" {
				cfg.TLS = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
			}
		case ignoredParams[k]:
		default:
			return nil, rdbms.Errorf(rdbms.ConnectionFailed, "unsupported parameter %q in MySQL address", key)
		}
	}
	// Every connection goes through the policy's dialer, which resolves
	// the name itself and refuses blocked networks.
	cfg.DialFunc = p.DialContext
	return cfg, nil
}

type quiet struct{}

func (quiet) Print(...any) {}

// redacted is address with its password masked.
// (parseAddress has parsed it).
func redacted(address string) string {
	u, err := url.Parse(address)
	if err != nil {
		return "mysql://…"
	}
	return u.Redacted()
}
