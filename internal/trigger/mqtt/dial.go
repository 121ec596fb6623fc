package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"
)

// openWith is paho's connection opener for the schemes the trigger
// accepts, with every TCP connection made by dial: paho calls it for the
// first connection and for each reconnection.
func openWith(dial func(ctx context.Context, network, addr string) (net.Conn, error)) paho.OpenConnectionFunc {
	return func(uri *url.URL, o paho.ClientOptions) (net.Conn, error) {
		timeout := o.ConnectTimeout
		if timeout <= 0 {
			timeout = connectTimeout
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		switch uri.Scheme {
		case "mqtt", "tcp":
			// uri.Host as paho dials it: the address names its port.
			return dial(ctx, "tcp", uri.Host)
		case "mqtts", "ssl", "tls":
			c, err := dial(ctx, "tcp", uri.Host)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(c, tlsConfig(o.TLSConfig, uri.Hostname()))
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return tc, nil
		case "ws", "wss":
			u := *uri
			u.User = nil // the credentials go in CONNECT, not the URL
			d := &websocket.Dialer{
				NetDialContext:   dial,
				TLSClientConfig:  o.TLSConfig,
				HandshakeTimeout: timeout,
				Subprotocols:     []string{"mqtt"},
			}
			ws, resp, err := d.DialContext(ctx, u.String(), o.HTTPHeaders)
			if err != nil {
				if resp != nil {
					return nil, fmt.Errorf("websocket handshake: %s: %v", resp.Status, err)
				}
				return nil, err
			}
			return &wsConn{Conn: ws}, nil
		}
		return nil, fmt.Errorf("unsupported broker scheme %q", uri.Scheme)
	}
}

// tlsConfig is cfg (nil: defaults) naming serverName when it names no
// server, as tls.Dial does.
func tlsConfig(cfg *tls.Config, serverName string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName != "" {
		return cfg
	}
	c := cfg.Clone()
	c.ServerName = serverName
	return c
}

// wsConn is a WebSocket connection as the byte stream MQTT over WebSocket
// is: each write one binary message, reads running across messages.
type wsConn struct {
	*websocket.Conn
	rmu sync.Mutex
	r   io.Reader // the message being read; nil between messages
	wmu sync.Mutex
}

var _ net.Conn = (*wsConn)(nil)

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			_, r, err := c.NextReader()
			if err != nil {
				return 0, err
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue // an empty message: read the next
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}
