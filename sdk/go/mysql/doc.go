// Package mysql queries MySQL (or MariaDB) from a Wisp (or Spin) component
// through fermyon:spin/mysql@2.0.0. The address is a connection URL
// ("mysql://user:password@host:3306/db") that the component's
// allowed_outbound_hosts must allow.
//
//	conn, err := mysql.Open(address)
//	rows, err := conn.Query("SELECT id, name FROM users WHERE id = ?", int32(7))
//	err = conn.Execute("DELETE FROM users WHERE id = ?", int32(7))
package mysql
