// Package redis talks to Redis from a Wisp (or Spin) component through
// fermyon:spin/redis@2.0.0. The address ("redis://host:6379") must be
// allowed by the component's allowed_outbound_hosts. To handle the
// messages of a Redis trigger, see package redistrigger.
//
//	conn, err := redis.Open("redis://127.0.0.1:6379")
//	err = conn.Set("k", []byte("v"))
//	v, err := conn.Get("k") // nil, nil when the key does not exist
//	res, err := conn.Execute("HSET", "h", "field", 42)
package redis

// Result is one value of Execute's reply: nil (Redis nil), Status, int64
// or []byte.
type Result = any

// Status is a Redis status reply ("OK").
type Status string
