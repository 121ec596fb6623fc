package sqlitekv

// Pragma reads a PRAGMA on one of d's connections.
func Pragma(d *DB, name string) (string, error) {
	var v string
	err := d.db.QueryRow("PRAGMA " + name).Scan(&v)
	return v, err
}
