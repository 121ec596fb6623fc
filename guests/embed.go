// Package guests holds the WebAssembly guests that Wisp ships as source.
//
// Each guest is an ordinary package main in this module (so go vet and its
// tests cover it) and is embedded here, so that templates can write the
// same source into a user's project: one copy, no generated files.
package guests

import "embed"

// FileServer is the source of the static file server guest (package main,
// standard library only), as the files fileserver/main.go and
// fileserver/fileserver.go.
//
//go:embed fileserver/main.go fileserver/fileserver.go
var FileServer embed.FS
