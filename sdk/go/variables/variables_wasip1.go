//go:build wasip1

package variables

import (
	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/variables@2.0.0 get
func get(name string, ret uint32)

// ErrorKind is the kind of a variables error.
type ErrorKind uint8

// The error kinds of fermyon:spin/variables.
const (
	InvalidName ErrorKind = iota // the name is not a valid variable name
	Undefined                    // the component has no such variable
	Provider                     // the provider failed
	Other
)

var kindNames = [...]string{"invalid name", "undefined", "provider error", "error"}

// Error is a failed Get.
type Error struct {
	Kind    ErrorKind
	Message string
}

func (e *Error) Error() string { return "variables: " + kindNames[e.Kind] + ": " + e.Message }

// Get returns the value of the component's variable name (lower case
// letters, digits and underscores).
func Get(name string) (string, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	get(name, ret) // result<string, error>
	if cabi.U8(ret, 0) == 0 {
		return cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8)), nil
	}
	kind := ErrorKind(min(cabi.U8(ret, 4), uint8(Other)))
	return "", &Error{Kind: kind, Message: cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12))}
}
