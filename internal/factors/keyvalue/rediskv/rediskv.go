// Package rediskv is the "redis" key-value backend: one Redis database per
// store, keys stored as is (as in Spin's key-value-redis), counters as
// Redis integers (INCRBY), compare-and-swap done by a Lua script.
package rediskv

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Store is a Redis-backed store. Safe for concurrent use.
type Store struct {
	client *redis.Client
	prefix string
}

// Open connects to the Redis server at url ("redis://host:port/db",
// "rediss://…") and checks that it answers. prefix is prepended to every
// key (Spin uses none; tests use one to stay apart).
func Open(ctx context.Context, url, prefix string) (*Store, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: %w", opts.Addr, err)
	}
	return &Store{client: c, prefix: prefix}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.client.Close() }

// Get returns the value of key; ok is false if there is none.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// Set stores value under key.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	return s.client.Set(ctx, s.prefix+key, value, 0).Err()
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.client.Del(ctx, s.prefix+key).Err()
}

// Exists reports whether key has a value.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	n, err := s.client.Exists(ctx, s.prefix+key).Result()
	return n > 0, err
}

// Keys returns every key (with the prefix, only those under it, prefix
// removed), in SCAN order.
func (s *Store) Keys(ctx context.Context) ([]string, error) {
	keys := []string{}
	it := s.client.Scan(ctx, 0, escapeGlob(s.prefix)+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val()[len(s.prefix):])
	}
	return keys, it.Err()
}

// Increment adds delta to the integer at key (0 if absent).
func (s *Store) Increment(ctx context.Context, key string, delta int64) (int64, error) {
	return s.client.IncrBy(ctx, s.prefix+key, delta).Result()
}

// casScript sets KEYS[1] to ARGV[3] if its value is ARGV[2] (ARGV[1] ==
// "1") or if it is absent (ARGV[1] == "0").
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
else
  if (not cur) or cur ~= ARGV[2] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[3])
return 1
`)

// CompareAndSwap sets key to value if its current value is still old
// (oldOK false: still absent), atomically.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old []byte, oldOK bool, value []byte) (bool, error) {
	flag := "0"
	if oldOK {
		flag = "1"
	}
	n, err := casScript.Run(ctx, s.client, []string{s.prefix + key}, flag, old, value).Int()
	return n == 1, err
}

func escapeGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
