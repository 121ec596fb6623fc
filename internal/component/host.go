// Package component runs WebAssembly components (the Component Model) on
// the engine: it links a decoded component once — compiling its core
// modules with their imports redirected, binding its imports to host
// functions — and instantiates it per request.
//
// Host interfaces are declared once by their WIT signatures
// (internal/component/wit) and bound to Go functions through a Host. The
// same binding serves components and core modules that import the
// interfaces by their canonical names directly (the Wisp Go SDK's form).
package component

import (
	"context"
)

// HostFunc implements one function of a host interface. args and results
// use the Go representation of component values documented in
// internal/component/cabi (a host resource is its Go value; returning one
// where own<R> is expected hands it to the guest). A non-nil error traps the
// guest: use it for host failures and guest misuse only — errors the WIT
// signature can express (result<_, error-code>) are ordinary results.
type HostFunc func(ctx context.Context, call *Call, args []any) ([]any, error)

// Call is what a host function knows about its caller.
type Call struct {
	// Instance is the component instance (one per request) that called.
	Instance *Instance
}

// Dropper is implemented by host resource values that need to release
// something when the guest drops its last handle ([resource-drop]).
type Dropper interface {
	Drop()
}

// Interface binds Go functions to the functions of one WIT interface.
type Interface struct {
	// Name is the interface's qualified name as written in WIT, with the
	// version whose definitions the functions implement
	// ("wasi:io/streams@0.2.0"). Imports of any semver-compatible version
	// ("wasi:io/streams@0.2.12") bind to it.
	Name string
	// Funcs maps component-level function names ("[method]fields.get",
	// "get-environment") to implementations. Each name must exist in the
	// WIT definition; resource drops need no entry (see Dropper).
	Funcs map[string]HostFunc
}
