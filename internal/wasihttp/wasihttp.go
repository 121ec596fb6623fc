// Package wasihttp is the host side of wasi:http 0.2: the resources of
// wasi:http/types (fields, requests, responses, bodies, futures) and
// wasi:http/outgoing-handler, as component.Interfaces.
//
// The executor of the HTTP trigger creates the two resources a guest's
// incoming-handler.handle receives (NewIncomingRequest,
// NewResponseOutparam) and puts the component's outbound plumbing
// (service chaining, self) in the context of the call (WithOutbound); what
// the component may reach is the outbound.Policy the outbound-networking
// factor put in that context (outbound.FromContext). Bodies stream both
// ways through
// bounded buffers; their streams and pollables implement internal/wasi/
// wasiio, so wasi:io's host functions serve them.
//
// Semantics follow wasmtime-wasi-http as Spin uses it: forbidden and
// immutable headers, body() and consume() once, content-length enforced
// on outgoing bodies, deny-by-default outbound requests.
package wasihttp

import "github.com/wisp-dev/wisp/internal/component"

// Interface names, at the version whose definitions are implemented; any
// 0.2.x import binds to them.
const (
	TypesInterface           = "wasi:http/types@0.2.0"
	OutgoingHandlerInterface = "wasi:http/outgoing-handler@0.2.0"
	// IncomingHandlerInterface is what a guest exports to serve HTTP.
	IncomingHandlerInterface = "wasi:http/incoming-handler@0.2.0"
	// HandleFunc is the exported function of IncomingHandlerInterface.
	HandleFunc = "handle"
)

// Interfaces returns the host implementations of wasi:http/types and
// wasi:http/outgoing-handler.
func Interfaces() []component.Interface {
	return []component.Interface{
		{Name: TypesInterface, Funcs: typesFuncs()},
		{Name: OutgoingHandlerInterface, Funcs: map[string]component.HostFunc{"handle": outgoingHandle}},
	}
}
