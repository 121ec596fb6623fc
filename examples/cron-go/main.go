// A cron trigger handler in standard Go, with the Wisp Go SDK: every tick
// of the schedule (every ten seconds) appends the tick's Unix time to the
// Redis list <key_prefix>:ticks.
//
//	wisp up --build -f examples/cron-go
//	redis-cli lrange cron-go:ticks 0 -1
package main

import (
	"log"
	"time"

	"github.com/wisp-dev/wisp/sdk/go/crontrigger"
	"github.com/wisp-dev/wisp/sdk/go/redis"
	"github.com/wisp-dev/wisp/sdk/go/variables"
)

func init() {
	crontrigger.Handle(func(tick time.Time) error {
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
		res, err := conn.Execute("RPUSH", prefix+":ticks", tick.Unix())
		if err != nil {
			return err
		}
		log.Printf("tick %s (run %d)", tick.Format(time.RFC3339), res[0])
		return nil
	})
}

func main() {}
