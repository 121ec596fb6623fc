//go:build wasip1

package mqtt

import (
	"errors"
	"runtime"
	"time"
	"unsafe"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/mqtt@2.0.0 [static]connection.open
func connOpen(address, username, password string, keepAlive uint64, ret uint32)

//go:wasmimport fermyon:spin/mqtt@2.0.0 [method]connection.publish
func connPublish(self uint32, topic string, payload *byte, n uint32, qos uint32, ret uint32)

//go:wasmimport fermyon:spin/mqtt@2.0.0 [resource-drop]connection
func connDrop(self uint32)

var (
	// ErrInvalidAddress: the address is not a usable MQTT URL.
	ErrInvalidAddress = errors.New("mqtt: invalid address")
	// ErrTooManyConnections: the component has too many connections open.
	ErrTooManyConnections = errors.New("mqtt: too many connections")
	errClosed             = errors.New("mqtt: connection is closed")
)

// Conn is a connection to a broker.
type Conn struct{ h uint32 }

// Open connects to the broker at address.
func Open(address, username, password string, keepAlive time.Duration) (*Conn, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	connOpen(address, username, password, uint64(keepAlive/time.Second), ret)
	if cabi.U8(ret, 0) != 0 {
		return nil, readError(ret + 4)
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

// Publish sends payload to topic.
func (c *Conn) Publish(topic string, payload []byte, qos QoS) error {
	if c.h == 0 {
		return errClosed
	}
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(16, 4)
	// payload's array is passed by pointer, so it is on the heap, which
	// Go does not move; KeepAlive holds it for the call.
	connPublish(c.h, topic, unsafe.SliceData(payload), uint32(len(payload)), uint32(qos), ret)
	runtime.KeepAlive(payload)
	if cabi.U8(ret, 0) != 0 {
		return readError(ret + 4)
	}
	return nil
}

// readError reads the error variant at p.
func readError(p uint32) error {
	switch cabi.U8(p, 0) {
	case 0:
		return ErrInvalidAddress
	case 1:
		return ErrTooManyConnections
	case 2:
		return errors.New("mqtt: connection failed: " + cabi.String(cabi.U32(p, 4), cabi.U32(p, 8)))
	default:
		return errors.New("mqtt: " + cabi.String(cabi.U32(p, 4), cabi.U32(p, 8)))
	}
}
