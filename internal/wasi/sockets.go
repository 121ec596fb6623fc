package wasi

import (
	"context"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// wasi:sockets is denied: components reach the network only through the
// outbound HTTP (and database) interfaces, which check
// allowed_outbound_hosts (DESIGN §4). Sockets cannot be created and names
// cannot be resolved; every other function is still bound, answering
// access-denied, so that components that merely import sockets (most
// wasi-libc builds do) link.

// Cases of wasi:sockets/network's error-code enum.
const sockErrAccessDenied uint32 = 1

// network is the network resource instance-network hands out; it grants
// nothing.
type network struct{}

func socketInterfaces() []component.Interface {
	denied := func(context.Context, *component.Call, []any) ([]any, error) {
		return []any{cabi.Err(sockErrAccessDenied)}, nil
	}
	ready := func(context.Context, *component.Call, []any) ([]any, error) {
		return []any{readyPollable{}}, nil
	}
	ipv4 := func(context.Context, *component.Call, []any) ([]any, error) {
		return []any{uint32(0)}, nil // ip-address-family.ipv4
	}
	falseFn := func(context.Context, *component.Call, []any) ([]any, error) {
		return []any{false}, nil
	}
	deny := func(funcs map[string]component.HostFunc, names ...string) map[string]component.HostFunc {
		for _, n := range names {
			funcs[n] = denied
		}
		return funcs
	}
	return []component.Interface{
		iface("sockets/network", map[string]component.HostFunc{
			"network-error-code": func(context.Context, *component.Call, []any) ([]any, error) {
				return []any{cabi.None}, nil
			},
		}),
		iface("sockets/instance-network", map[string]component.HostFunc{
			"instance-network": func(context.Context, *component.Call, []any) ([]any, error) {
				return []any{&network{}}, nil
			},
		}),
		iface("sockets/ip-name-lookup", deny(map[string]component.HostFunc{
			"[method]resolve-address-stream.subscribe": ready,
		}, "resolve-addresses", "[method]resolve-address-stream.resolve-next-address")),
		iface("sockets/tcp-create-socket", deny(map[string]component.HostFunc{}, "create-tcp-socket")),
		iface("sockets/udp-create-socket", deny(map[string]component.HostFunc{}, "create-udp-socket")),
		// No tcp-socket or udp-socket can exist, so the methods below are
		// unreachable; they answer as a socket that may do nothing would.
		iface("sockets/tcp", deny(map[string]component.HostFunc{
			"[method]tcp-socket.is-listening":   falseFn,
			"[method]tcp-socket.address-family": ipv4,
			"[method]tcp-socket.subscribe":      ready,
		},
			"[method]tcp-socket.start-bind", "[method]tcp-socket.finish-bind",
			"[method]tcp-socket.start-connect", "[method]tcp-socket.finish-connect",
			"[method]tcp-socket.start-listen", "[method]tcp-socket.finish-listen",
			"[method]tcp-socket.accept",
			"[method]tcp-socket.local-address", "[method]tcp-socket.remote-address",
			"[method]tcp-socket.set-listen-backlog-size",
			"[method]tcp-socket.keep-alive-enabled", "[method]tcp-socket.set-keep-alive-enabled",
			"[method]tcp-socket.keep-alive-idle-time", "[method]tcp-socket.set-keep-alive-idle-time",
			"[method]tcp-socket.keep-alive-interval", "[method]tcp-socket.set-keep-alive-interval",
			"[method]tcp-socket.keep-alive-count", "[method]tcp-socket.set-keep-alive-count",
			"[method]tcp-socket.hop-limit", "[method]tcp-socket.set-hop-limit",
			"[method]tcp-socket.receive-buffer-size", "[method]tcp-socket.set-receive-buffer-size",
			"[method]tcp-socket.send-buffer-size", "[method]tcp-socket.set-send-buffer-size",
			"[method]tcp-socket.shutdown",
		)),
		iface("sockets/udp", deny(map[string]component.HostFunc{
			"[method]udp-socket.address-family":          ipv4,
			"[method]udp-socket.subscribe":               ready,
			"[method]incoming-datagram-stream.subscribe": ready,
			"[method]outgoing-datagram-stream.subscribe": ready,
		},
			"[method]udp-socket.start-bind", "[method]udp-socket.finish-bind",
			"[method]udp-socket.stream",
			"[method]udp-socket.local-address", "[method]udp-socket.remote-address",
			"[method]udp-socket.unicast-hop-limit", "[method]udp-socket.set-unicast-hop-limit",
			"[method]udp-socket.receive-buffer-size", "[method]udp-socket.set-receive-buffer-size",
			"[method]udp-socket.send-buffer-size", "[method]udp-socket.set-send-buffer-size",
			"[method]incoming-datagram-stream.receive",
			"[method]outgoing-datagram-stream.check-send", "[method]outgoing-datagram-stream.send",
		)),
	}
}
