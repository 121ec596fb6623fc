// An MQTT trigger handler in standard Go, with the Wisp Go SDK: each
// message published on a topic matching the trigger's filter is appended
// to a Redis list named after its topic (<key_prefix>:<topic>). The
// payload "fail" makes the handler return an error, "panic" makes it
// panic: the host logs both, and the message is not redelivered.
//
//	wisp up --build -f examples/mqtt-go
//	mosquitto_pub -t sensors/kitchen -m 21.5
//	redis-cli lrange mqtt-go:sensors/kitchen 0 -1
package main

import (
	"errors"
	"log"

	"github.com/wisp-dev/wisp/sdk/go/mqtttrigger"
	"github.com/wisp-dev/wisp/sdk/go/redis"
	"github.com/wisp-dev/wisp/sdk/go/variables"
)

func init() {
	mqtttrigger.Handle(func(payload []byte, topic string) error {
		switch string(payload) {
		case "fail":
			return errors.New("asked to fail")
		case "panic":
			panic("asked to panic")
		}
		addr, err := variables.Get("redis_address")
		if err != nil {
			return err
		}
		prefix, err := variables.Get("key_prefix")
		if err != nil {
			return err
		}
		conn, err := redis.Open(addr)
		if err != nil {
			return err
		}
		defer conn.Close()
		res, err := conn.Execute("RPUSH", prefix+":"+topic, payload)
		if err != nil {
			return err
		}
		log.Printf("%s: %q (%d stored)", topic, payload, res[0])
		return nil
	})
}

func main() {}
