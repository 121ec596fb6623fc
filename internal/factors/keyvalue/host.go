package keyvalue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// Interface names.
const (
	SpinV3      = "spin:key-value/key-value@3.0.0"
	FermyonV2   = "fermyon:spin/key-value@2.0.0"
	WASIStore   = "wasi:keyvalue/store@0.2.0-draft2"
	WASIAtomics = "wasi:keyvalue/atomics@0.2.0-draft2"
	WASIBatch   = "wasi:keyvalue/batch@0.2.0-draft2"
)

type ctxKey struct{}

// instance is one instance's view: what it may open, what it holds.
type instance struct {
	state  *AppState
	grants map[string]bool
	open   atomic.Int32
}

var errNotPrepared = errors.New("key-value: host function called without per-instance state (App.Prepare was not called)")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// handle is an open store: the host resource behind spin/fermyon
// store and wasi:keyvalue bucket.
type handle struct {
	in    *instance
	label string
	store Store
	// dropped guards against counting a handle twice.
	dropped atomic.Bool
}

// Drop releases the handle's slot in the instance's store table.
func (h *handle) Drop() {
	if !h.dropped.Swap(true) {
		h.in.open.Add(-1)
	}
}

// kvError is a failure the guest sees as an error variant.
type kvError struct {
	kind int // errTableFull, errNoSuchStore, errAccessDenied, errOther
	msg  string
}

const (
	errTableFull = iota
	errNoSuchStore
	errAccessDenied
	errOther
)

func other(format string, args ...any) *kvError {
	return &kvError{kind: errOther, msg: fmt.Sprintf(format, args...)}
}

func backendError(err error) *kvError { return &kvError{kind: errOther, msg: err.Error()} }

// spinError is the spin/fermyon error variant.
func (e *kvError) spinError() cabi.Variant {
	if e.kind == errOther {
		return cabi.Variant{Case: errOther, Value: e.msg}
	}
	return cabi.Variant{Case: uint32(e.kind)}
}

// wasiError is wasi:keyvalue's error variant: no-such-store,
// access-denied, other(string).
func (e *kvError) wasiError() cabi.Variant {
	switch e.kind {
	case errNoSuchStore:
		return cabi.Variant{Case: 0}
	case errAccessDenied:
		return cabi.Variant{Case: 1}
	case errTableFull:
		return cabi.Variant{Case: 2, Value: "too many open stores"}
	}
	return cabi.Variant{Case: 2, Value: e.msg}
}

func (in *instance) openStore(label string) (*handle, *kvError) {
	if !in.grants[label] {
		return nil, &kvError{kind: errAccessDenied}
	}
	st, ok := in.state.stores[label]
	if !ok {
		return nil, &kvError{kind: errNoSuchStore}
	}
	if n := in.open.Add(1); int(n) > in.state.limits.MaxOpenStores {
		in.open.Add(-1)
		return nil, &kvError{kind: errTableFull}
	}
	return &handle{in: in, label: label, store: st}, nil
}

func (in *instance) checkKey(key string) *kvError {
	if n := len(key); n > in.state.limits.MaxKeyBytes {
		return other("key is %d bytes, over the limit of %d bytes", n, in.state.limits.MaxKeyBytes)
	}
	return nil
}

func (in *instance) checkWrite(key string, value []byte) *kvError {
	if e := in.checkKey(key); e != nil {
		return e
	}
	if n := len(value); n > in.state.limits.MaxValueBytes {
		return other("value of key %q is %d bytes, over the limit of %d bytes", key, n, in.state.limits.MaxValueBytes)
	}
	return nil
}

// errMapper turns a *kvError into the interface's error variant.
type errMapper func(*kvError) cabi.Variant

func result(v any, e *kvError, m errMapper) []any {
	if e != nil {
		return []any{cabi.Err(m(e))}
	}
	return []any{cabi.Ok(v)}
}

var errBadArgs = errors.New("key-value: host function called with arguments of the wrong type")

// handleArg returns the store handle passed as args[0].
func handleArg(args []any) (*handle, error) {
	if len(args) == 0 {
		return nil, errBadArgs
	}
	h, ok := args[0].(*handle)
	if !ok || h == nil {
		return nil, errBadArgs
	}
	return h, nil
}

func strArg(args []any, i int) string {
	s, _ := args[i].(string)
	return s
}

func bytesArg(args []any, i int) []byte {
	b, _ := args[i].([]byte)
	return b
}

// Operations shared by every interface version.

func opOpen(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		in, err := from(ctx)
		if err != nil {
			return nil, err
		}
		h, e := in.openStore(strArg(args, 0))
		if e != nil {
			return []any{cabi.Err(m(e))}, nil
		}
		return []any{cabi.Ok(h)}, nil
	}
}

func opGet(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		h, err := handleArg(args)
		if err != nil {
			return nil, err
		}
		v, ok, err := h.store.Get(ctx, strArg(args, 1))
		if err != nil {
			return result(nil, backendError(err), m), nil
		}
		if !ok {
			return result(cabi.None, nil, m), nil
		}
		return result(cabi.Some(v), nil, m), nil
	}
}

func opSet(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		h, err := handleArg(args)
		if err != nil {
			return nil, err
		}
		key, value := strArg(args, 1), bytesArg(args, 2)
		if e := h.in.checkWrite(key, value); e != nil {
			return result(nil, e, m), nil
		}
		if err := h.store.Set(ctx, key, value); err != nil {
			return result(nil, backendError(err), m), nil
		}
		return result(nil, nil, m), nil
	}
}

func opDelete(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		h, err := handleArg(args)
		if err != nil {
			return nil, err
		}
		if err := h.store.Delete(ctx, strArg(args, 1)); err != nil {
			return result(nil, backendError(err), m), nil
		}
		return result(nil, nil, m), nil
	}
}

func opExists(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		h, err := handleArg(args)
		if err != nil {
			return nil, err
		}
		ok, err := h.store.Exists(ctx, strArg(args, 1))
		if err != nil {
			return result(nil, backendError(err), m), nil
		}
		return result(ok, nil, m), nil
	}
}

func opGetKeys(m errMapper) component.HostFunc {
	return func(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
		h, err := handleArg(args)
		if err != nil {
			return nil, err
		}
		keys, err := h.store.Keys(ctx)
		if err != nil {
			return result(nil, backendError(err), m), nil
		}
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return result(out, nil, m), nil
	}
}

// wasi:keyvalue/store list-keys: sorted pages with the last key as cursor.
func opListKeys(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	cursor := ""
	if o, ok := args[1].(cabi.Option); ok && o.Some {
		cursor, _ = o.Value.(string)
	}
	keys, err := h.store.Keys(ctx)
	if err != nil {
		return result(nil, backendError(err), m), nil
	}
	page, next := listPage(keys, cursor, h.in.state.limits.ListPageSize)
	out := make([]any, len(page))
	for i, k := range page {
		out[i] = k
	}
	c := cabi.None
	if next != "" {
		c = cabi.Some(next)
	}
	return result([]any{out, c}, nil, m), nil
}

// cas is wasi:keyvalue/atomics' cas resource: a key and the value last
// read, which swap expects to still be there.
type cas struct {
	h    *handle
	key  string
	old  []byte
	oldK bool
}

func (c *cas) read(ctx context.Context) *kvError {
	v, ok, err := c.h.store.Get(ctx, c.key)
	if err != nil {
		return backendError(err)
	}
	c.old, c.oldK = v, ok
	return nil
}

func casNew(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	c := &cas{h: h, key: strArg(args, 1)}
	if e := h.in.checkKey(c.key); e != nil {
		return result(nil, e, m), nil
	}
	if e := c.read(ctx); e != nil {
		return result(nil, e, m), nil
	}
	return result(c, nil, m), nil
}

// casCurrent re-reads the value (as Spin does): swap then expects it.
func casCurrent(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, ok := args[0].(*cas)
	if !ok {
		return nil, errBadArgs
	}
	m := (*kvError).wasiError
	if e := c.read(ctx); e != nil {
		return result(nil, e, m), nil
	}
	if !c.oldK {
		return result(cabi.None, nil, m), nil
	}
	return result(cabi.Some(c.old), nil, m), nil
}

// swap's cas-error cases.
const (
	casStoreError = iota
	casFailed
)

func casSwap(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, ok := args[0].(*cas)
	if !ok {
		return nil, errBadArgs
	}
	value := bytesArg(args, 1)
	storeErr := func(e *kvError) []any {
		return []any{cabi.Err(cabi.Variant{Case: casStoreError, Value: e.wasiError()})}
	}
	if e := c.h.in.checkWrite(c.key, value); e != nil {
		return storeErr(e), nil
	}
	swapped, err := c.h.store.CompareAndSwap(ctx, c.key, c.old, c.oldK, value)
	if err != nil {
		return storeErr(backendError(err)), nil
	}
	if !swapped {
		// The guest gets the cas back; current() re-reads before a retry.
		return []any{cabi.Err(cabi.Variant{Case: casFailed, Value: c})}, nil
	}
	return []any{cabi.Ok(nil)}, nil
}

func increment(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	key := strArg(args, 1)
	delta, _ := args[2].(int64)
	if e := h.in.checkKey(key); e != nil {
		return result(nil, e, m), nil
	}
	n, err := h.store.Increment(ctx, key, delta)
	if err != nil {
		return result(nil, backendError(err), m), nil
	}
	return result(n, nil, m), nil
}

func getMany(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	keys, _ := args[1].([]any)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		key, _ := k.(string)
		v, ok, err := h.store.Get(ctx, key)
		if err != nil {
			return result(nil, backendError(err), m), nil
		}
		o := cabi.None
		if ok {
			o = cabi.Some(v)
		}
		out = append(out, []any{key, o})
	}
	return result(out, nil, m), nil
}

func setMany(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	kvs, _ := args[1].([]any)
	pairs := make([][]any, len(kvs))
	for i, kv := range kvs {
		p, _ := kv.([]any)
		if len(p) != 2 {
			return nil, errBadArgs
		}
		pairs[i] = p
		key, _ := p[0].(string)
		value, _ := p[1].([]byte)
		if e := h.in.checkWrite(key, value); e != nil { // check all before writing any
			return result(nil, e, m), nil
		}
	}
	for _, p := range pairs {
		key, _ := p[0].(string)
		value, _ := p[1].([]byte)
		if err := h.store.Set(ctx, key, value); err != nil {
			return result(nil, backendError(err), m), nil
		}
	}
	return result(nil, nil, m), nil
}

func deleteMany(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	h, err := handleArg(args)
	if err != nil {
		return nil, err
	}
	m := (*kvError).wasiError
	keys, _ := args[1].([]any)
	for _, k := range keys {
		key, _ := k.(string)
		if err := h.store.Delete(ctx, key); err != nil {
			return result(nil, backendError(err), m), nil
		}
	}
	return result(nil, nil, m), nil
}

// Interfaces implements spin:key-value@3.0.0 (its async functions served
// synchronously; get-keys uses stream<> and is left out, see
// wit.Interface.Unsupported), fermyon:spin/key-value@2.0.0 and
// wasi:keyvalue@0.2.0-draft2 store, atomics and batch.
func (*Factor) Interfaces() []component.Interface {
	spin := (*kvError).spinError
	wasi := (*kvError).wasiError
	spinFuncs := func() map[string]component.HostFunc {
		return map[string]component.HostFunc{
			"[static]store.open":   opOpen(spin),
			"[method]store.get":    opGet(spin),
			"[method]store.set":    opSet(spin),
			"[method]store.delete": opDelete(spin),
			"[method]store.exists": opExists(spin),
		}
	}
	v2 := spinFuncs()
	v2["[method]store.get-keys"] = opGetKeys(spin)
	return []component.Interface{
		{Name: SpinV3, Funcs: spinFuncs()},
		{Name: FermyonV2, Funcs: v2},
		{Name: WASIStore, Funcs: map[string]component.HostFunc{
			"open":                     opOpen(wasi),
			"[method]bucket.get":       opGet(wasi),
			"[method]bucket.set":       opSet(wasi),
			"[method]bucket.delete":    opDelete(wasi),
			"[method]bucket.exists":    opExists(wasi),
			"[method]bucket.list-keys": opListKeys,
		}},
		{Name: WASIAtomics, Funcs: map[string]component.HostFunc{
			"increment":           increment,
			"[static]cas.new":     casNew,
			"[method]cas.current": casCurrent,
			"swap":                casSwap,
		}},
		{Name: WASIBatch, Funcs: map[string]component.HostFunc{
			"get-many":    getMany,
			"set-many":    setMany,
			"delete-many": deleteMany,
		}},
	}
}
