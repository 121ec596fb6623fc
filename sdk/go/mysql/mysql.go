//go:build wasip1

package mysql

import (
	"errors"

	"github.com/wisp-dev/wisp/sdk/go/internal/rdbms"
)

//go:wasmimport fermyon:spin/mysql@2.0.0 [static]connection.open
func connOpen(address string, ret uint32)

//go:wasmimport fermyon:spin/mysql@2.0.0 [method]connection.query
func connQuery(self uint32, statement string, params, n, ret uint32)

//go:wasmimport fermyon:spin/mysql@2.0.0 [method]connection.execute
func connExecute(self uint32, statement string, params, n, ret uint32)

//go:wasmimport fermyon:spin/mysql@2.0.0 [resource-drop]connection
func connDrop(self uint32)

type (
	// RowSet is a query's result; see rdbms.RowSet for the Go types of
	// the values.
	RowSet = rdbms.RowSet
	// Column is a result column.
	Column = rdbms.Column
	// DataType is a column's type.
	DataType = rdbms.DataType
	// Error is a failure the host reports (Kind: connection-failed,
	// bad-parameter, query-failed, value-conversion-failed, other).
	Error = rdbms.Error
	// Unsupported stands for a value the host could not convert.
	Unsupported = rdbms.Unsupported
)

var imports = &rdbms.Imports{
	ConnOpen:    connOpen,
	ConnQuery:   connQuery,
	ConnExecute: connExecute,
	ConnDrop:    connDrop,
	ErrClosed:   errors.New("mysql: connection is closed"),
}

// Conn is an open connection.
type Conn struct{ h rdbms.Conn }

// Open connects to address (the component's allowed_outbound_hosts must
// allow it).
func Open(address string) (*Conn, error) {
	h, err := imports.Open(address)
	if err != nil {
		return nil, err
	}
	return &Conn{h: h}, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	imports.Close(&c.h)
	return nil
}

// Query runs a statement that returns rows. params are bool, int8 … int64,
// int, uint8 … uint64, uint, float32, float64, string, []byte or nil.
func (c *Conn) Query(statement string, params ...any) (*RowSet, error) {
	return imports.Query(c.h, statement, params)
}

// Execute runs a statement that returns no rows.
func (c *Conn) Execute(statement string, params ...any) error {
	return imports.Execute(c.h, statement, params, 16, 4, nil) // result<_, error>
}
