// Package postgres queries PostgreSQL from a Wisp (or Spin) component
// through fermyon:spin/postgres@2.0.0. The address is a connection URL
// ("postgres://user:password@host:5432/db") that the component's
// allowed_outbound_hosts must allow.
//
//	conn, err := postgres.Open(address)
//	rows, err := conn.Query("SELECT id, name FROM users WHERE id = $1", int32(7))
//	n, err := conn.Execute("DELETE FROM users WHERE id = $1", int32(7))
//
// The package binds the 2.0.0 interface, which every Spin 2 and 3 host
// serves (the newer spin:postgres@3/4 add types such as dates; they are
// not bound yet).
package postgres
