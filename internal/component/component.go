package component

import (
	"context"
	"errors"

	"github.com/wisp-dev/wisp/internal/engine"
)

// This file is the package's contract with executors and host interface
// packages; the linker implements it.

// Component is a linked component: decoded, its core modules compiled with
// their imports redirected, its imports bound to the Host. It is immutable
// and shared by all instances; instantiating it costs no compilation.
type Component struct {
	_ struct{}
}

var errNotImplemented = errors.New("component: not implemented yet")

// Load decodes and links a Component Model binary against host.
func Load(ctx context.Context, eng *engine.Engine, wasm []byte, host *Host) (*Component, error) {
	return nil, errNotImplemented
}

// LoadCore links a core module that speaks the canonical ABI directly:
// it imports host interfaces by their canonical names (module
// "wasi:http/types@0.2.0", field "[method]fields.get"), exports "memory",
// "cabi_realloc" and functions named "<interface>#<func>" (for example
// "wasi:http/incoming-handler@0.2.0#handle"). The result behaves exactly
// like a component with the same imports and exports.
func LoadCore(ctx context.Context, eng *engine.Engine, wasm []byte, host *Host) (*Component, error) {
	return nil, errNotImplemented
}

// Export returns the exact name of the exported interface that is
// semver-compatible with want ("wasi:http/incoming-handler@0.2.0" matches
// an export "wasi:http/incoming-handler@0.2.3").
func (c *Component) Export(want string) (name string, ok bool) { return "", false }

// Instantiate creates a fresh instance (one per request).
func (c *Component) Instantiate(ctx context.Context) (*Instance, error) {
	return nil, errNotImplemented
}

// Close releases the compiled modules.
func (c *Component) Close(ctx context.Context) error { return nil }

// Call calls function fn of the exported interface iface (as returned by
// Export) with args in the Go representation of cabi; own<R> arguments of
// host resources are Go values handed to the guest.
func (i *Instance) Call(ctx context.Context, iface, fn string, args ...any) ([]any, error) {
	return nil, errNotImplemented
}

// Close releases the instance's memory and drops every resource it still holds.
func (i *Instance) Close(ctx context.Context) error { return nil }

// NewHost validates every interface against its WIT definition
// (internal/component/wit) and returns the registry.
func NewHost(ifaces ...Interface) (*Host, error) { return nil, errNotImplemented }

// Host is the set of host interfaces components can import. It is built
// once at startup, then read concurrently by every link and call.
type Host struct {
	_ struct{}
}
