package http

import (
	"errors"
	"syscall"
)

// wsaeaddrinuse is Winsock's WSAEADDRINUSE, which syscall.EADDRINUSE is not.
const wsaeaddrinuse = syscall.Errno(10048)

func isAddrInUse(err error) bool { return errors.Is(err, wsaeaddrinuse) }
