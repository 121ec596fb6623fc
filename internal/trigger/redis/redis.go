// Package redis is the Redis trigger: it subscribes to the channels of an
// app's [[trigger.redis]] entries and calls each message's component, in a
// fresh instance, through the export its SDK makes:
// fermyon:spin/inbound-redis#handle-message (Spin 2 SDKs) or
// spin:redis/inbound-redis@3.0.0#handle-message (Spin 3 SDKs).
//
// Configuration, as in Spin: `channel` and `component` per trigger, the
// server from the trigger's `address` or else [application.trigger.redis]
// address, both resolved as {{ variable }} templates. Triggers sharing a
// server share one connection. Wisp adds one key, `concurrency` (Spin has
// none, and rejects a manifest that uses it): how many messages of the
// channel the component handles at once. The default, 1, handles them one
// at a time in the order Redis delivered them; with more, order is not
// kept.
//
// Delivery guarantees are those of Redis pub/sub, which stores nothing:
// each message published while the trigger is subscribed is handled once
// per subscribed component; a message published while the connection is
// down (a Redis restart, a network failure) is lost, because Redis does
// not keep it for absent subscribers. The trigger reconnects with backoff
// (up to maxBackoff between attempts) and resubscribes; it never stops on
// its own once started. A guest that returns an error, traps or runs out
// of time is logged to the component's log and counted; the message is
// not retried. A subscriber too slow for its publishers is eventually
// disconnected by Redis (client-output-buffer-limit pubsub) and loses what
// was buffered.
//
// Spin connects with the host's privileges: the trigger's connection is
// not subject to the component's allowed_outbound_hosts. The embedder may
// still confine it with Options.Dial, which opens every connection, the
// first and each reconnection (wisp server passes the tenant's outbound
// policy there, so the address is checked each time the name is
// resolved, not only once).
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/trigger"
)

// Type is the trigger type in the manifest.
const Type = "redis"

// Exports are the guest exports the trigger calls, newest first.
var Exports = []trigger.Export{
	trigger.InterfaceFunc("spin:redis/inbound-redis@3.0.0", "handle-message"),
	trigger.InterfaceFunc("fermyon:spin/inbound-redis", "handle-message"),
}

const (
	// connectTimeout bounds the first connection: a server that cannot
	// be reached at startup is a configuration error.
	connectTimeout = 10 * time.Second
	// minBackoff and maxBackoff bound the wait between reconnection
	// attempts, doubling from one to the other.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// idleCheck is how long a quiet connection waits before it pings the
	// server, so a server that vanished without closing is noticed.
	idleCheck = 30 * time.Second
	// queuePerWorker is how many received messages wait per worker before
	// the subscriber stops reading and lets Redis buffer them.
	queuePerWorker = 64
)

// Options tunes the trigger.
type Options struct {
	// Logger receives the trigger's own messages; nil discards them.
	Logger *slog.Logger
	// Invoke is how components are called (timeout, extra context).
	Invoke trigger.Options
	// Resolve renders {{ variable }} templates in address and channel.
	Resolve trigger.Resolver
	// Dial, if set, opens every connection to a server, the first and
	// each reconnection, to "host:port" of the address; the trigger bounds
	// it with its dial timeout and runs TLS (rediss://) over the
	// connection it returns. nil: a plain TCP dial.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Trigger is the Redis trigger of one app.
type Trigger struct {
	subs       []*subscriber
	log        *slog.Logger
	stats      trigger.Stats
	subscribed atomic.Int32
}

var _ trigger.Trigger = (*Trigger)(nil)

// subscriber is one connection to one server, subscribed to the channels
// of every trigger that uses that server.
type subscriber struct {
	opts     *goredis.Options
	display  string // host:port, never the password
	channels map[string][]*handler
	// counted is set once the subscriber's triggers count as subscribed.
	counted atomic.Bool
}

// handler is one [[trigger.redis]]: a channel's messages for a component.
type handler struct {
	triggerID   string
	channel     string
	inv         *trigger.Invoker
	concurrency int
	queue       chan []byte
}

// New prepares the Redis triggers of app; it fails if a trigger's address,
// channel or component is unusable. It connects to nothing yet: Run does.
func New(ctx context.Context, app *executor.App, opts Options) (*Trigger, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Trigger{log: log}
	defaultAddr, _ := app.Locked.Metadata.TriggerConfig[Type]["address"].(string)
	byAddr := map[string]*subscriber{}
	for _, lt := range app.Locked.Triggers {
		if lt.Type != Type {
			continue
		}
		h, addr, err := newHandler(ctx, app, lt.ID, lt.Component, lt.Config, defaultAddr, opts)
		if err != nil {
			return nil, fmt.Errorf("redis trigger %q: %w", lt.ID, err)
		}
		sub := byAddr[addr]
		if sub == nil {
			ropts, err := goredis.ParseURL(addr)
			if err != nil {
				// The address may hold a password: name the trigger, not the address.
				return nil, fmt.Errorf("redis trigger %q: address is not a redis:// or rediss:// URL: %v", lt.ID, redact(err, addr))
			}
			ropts.DialTimeout = 5 * time.Second
			if opts.Dial != nil {
				ropts.Dialer = dialer(opts.Dial, ropts.DialTimeout, ropts.TLSConfig)
			}
			sub = &subscriber{opts: ropts, display: ropts.Addr, channels: map[string][]*handler{}}
			byAddr[addr] = sub
			t.subs = append(t.subs, sub)
		}
		sub.channels[h.channel] = append(sub.channels[h.channel], h)
	}
	return t, nil
}

func newHandler(ctx context.Context, app *executor.App, id, componentID string, cfg map[string]any, defaultAddr string, opts Options) (*handler, string, error) {
	c := app.Component(componentID)
	if c == nil {
		return nil, "", fmt.Errorf("component %q is not loaded", componentID)
	}
	channel, err := trigger.String(cfg, "channel")
	if err != nil {
		return nil, "", err
	}
	addr, err := trigger.String(cfg, "address")
	if err != nil {
		return nil, "", err
	}
	if addr == "" {
		addr = defaultAddr
	}
	if addr == "" {
		return nil, "", errors.New("no address: set address in the trigger or in [application.trigger.redis]")
	}
	concurrency, err := trigger.Int(cfg, "concurrency", 1)
	if err != nil {
		return nil, "", err
	}
	if concurrency < 1 {
		return nil, "", fmt.Errorf("concurrency must be at least 1, not %d", concurrency)
	}
	if addr, err = trigger.Resolve(ctx, opts.Resolve, componentID, "address", addr); err != nil {
		return nil, "", err
	}
	if channel, err = trigger.Resolve(ctx, opts.Resolve, componentID, "channel", channel); err != nil {
		return nil, "", err
	}
	if channel == "" {
		return nil, "", errors.New("channel is empty")
	}
	inv, err := trigger.NewInvoker(c, opts.Invoke, Exports...)
	if err != nil {
		return nil, "", err
	}
	return &handler{triggerID: id, channel: channel, inv: inv, concurrency: concurrency}, addr, nil
}

// dialer makes go-redis open its connections with dial, bounded by
// timeout, and with TLS when tlsConfig is set (what go-redis's own dialer
// does, and skips when given another).
func dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), timeout time.Duration, tlsConfig *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := dial(ctx, network, addr)
		if err != nil || tlsConfig == nil {
			return c, err
		}
		tc := tls.Client(c, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
}

// redact removes a URL's text from an error message.
func redact(err error, url string) string {
	if url == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), url, "<address>")
}

// Stats returns the trigger's counters.
func (t *Trigger) Stats() *trigger.Stats { return &t.stats }

// Subscribed returns how many of the app's Redis triggers Run has
// subscribed so far: Redis has confirmed every channel of their server's
// connection, so a message published from then on reaches them.
func (t *Trigger) Subscribed() int { return int(t.subscribed.Load()) }

// Run connects to every server (failing if one cannot be reached within
// connectTimeout), then handles messages until ctx is cancelled. Calls in
// flight finish (within their timeout); messages still queued are dropped.
func (t *Trigger) Run(ctx context.Context) error {
	clients := make([]*goredis.Client, len(t.subs))
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for i, s := range t.subs {
		clients[i] = goredis.NewClient(s.opts)
		pctx, cancel := context.WithTimeout(ctx, connectTimeout)
		err := clients[i].Ping(pctx).Err()
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("redis trigger: cannot connect to %s: %v", s.display, err)
		}
	}
	var wg sync.WaitGroup
	for i, s := range t.subs {
		for _, hs := range s.channels {
			for _, h := range hs {
				h.queue = make(chan []byte, queuePerWorker*h.concurrency)
				for range h.concurrency {
					wg.Go(func() { t.work(ctx, h) })
				}
			}
		}
		wg.Go(func() { t.listen(ctx, clients[i], s) })
	}
	wg.Wait()
	return nil
}

func (s *subscriber) channelList() []string {
	out := make([]string, 0, len(s.channels))
	for ch := range s.channels {
		out = append(out, ch)
	}
	sort.Strings(out)
	return out
}

// triggers returns how many [[trigger.redis]] entries s serves.
func (s *subscriber) triggers() int {
	n := 0
	for _, hs := range s.channels {
		n += len(hs)
	}
	return n
}

// listen reads messages of s's channels and queues them for their
// handlers, reconnecting whenever the connection fails.
func (t *Trigger) listen(ctx context.Context, client *goredis.Client, s *subscriber) {
	ps := client.Subscribe(ctx, s.channelList()...)
	// Receive blocks in a read that ctx does not interrupt: closing the
	// subscription does.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	defer ps.Close()

	backoff := minBackoff
	down := false
	confirmed := 0
	for {
		msg, err := ps.ReceiveTimeout(ctx, idleCheck)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !down {
				// Quiet, not necessarily dead: a ping tells. Its reply
				// (or the failure to send it) is the next Receive.
				if err := ps.Ping(ctx); err == nil {
					continue
				}
			}
			if !down {
				t.log.Warn("Redis trigger lost its connection; reconnecting", "server", s.display, "error", err)
				down = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			// Messages published from now on reach the trigger.
			if confirmed++; confirmed == len(s.channels) {
				t.log.Info("Redis trigger subscribed", "server", s.display, "channels", s.channelList())
				if !s.counted.Swap(true) {
					t.subscribed.Add(int32(s.triggers()))
				}
			}
			if down {
				t.log.Info("Redis trigger reconnected and resubscribed", "server", s.display, "channel", m.Channel)
				down = false
			}
			backoff = minBackoff
		case *goredis.Message:
			backoff = minBackoff
			payload := []byte(m.Payload)
			for _, h := range s.channels[m.Channel] {
				select {
				case h.queue <- payload:
				case <-ctx.Done():
					return
				}
			}
		}
	}
}

// work handles h's queued messages until ctx is cancelled.
func (t *Trigger) work(ctx context.Context, h *handler) {
	for {
		select {
		case <-ctx.Done():
			return
		case payload := <-h.queue:
			if ctx.Err() != nil {
				return
			}
			// A call that started finishes (within its timeout) even if
			// the trigger is stopped meanwhile.
			t.handle(context.WithoutCancel(ctx), h, payload)
		}
	}
}

func (t *Trigger) handle(ctx context.Context, h *handler, payload []byte) {
	err := h.inv.Call(ctx, payload)
	t.stats.Record(err)
	if err != nil {
		h.inv.Component().Logf("redis trigger %q: message on channel %q: %s", h.triggerID, h.channel, trigger.DescribeError(err))
		t.log.Debug("Redis message failed", "trigger", h.triggerID, "channel", h.channel, "error", err)
		return
	}
	t.log.Debug("Redis message handled", "trigger", h.triggerID, "channel", h.channel, "bytes", len(payload))
}
