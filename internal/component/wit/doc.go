// Package wit parses and resolves WIT, the Component Model's interface
// language, so that host interfaces are declared once by their WIT
// signatures: the resolver turns each interface into cabi types and
// function types under the exact names components import them by
// ("[method]fields.get", "[resource-drop]fields", …).
//
// It handles the subset that WASI 0.2 and Spin use: packages, interfaces,
// worlds (import, export, include), use (within and across packages, with
// renames), type aliases, records, variants, enums, flags, resources with
// constructors, methods and static functions, and feature gates (parsed and
// ignored). "async func" is accepted and flagged; functions whose types
// contain stream<> or future<> are listed in Interface.Unsupported instead
// of Funcs, because package cabi does not model them.
//
// Builtin returns the embedded definitions in defs/. They are signatures
// only (no upstream doc comments), taken from:
//
//   - WASI 0.2.12 (WebAssembly/WASI tag v0.2.12, proposals/*/wit): io,
//     clocks, random, cli, filesystem, sockets, http. 0.2.12 is a strict
//     superset of 0.2.0; LookupInterface serves any 0.2.x import from it.
//   - Spin (spinframework/spin, wit/deps): fermyon:spin@2.0.0, the
//     unversioned fermyon:spin inbound-redis and redis-types, spin:*@3.x,
//     spin:postgres@4.2.0, wasi:keyvalue@0.2.0-draft2 and
//     wasi:config@0.2.0-draft-2024-09-27.
package wit
