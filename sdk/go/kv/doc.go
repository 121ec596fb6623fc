// Package kv reads and writes Spin key-value stores from a Wisp (or Spin)
// component, through fermyon:spin/key-value@2.0.0.
//
// A component may open only the stores listed in its spin.toml
// (key_value_stores = ["default"]); Open fails with ErrAccessDenied for
// the others and ErrNoSuchStore for stores the host does not know.
//
//	store, err := kv.OpenDefault()
//	if err != nil { ... }
//	defer store.Close()
//	err = store.Set("greeting", []byte("hello"))
//	v, err := store.Get("greeting") // errors.Is(err, kv.ErrNotFound) when missing
//
// The package binds fermyon:spin/key-value@2.0.0 rather than
// spin:key-value/key-value@3.0.0 because every Spin 2 and 3 host serves
// it, its functions are synchronous (3.0.0's are async, and its get-keys
// returns a stream<string>, which a core module cannot receive without
// the component-model async ABI), and get-keys returns a plain list.
package kv
