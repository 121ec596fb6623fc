package http

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// maxPortTries is how many ports Listen tries with findFreePort: the given
// one and the nine after it, as Spin does.
const maxPortTries = 10

// Listen opens a TCP listener on addr (DefaultListen if empty). With
// findFreePort, an address in use makes it try the next port, up to
// maxPortTries ports in all, like `spin up --find-free-port`.
func Listen(addr string, findFreePort bool) (net.Listener, error) {
	if addr == "" {
		addr = DefaultListen
	}
	if !findFreePort {
		ln, err := net.Listen("tcp", addr)
		if isAddrInUse(err) {
			return nil, fmt.Errorf("%s is already in use; to have Wisp search for a free port, use the --find-free-port option", addr)
		}
		if err != nil {
			return nil, fmt.Errorf("unable to listen on %s: %w", addr, err)
		}
		return ln, nil
	}

	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("invalid listen address %q: %w", addr, err)
	}
	base, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid port in listen address %q", addr)
	}
	for port := base; port < base+maxPortTries; port++ {
		if port >= 65535 {
			return nil, errors.New("couldn't find a free port as we've reached the maximum port number; consider retrying with a lower base port")
		}
		a := net.JoinHostPort(host, strconv.FormatUint(port, 10))
		ln, err := net.Listen("tcp", a)
		if err == nil {
			return ln, nil
		}
		if !isAddrInUse(err) {
			return nil, fmt.Errorf("unable to listen on %s: %w", a, err)
		}
	}
	return nil, fmt.Errorf("couldn't find a free port in the range %d-%d; consider retrying with a different base port",
		base, base+maxPortTries-1)
}
