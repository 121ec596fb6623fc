//go:build wasip1

package redis

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/redis@2.0.0 [static]connection.open
func connOpen(address string, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.publish
func connPublish(self uint32, channel string, payload *byte, n uint32, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.get
func connGet(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.set
func connSet(self uint32, key string, value *byte, n uint32, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.incr
func connIncr(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.del
func connDel(self uint32, keys, n, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.sadd
func connSadd(self uint32, key string, values, n, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.smembers
func connSmembers(self uint32, key string, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.srem
func connSrem(self uint32, key string, values, n, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.execute
func connExecute(self uint32, command string, args, n, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [resource-drop]connection
func connDrop(self uint32)

var (
	// ErrInvalidAddress: the address is not a usable Redis URL.
	ErrInvalidAddress = errors.New("redis: invalid address")
	// ErrTooManyConnections: the component has too many connections open.
	ErrTooManyConnections = errors.New("redis: too many connections")
	// ErrType: a value has the wrong type for the command.
	ErrType   = errors.New("redis: type error")
	errClosed = errors.New("redis: connection is closed")
)

// Conn is a connection to a Redis server.
type Conn struct{ h uint32 }

// Open connects to the server at address.
func Open(address string) (*Conn, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	connOpen(address, ret)
	if err := result(ret, 4); err != nil {
		return nil, err
	}
	return &Conn{h: cabi.U32(ret, 4)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	if c.h != 0 {
		connDrop(c.h)
		c.h = 0
	}
	return nil
}

// call runs f with a 24-byte return area (8-aligned) when the connection
// is open; payload is the offset of the result's payload.
func (c *Conn) call(f func(ret uint32) error) error {
	if c.h == 0 {
		return errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	return f(cabi.Alloc(24, 8))
}

// Publish sends payload on channel.
func (c *Conn) Publish(channel string, payload []byte) error {
	return c.call(func(ret uint32) error {
		connPublish(c.h, channel, unsafe.SliceData(payload), uint32(len(payload)), ret)
		runtime.KeepAlive(payload)
		return result(ret, 4)
	})
}

// Get returns the value of key, nil if it does not exist.
func (c *Conn) Get(key string) ([]byte, error) {
	var v []byte
	err := c.call(func(ret uint32) error {
		connGet(c.h, key, ret) // result<option<list<u8>>, error>
		if err := result(ret, 4); err != nil {
			return err
		}
		if cabi.U8(ret, 4) == 1 {
			v = cabi.CopyBytes(cabi.U32(ret, 8), cabi.U32(ret, 12))
		}
		return nil
	})
	return v, err
}

// Set sets key to value.
func (c *Conn) Set(key string, value []byte) error {
	return c.call(func(ret uint32) error {
		connSet(c.h, key, unsafe.SliceData(value), uint32(len(value)), ret)
		runtime.KeepAlive(value)
		return result(ret, 4)
	})
}

// Incr increments the integer at key and returns the new value.
func (c *Conn) Incr(key string) (int64, error) {
	var v int64
	err := c.call(func(ret uint32) error {
		connIncr(c.h, key, ret) // result<s64, error>: payload at 8
		if err := result(ret, 8); err != nil {
			return err
		}
		v = int64(cabi.U64(ret, 8))
		return nil
	})
	return v, err
}

// Del deletes keys and returns how many existed.
func (c *Conn) Del(keys ...string) (uint32, error) {
	return c.count(func(ret uint32) {
		p, n := putStrings(keys)
		connDel(c.h, p, n, ret)
	})
}

// Sadd adds values to the set at key and returns how many were new.
func (c *Conn) Sadd(key string, values ...string) (uint32, error) {
	return c.count(func(ret uint32) {
		p, n := putStrings(values)
		connSadd(c.h, key, p, n, ret)
	})
}

// Srem removes values from the set at key and returns how many were there.
func (c *Conn) Srem(key string, values ...string) (uint32, error) {
	return c.count(func(ret uint32) {
		p, n := putStrings(values)
		connSrem(c.h, key, p, n, ret)
	})
}

func (c *Conn) count(f func(ret uint32)) (uint32, error) {
	var v uint32
	err := c.call(func(ret uint32) error {
		f(ret) // result<u32, error>
		if err := result(ret, 4); err != nil {
			return err
		}
		v = cabi.U32(ret, 4)
		return nil
	})
	return v, err
}

// Smembers returns the members of the set at key.
func (c *Conn) Smembers(key string) ([]string, error) {
	var v []string
	err := c.call(func(ret uint32) error {
		connSmembers(c.h, key, ret) // result<list<string>, error>
		if err := result(ret, 4); err != nil {
			return err
		}
		v = cabi.Strings(cabi.U32(ret, 4), cabi.U32(ret, 8))
		return nil
	})
	return v, err
}

// Execute runs any command. Arguments are Go integers (sent as int64),
// strings or []byte (sent as binary). The reply's values are nil, Status,
// int64 or []byte.
func (c *Conn) Execute(command string, args ...any) ([]Result, error) {
	var out []Result
	err := c.call(func(ret uint32) error {
		var list uint32
		if len(args) > 0 {
			list = cabi.Alloc(uint32(16*len(args)), 8)
			for i, a := range args {
				if err := putParam(list+uint32(16*i), a); err != nil {
					return fmt.Errorf("redis: argument %d: %w", i+1, err)
				}
			}
		}
		connExecute(c.h, command, list, uint32(len(args)), ret) // result<list<redis-result>, error>
		if err := result(ret, 4); err != nil {
			return err
		}
		p, n := cabi.U32(ret, 4), cabi.U32(ret, 8)
		out = make([]Result, n)
		for i := range n {
			e := p + 16*i
			switch cabi.U8(e, 0) {
			case 1:
				out[i] = Status(cabi.String(cabi.U32(e, 8), cabi.U32(e, 12)))
			case 2:
				out[i] = int64(cabi.U64(e, 8))
			case 3:
				out[i] = cabi.CopyBytes(cabi.U32(e, 8), cabi.U32(e, 12))
			}
		}
		return nil
	})
	return out, err
}

// putParam writes a redis-parameter (case at 0, payload at 8).
func putParam(e uint32, v any) error {
	var i int64
	switch v := v.(type) {
	case int:
		i = int64(v)
	case int8:
		i = int64(v)
	case int16:
		i = int64(v)
	case int32:
		i = int64(v)
	case int64:
		i = v
	case uint8:
		i = int64(v)
	case uint16:
		i = int64(v)
	case uint32:
		i = int64(v)
	case string:
		p, n := cabi.PutString(v)
		cabi.PutU8(e, 0, 1)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
		return nil
	case []byte:
		p, n := cabi.PutBytes(v)
		cabi.PutU8(e, 0, 1)
		cabi.PutU32(e, 8, p)
		cabi.PutU32(e, 12, n)
		return nil
	default:
		return fmt.Errorf("unsupported type %T (use an integer, string or []byte; format others with strconv)", v)
	}
	cabi.PutU8(e, 0, 0)
	cabi.PutU64(e, 8, uint64(i))
	return nil
}

// putStrings lays out a list<string>.
func putStrings(ss []string) (uint32, uint32) {
	if len(ss) == 0 {
		return 0, 0
	}
	list := cabi.Alloc(uint32(8*len(ss)), 4)
	for i, s := range ss {
		p, n := cabi.PutString(s)
		cabi.PutU32(list, uint32(8*i), p)
		cabi.PutU32(list, uint32(8*i+4), n)
	}
	return list, uint32(len(ss))
}

// result reads result<T, error> at ret whose payload is at off: nil for
// ok, the error otherwise.
func result(ret, off uint32) error {
	if cabi.U8(ret, 0) == 0 {
		return nil
	}
	switch cabi.U8(ret, off) {
	case 0:
		return ErrInvalidAddress
	case 1:
		return ErrTooManyConnections
	case 2:
		return ErrType
	default:
		return errors.New("redis: " + cabi.String(cabi.U32(ret, off+4), cabi.U32(ret, off+8)))
	}
}
