//go:build wasip1

package rdbms

import (
	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

// Imports are the connection functions of one rdbms interface. The
// postgres and mysql packages import them (a go:wasmimport names its
// interface, so each package declares its own) and share the rest here.
type Imports struct {
	ConnOpen    func(address string, ret uint32)
	ConnQuery   func(self uint32, statement string, params, n, ret uint32)
	ConnExecute func(self uint32, statement string, params, n, ret uint32)
	ConnDrop    func(self uint32)
	// ErrClosed is returned for a call on a closed connection.
	ErrClosed error
}

// Conn is a connection handle, 0 once closed (or never opened).
type Conn uint32

// Open opens a connection to address.
func (im *Imports) Open(address string) (Conn, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	im.ConnOpen(address, ret)
	if cabi.U8(ret, 0) != 0 {
		return 0, ReadError(ret + 4)
	}
	return Conn(cabi.U32(ret, 4)), nil
}

// Close closes *c and sets it to 0.
func (im *Imports) Close(c *Conn) {
	if *c != 0 {
		im.ConnDrop(uint32(*c))
		*c = 0
	}
}

// Query runs a statement that returns rows.
func (im *Imports) Query(c Conn, statement string, params []any) (*RowSet, error) {
	if c == 0 {
		return nil, im.ErrClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	list, n, err := Params(params)
	if err != nil {
		return nil, err
	}
	ret := cabi.Alloc(20, 4)
	im.ConnQuery(uint32(c), statement, list, n, ret)
	if cabi.U8(ret, 0) != 0 {
		return nil, ReadError(ret + 4)
	}
	return ReadRowSet(ret + 4), nil
}

// Execute runs a statement that returns no rows. The interfaces differ in
// its result: a result<T, error> of size bytes aligned to align, whose
// payload is at ret+align; read (if not nil) reads T there.
func (im *Imports) Execute(c Conn, statement string, params []any, size, align uint32, read func(ret uint32)) error {
	if c == 0 {
		return im.ErrClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	list, n, err := Params(params)
	if err != nil {
		return err
	}
	ret := cabi.Alloc(size, align)
	im.ConnExecute(uint32(c), statement, list, n, ret)
	if cabi.U8(ret, 0) != 0 {
		return ReadError(ret + align)
	}
	if read != nil {
		read(ret)
	}
	return nil
}
