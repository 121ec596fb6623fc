// Package sqlite runs SQL on the SQLite databases the host provides,
// through fermyon:spin/sqlite@2.0.0. The component may open only the
// databases its spin.toml lists (sqlite_databases = ["default"]).
//
//	db, err := sqlite.OpenDefault()
//	defer db.Close()
//	res, err := db.Execute("SELECT id, name FROM users WHERE id > ?", 10)
//	for _, row := range res.Rows {
//		id, name := row[0].(int64), row[1].(string)
//	}
//
// Parameters may be any Go integer (bool is 0 or 1), float32 or float64,
// string, []byte or nil. Result values are int64, float64, string, []byte
// or nil, SQLite's storage classes.
package sqlite

// Result is a statement's result.
type Result struct {
	Columns []string
	Rows    [][]any
}
