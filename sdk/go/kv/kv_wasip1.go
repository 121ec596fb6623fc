//go:build wasip1

package kv

import (
	"errors"
	"runtime"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/key-value@2.0.0 [static]store.open
func storeOpen(label string, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.get
func storeGet(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.set
func storeSet(self uint32, key string, value *byte, n uint32, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.delete
func storeDelete(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.exists
func storeExists(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.get-keys
func storeGetKeys(self uint32, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [resource-drop]store
func storeDrop(self uint32)

var (
	// ErrNotFound is returned by Get for a key the store does not hold.
	ErrNotFound = errors.New("kv: key not found")
	// ErrStoreTableFull: the component has too many stores open.
	ErrStoreTableFull = errors.New("kv: too many stores open")
	// ErrNoSuchStore: the host has no store with that label.
	ErrNoSuchStore = errors.New("kv: no such store")
	// ErrAccessDenied: the component may not open the store.
	ErrAccessDenied = errors.New("kv: access denied")
	errClosed       = errors.New("kv: store is closed")
)

// Store is an open key-value store.
type Store struct{ h uint32 }

// Open opens the store with the given label.
func Open(label string) (*Store, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	storeOpen(label, ret)
	if err := result(ret); err != nil {
		return nil, err
	}
	return &Store{h: cabi.U32(ret, 4)}, nil
}

// OpenDefault opens the store labelled "default".
func OpenDefault() (*Store, error) { return Open("default") }

// Close releases the store; it may not be used after.
func (s *Store) Close() error {
	if s.h != 0 {
		storeDrop(s.h)
		s.h = 0
	}
	return nil
}

// Get returns the value of key, or an error wrapping ErrNotFound.
func (s *Store) Get(key string) ([]byte, error) {
	if s.h == 0 {
		return nil, errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	storeGet(s.h, key, ret) // result<option<list<u8>>, error>
	if err := result(ret); err != nil {
		return nil, err
	}
	if cabi.U8(ret, 4) == 0 {
		return nil, ErrNotFound
	}
	return cabi.CopyBytes(cabi.U32(ret, 8), cabi.U32(ret, 12)), nil
}

// Set stores value under key.
func (s *Store) Set(key string, value []byte) error {
	if s.h == 0 {
		return errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	// value's array is passed by pointer, so it is on the heap, which Go
	// does not move; KeepAlive holds it for the call.
	storeSet(s.h, key, unsafe.SliceData(value), uint32(len(value)), ret)
	runtime.KeepAlive(value)
	return result(ret)
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	if s.h == 0 {
		return errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	storeDelete(s.h, key, ret)
	return result(ret)
}

// Exists reports whether the store holds key.
func (s *Store) Exists(key string) (bool, error) {
	if s.h == 0 {
		return false, errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	storeExists(s.h, key, ret) // result<bool, error>
	if err := result(ret); err != nil {
		return false, err
	}
	return cabi.U8(ret, 4) != 0, nil
}

// Keys returns every key of the store.
func (s *Store) Keys() ([]string, error) {
	if s.h == 0 {
		return nil, errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	storeGetKeys(s.h, ret) // result<list<string>, error>
	if err := result(ret); err != nil {
		return nil, err
	}
	return cabi.Strings(cabi.U32(ret, 4), cabi.U32(ret, 8)), nil
}

// result reads a result<_, error> at ret: nil for ok, the error variant
// (at ret+4) otherwise.
func result(ret uint32) error {
	if cabi.U8(ret, 0) == 0 {
		return nil
	}
	switch cabi.U8(ret, 4) {
	case 0:
		return ErrStoreTableFull
	case 1:
		return ErrNoSuchStore
	case 2:
		return ErrAccessDenied
	default:
		return errors.New("kv: " + cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12)))
	}
}
