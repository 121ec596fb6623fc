// Package mqtt is the MQTT trigger, in the shape of the spin-trigger-mqtt
// plugin: it subscribes to the topic of each [[trigger.mqtt]] and calls the
// trigger's component, in a fresh instance, through the world-level export
// the plugin's SDK makes:
//
//	handle-message: func(message: payload, metadata: metadata) -> result<_, error>
//
// (spin:mqtt-trigger@3.0.0, world spin-mqtt; metadata is record { topic },
// the topic the message was published on; error is variant { other(string) }).
//
// Configuration, as in the plugin: the broker in [application.trigger.mqtt]
// (address such as "mqtt://localhost:1883", username, password,
// keep_alive_interval in seconds, default 30), and per trigger `component`,
// `topic` (a topic filter; wildcards allowed) and `qos` ("0", "1" or "2",
// default 0). address, username, password and topic are {{ variable }}
// templates. Each trigger has its own connection and handles its messages
// one at a time, in the order the broker delivered them.
//
// Delivery guarantees. The subscription's QoS is the most the broker uses
// to send a message to the trigger (a message published with a lower QoS
// keeps it). QoS 0: at most once. QoS 1 and 2: the trigger acknowledges a
// message only after the guest has returned, so while the connection
// holds, each message is handled once (QoS 2) or at least once (QoS 1, the
// broker may resend an unacknowledged message). Sessions are clean, as in
// the plugin: messages published while the trigger is disconnected (a
// broker restart, a network failure) are not kept for it and are lost, and
// a message being handled when the connection drops is not redelivered.
// The trigger reconnects with backoff (paho's, up to 10s) and resubscribes.
// A guest that returns an error, traps or runs out of time is logged and
// counted; its message counts as handled (acknowledged), not retried.
//
// As in Spin, the trigger's connection is the host's, not the component's:
// allowed_outbound_hosts does not apply to it. The embedder may still
// confine it with Options.Dial, which opens every connection, the first
// and each reconnection (wisp server passes the tenant's outbound policy
// there, so the address is checked each time the name is resolved, not
// only once).
package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/executor"
	"github.com/wisp-dev/wisp/internal/trigger"
)

// Type is the trigger type in the manifest.
const Type = "mqtt"

// Export is the guest export the trigger calls.
var Export = trigger.WorldFunc("spin:mqtt-trigger/spin-mqtt@3.0.0", "handle-message")

const (
	connectTimeout = 10 * time.Second
	// defaultKeepAlive is used when keep_alive_interval is absent.
	defaultKeepAlive = 30 * time.Second
	// maxReconnectInterval caps paho's reconnection backoff.
	maxReconnectInterval = 10 * time.Second
	// queueSize is how many received messages wait for the guest before
	// the client stops reading from the broker.
	queueSize = 256
)

// Options tunes the trigger.
type Options struct {
	// Logger receives the trigger's own messages; nil discards them.
	Logger *slog.Logger
	// Invoke is how components are called (timeout, extra context).
	Invoke trigger.Options
	// Resolve renders {{ variable }} templates.
	Resolve trigger.Resolver
	// Dial, if set, opens every connection to a broker, the first and
	// each reconnection, to "host:port" over "tcp"; TLS (mqtts, ssl, tls)
	// and WebSocket (ws, wss) run over the connection it returns, and
	// proxy environment variables are not consulted. nil: paho's own
	// dialing.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Trigger is the MQTT trigger of one app.
type Trigger struct {
	subs       []*subscription
	log        *slog.Logger
	stats      trigger.Stats
	subscribed atomic.Int32
}

var _ trigger.Trigger = (*Trigger)(nil)

// subscription is one [[trigger.mqtt]]: one connection, one topic filter.
type subscription struct {
	triggerID string
	topic     string
	qos       byte
	broker    string // the address without credentials, for messages
	opts      *paho.ClientOptions
	inv       *trigger.Invoker
}

// New prepares the MQTT triggers of app; it fails if a trigger's broker,
// topic, qos or component is unusable. It connects to nothing yet: Run does.
func New(ctx context.Context, app *executor.App, opts Options) (*Trigger, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Trigger{log: log}
	appCfg := app.Locked.Metadata.TriggerConfig[Type]
	for _, lt := range app.Locked.Triggers {
		if lt.Type != Type {
			continue
		}
		s, err := newSubscription(ctx, app, lt.ID, lt.Component, lt.Config, appCfg, opts)
		if err != nil {
			return nil, fmt.Errorf("mqtt trigger %q: %w", lt.ID, err)
		}
		t.subs = append(t.subs, s)
	}
	return t, nil
}

func newSubscription(ctx context.Context, app *executor.App, id, componentID string, cfg, appCfg map[string]any, opts Options) (*subscription, error) {
	c := app.Component(componentID)
	if c == nil {
		return nil, fmt.Errorf("component %q is not loaded", componentID)
	}
	s := &subscription{triggerID: id}
	var address, username, password string
	settings := []struct {
		cfg        map[string]any
		key, where string
		dst        *string
	}{
		{appCfg, "address", "[application.trigger.mqtt] address", &address},
		{appCfg, "username", "[application.trigger.mqtt] username", &username},
		{appCfg, "password", "[application.trigger.mqtt] password", &password},
		{cfg, "topic", "topic", &s.topic},
	}
	for _, st := range settings {
		v, err := trigger.String(st.cfg, st.key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.where, err)
		}
		if *st.dst, err = trigger.Resolve(ctx, opts.Resolve, componentID, st.where, v); err != nil {
			return nil, err
		}
	}
	if address == "" {
		return nil, errors.New("no broker: set address in [application.trigger.mqtt]")
	}
	if s.topic == "" {
		return nil, errors.New("topic is empty")
	}
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		// The address may hold credentials: do not echo it.
		return nil, errors.New(`address is not a broker URL such as "mqtt://localhost:1883"`)
	}
	switch u.Scheme {
	case "mqtt", "tcp", "mqtts", "ssl", "tls", "ws", "wss":
	default:
		return nil, fmt.Errorf("address scheme %q is not supported (use mqtt, mqtts, tcp, ssl, ws or wss)", u.Scheme)
	}
	s.broker = u.Scheme + "://" + u.Host
	qos, err := trigger.Int(cfg, "qos", 0)
	if err != nil || qos < 0 || qos > 2 {
		return nil, errors.New("qos must be 0, 1 or 2")
	}
	s.qos = byte(qos)
	keepAlive := defaultKeepAlive
	if _, set := appCfg["keep_alive_interval"]; set {
		secs, err := trigger.Int(appCfg, "keep_alive_interval", 0)
		if err != nil || secs < 0 || secs > 65535 {
			return nil, errors.New("[application.trigger.mqtt] keep_alive_interval must be a number of seconds from 0 to 65535")
		}
		keepAlive = time.Duration(secs) * time.Second
	}
	if s.inv, err = trigger.NewInvoker(c, opts.Invoke, Export); err != nil {
		return nil, err
	}
	s.opts = paho.NewClientOptions().
		AddBroker(address).
		SetClientID(clientID()).
		SetKeepAlive(keepAlive).
		SetConnectTimeout(connectTimeout).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(maxReconnectInterval).
		SetConnectRetry(false).
		SetOrderMatters(true).
		// Acknowledge only once the guest has returned (see the package doc).
		SetAutoAckDisabled(true)
	if username != "" {
		s.opts.SetUsername(username)
	}
	if password != "" {
		s.opts.SetPassword(password)
	}
	if opts.Dial != nil {
		s.opts.SetCustomOpenConnectionFn(openWith(opts.Dial))
	}
	return s, nil
}

// clientID is unique per connection: two processes, or two triggers, with
// the same id would disconnect each other.
func clientID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "wisp-" + hex.EncodeToString(b)
}

// Stats returns the trigger's counters.
func (t *Trigger) Stats() *trigger.Stats { return &t.stats }

// Subscribed returns how many of the app's MQTT triggers Run has
// connected and subscribed so far.
func (t *Trigger) Subscribed() int { return int(t.subscribed.Load()) }

// Run connects every trigger to its broker and subscribes (failing if one
// cannot within connectTimeout), then handles messages until ctx is
// cancelled. A call in flight finishes (within its timeout); queued
// messages are dropped unacknowledged.
func (t *Trigger) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var clients []paho.Client
	defer func() {
		cancel()
		wg.Wait()
		for _, c := range clients {
			c.Disconnect(250)
		}
	}()
	for _, s := range t.subs {
		c, queue, err := t.connect(ctx, s)
		if c != nil {
			clients = append(clients, c)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() { t.work(ctx, s, queue) })
		t.subscribed.Add(1)
		t.log.Info("MQTT trigger subscribed", "trigger", s.triggerID, "broker", s.broker, "topic", s.topic, "qos", s.qos)
	}
	<-ctx.Done()
	return nil
}

// connect connects s's client and waits for its first subscription. The
// subscription is made on every connection (sessions are clean).
func (t *Trigger) connect(ctx context.Context, s *subscription) (paho.Client, chan paho.Message, error) {
	queue := make(chan paho.Message, queueSize)
	onMessage := func(_ paho.Client, m paho.Message) {
		select {
		case queue <- m:
		case <-ctx.Done():
		}
	}
	subscribed := make(chan error, 1)
	var connected atomic.Bool
	opts := *s.opts
	opts.SetOnConnectHandler(func(c paho.Client) {
		tok := c.Subscribe(s.topic, s.qos, onMessage)
		var err error
		if !tok.WaitTimeout(connectTimeout) {
			err = errors.New("timed out")
		} else {
			err = tok.Error()
		}
		select {
		case subscribed <- err:
		default:
		}
		if connected.Swap(true) {
			if err != nil {
				t.log.Error("MQTT trigger reconnected but could not resubscribe", "trigger", s.triggerID, "topic", s.topic, "error", err)
			} else {
				t.log.Info("MQTT trigger reconnected and resubscribed", "trigger", s.triggerID, "broker", s.broker)
			}
		}
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		t.log.Warn("MQTT trigger lost its connection; reconnecting", "trigger", s.triggerID, "broker", s.broker, "error", err)
	})
	c := paho.NewClient(&opts)
	tok := c.Connect()
	if !tok.WaitTimeout(connectTimeout + time.Second) {
		return c, nil, fmt.Errorf("mqtt trigger %q: cannot connect to %s: timed out", s.triggerID, s.broker)
	}
	if err := tok.Error(); err != nil {
		return c, nil, fmt.Errorf("mqtt trigger %q: cannot connect to %s: %v", s.triggerID, s.broker, err)
	}
	select {
	case err := <-subscribed:
		if err != nil {
			return c, nil, fmt.Errorf("mqtt trigger %q: cannot subscribe to %q on %s: %v", s.triggerID, s.topic, s.broker, err)
		}
	case <-time.After(2 * connectTimeout):
		return c, nil, fmt.Errorf("mqtt trigger %q: cannot subscribe to %q on %s: timed out", s.triggerID, s.topic, s.broker)
	case <-ctx.Done():
		return c, nil, nil
	}
	return c, queue, nil
}

// work handles s's messages one at a time until ctx is cancelled.
func (t *Trigger) work(ctx context.Context, s *subscription, queue chan paho.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-queue:
			if ctx.Err() != nil {
				return
			}
			t.handle(context.WithoutCancel(ctx), s, m)
			m.Ack()
		}
	}
}

func (t *Trigger) handle(ctx context.Context, s *subscription, m paho.Message) {
	err := s.inv.Call(ctx, m.Payload(), []any{m.Topic()})
	t.stats.Record(err)
	if err != nil {
		s.inv.Component().Logf("mqtt trigger %q: message on topic %q: %s", s.triggerID, m.Topic(), trigger.DescribeError(err))
		t.log.Debug("MQTT message failed", "trigger", s.triggerID, "topic", m.Topic(), "error", err)
		return
	}
	t.log.Debug("MQTT message handled", "trigger", s.triggerID, "topic", m.Topic(), "bytes", len(m.Payload()))
}
