// Package variables reads the component's Spin application variables
// ([variables] and [component.<id>.variables] in spin.toml) through
// fermyon:spin/variables@2.0.0, which every Spin 2 and 3 host serves.
//
//	greeting, err := variables.Get("greeting")
package variables
