// A Redis trigger handler in standard Go, with the Wisp Go SDK: each
// message published on the channel is counted in Redis and, if it is a
// "ping", answered with a "pong" on the reply channel.
//
//	wisp up --build -f examples/redis-go
//	redis-cli publish messages ping
package main

import (
	"fmt"
	"log"

	"github.com/wisp-dev/wisp/sdk/go/redis"
	"github.com/wisp-dev/wisp/sdk/go/redistrigger"
	"github.com/wisp-dev/wisp/sdk/go/variables"
)

func init() {
	redistrigger.Handle(func(payload []byte) error {
		addr, err := variables.Get("redis_address")
		if err != nil {
			return err
		}
		conn, err := redis.Open(addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		n, err := conn.Incr("redis-go:count")
		if err != nil {
			return err
		}
		log.Printf("message %d: %q", n, payload)
		if string(payload) == "ping" {
			channel, err := variables.Get("reply_channel")
			if err != nil {
				return err
			}
			return conn.Publish(channel, fmt.Appendf(nil, "pong %d", n))
		}
		if string(payload) == "fail" {
			return fmt.Errorf("asked to fail")
		}
		return nil
	})
}

func main() {}
