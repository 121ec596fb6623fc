// Package mqtt is the outbound MQTT factor: fermyon:spin/mqtt@2.0.0 and
// spin:mqtt/mqtt@3.0.0, a connection resource that publishes messages
// (QoS 0, 1 or 2) to a broker, served by Eclipse Paho (MQTT 3.1.1).
//
// Addresses are Spin's (rumqttc's): "mqtt://host[:1883]?client_id=ID" or
// "mqtts://host[:8883]?client_id=ID" ("tcp" and "ssl" are synonyms);
// client_id is required, clean_session and keep_alive_secs are honoured,
// rumqttc's tuning options are accepted and ignored, anything else is
// invalid-address. The address must be allowed by the component's
// allowed_outbound_hosts (scheme "mqtt" by default); otherwise open fails,
// as in Spin, with connection-failed("address … is not permitted") and
// nothing is dialled. Every connection goes through the component's
// outbound policy (outbound.Policy.DialContext).
//
// Broker connections are pooled per app by (address, username, password,
// keep-alive): a guest's open borrows the app's connection, so concurrent
// requests publishing with one client_id share one session instead of
// kicking each other off the broker. Unlike Spin (which connects on the
// first publish), open connects, so a refused connection or bad
// credentials fail open with connection-failed. An instance holds at most
// 1024 connections (too-many-connections), as in Spin. The runtime config
// takes Spin's section:
//
//	[outbound_mqtt]
//	max_connections = 10          # open waits for a free slot until the request's deadline
//	max_payload_size_bytes = 65536
package mqtt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/factor"
)

// Name is the factor's name in a factor.Set.
const Name = "outbound-mqtt"

// Limits bound what one app and one instance may use.
type Limits struct {
	// MaxConnectionsPerInstance bounds the connection handles one instance
	// holds at once (Spin: 1024).
	MaxConnectionsPerInstance int
	// MaxBrokerConnections bounds the broker connections an app keeps
	// pooled; when full, the least recently used idle one is closed, and
	// if none is idle open fails with too-many-connections.
	MaxBrokerConnections int
	// ConnectTimeout bounds connecting to a broker (the request's deadline
	// also applies).
	ConnectTimeout time.Duration
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{
	MaxConnectionsPerInstance: 1024,
	MaxBrokerConnections:      64,
	ConnectTimeout:            10 * time.Second,
}

// Factor is the outbound MQTT factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with limits (zero fields take the default).
func NewWithLimits(l Limits) *Factor {
	if l.MaxConnectionsPerInstance <= 0 {
		l.MaxConnectionsPerInstance = DefaultLimits.MaxConnectionsPerInstance
	}
	if l.MaxBrokerConnections <= 0 {
		l.MaxBrokerConnections = DefaultLimits.MaxBrokerConnections
	}
	if l.ConnectTimeout <= 0 {
		l.ConnectTimeout = DefaultLimits.ConnectTimeout
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string { return Name }

// Deps is empty: the outbound policy reaches host functions through the
// context (outbound.FromContext), not through a Lookup.
func (*Factor) Deps() []string { return nil }

// config is [outbound_mqtt]; zero values mean unlimited.
type config struct {
	maxConns       int
	maxPayloadSize int
}

func parseConfig(ac *factor.AppContext) (config, error) {
	t, err := ac.RuntimeConfig.TakeTable("outbound_mqtt")
	if t == nil {
		return config{}, err
	}
	maxConns, _ := t.Int("max_connections", 1, 1<<20)
	maxPayload, _ := t.Int("max_payload_size_bytes", 1, 1<<31-1)
	t.Strict("", "max_connections", "max_payload_size_bytes")
	return config{maxConns: int(maxConns), maxPayloadSize: int(maxPayload)}, t.Err()
}

// ConfigureApp takes [outbound_mqtt]. Nothing connects until a guest
// opens a connection.
func (f *Factor) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	c, err := parseConfig(ac)
	if err != nil {
		return nil, err
	}
	s := &AppState{limits: f.limits, maxPayload: c.maxPayloadSize, brokers: map[brokerKey]*broker{}}
	if c.maxConns > 0 {
		s.permits = make(chan struct{}, c.maxConns)
	}
	return s, nil
}

// AppState is the factor's per-app state: the pooled broker connections.
type AppState struct {
	limits     Limits
	maxPayload int // 0: unlimited
	// permits holds one token per open connection handle when the runtime
	// config sets max_connections; nil means unlimited.
	permits chan struct{}

	mu      sync.Mutex
	brokers map[brokerKey]*broker
	closed  bool
}

var _ factor.AppState = (*AppState)(nil)

// brokerKey identifies a pooled connection: everything open was given.
// The password is part of it so a wrong password never borrows a
// connection another open authenticated.
type brokerKey struct {
	address, username, password string
	keepAlive                   uint64
}

// broker is one pooled broker connection.
type broker struct {
	key      brokerKey
	client   paho.Client
	ready    chan struct{} // closed when connecting ended; err says how
	err      error
	refs     int
	lastUsed time.Time
	retired  bool // replaced in the pool: disconnect when the last user leaves
}

type ctxKey struct{}

// instance is one instance's view: the app state and how many connections
// it holds.
type instance struct {
	app  *AppState
	held atomic.Int32
}

// Prepare gives the instance its connection table. Every component may
// call open; the outbound policy in the context decides what it reaches.
func (s *AppState) Prepare(ctx context.Context, _ string) (context.Context, error) {
	return context.WithValue(ctx, ctxKey{}, &instance{app: s}), nil
}

// Connections reports how many broker connections the app keeps (tests).
func (s *AppState) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.brokers)
}

// Close disconnects every pooled connection.
func (s *AppState) Close() error {
	s.mu.Lock()
	brokers := s.brokers
	s.brokers, s.closed = nil, true
	s.mu.Unlock()
	for _, b := range brokers {
		<-b.ready
		b.client.Disconnect(100)
	}
	return nil
}

var (
	errPoolFull  = errors.New("too many broker connections in use by the app")
	errAppClosed = errors.New("app is shutting down")
)

// acquire returns the pooled connection for key, starting one with newClient
// if there is none or the pooled one has lost its connection, and counts a
// reference. The caller waits on ready.
func (s *AppState) acquire(key brokerKey, newClient func() paho.Client, connect func(*broker)) (*broker, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errAppClosed
	}
	var stale []*broker
	if b := s.brokers[key]; b != nil {
		if !b.isBroken() {
			b.refs++
			s.mu.Unlock()
			return b, nil
		}
		delete(s.brokers, key)
		if b.retired = true; b.refs == 0 {
			stale = append(stale, b)
		}
	}
	if len(s.brokers) >= s.limits.MaxBrokerConnections {
		var lru *broker
		for _, b := range s.brokers {
			if b.refs == 0 && (lru == nil || b.lastUsed.Before(lru.lastUsed)) {
				lru = b
			}
		}
		if lru == nil {
			s.mu.Unlock()
			return nil, errPoolFull
		}
		delete(s.brokers, lru.key)
		stale = append(stale, lru)
	}
	b := &broker{key: key, client: newClient(), ready: make(chan struct{}), refs: 1}
	s.brokers[key] = b
	s.mu.Unlock()
	for _, old := range stale {
		go old.disconnect()
	}
	go connect(b)
	return b, nil
}

// isBroken reports whether a finished connection attempt failed or the
// connection has since been lost. Call with s.mu held.
func (b *broker) isBroken() bool {
	select {
	case <-b.ready:
		return b.err != nil || !b.client.IsConnectionOpen()
	default:
		return false // still connecting: wait for it
	}
}

func (b *broker) disconnect() {
	<-b.ready
	b.client.Disconnect(100)
}

// release drops a reference taken by acquire; a failed or retired
// connection leaves the pool when its last user goes.
func (s *AppState) release(b *broker) {
	s.mu.Lock()
	b.refs--
	b.lastUsed = time.Now()
	gone := b.refs == 0 && (b.retired || b.err != nil)
	if gone && s.brokers[b.key] == b {
		delete(s.brokers, b.key)
	}
	s.mu.Unlock()
	if gone {
		go b.disconnect()
	}
}

// takePermit waits for a slot under [outbound_mqtt] max_connections until
// ctx is done.
func (s *AppState) takePermit(ctx context.Context) bool {
	if s.permits == nil {
		return true
	}
	select {
	case s.permits <- struct{}{}:
		return true
	default:
	}
	select {
	case s.permits <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *AppState) returnPermit() {
	if s.permits != nil {
		<-s.permits
	}
}
