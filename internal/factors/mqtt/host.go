package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/outbound"
)

// Interface names.
const (
	FermyonV2 = "fermyon:spin/mqtt@2.0.0"
	SpinV3    = "spin:mqtt/mqtt@3.0.0"
)

// The error variant's cases, identical in both interfaces.
const (
	errInvalidAddress = iota
	errTooManyConnections
	errConnectionFailed
	errOther
)

func errVariant(kind uint32) cabi.Result { return cabi.Err(cabi.Variant{Case: kind}) }

func errMsg(kind uint32, format string, args ...any) cabi.Result {
	return cabi.Err(cabi.Variant{Case: kind, Value: fmt.Sprintf(format, args...)})
}

var (
	errNotPrepared = errors.New("mqtt: host function called without per-instance state (App.Prepare was not called)")
	errBadArgs     = errors.New("mqtt: host function called with arguments of the wrong type")
)

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}

// conn is the connection resource: a borrowed pooled broker connection.
type conn struct {
	in      *instance
	b       *broker
	dropped atomic.Bool
}

// Drop returns the broker connection, the instance's slot and the app
// permit.
func (c *conn) Drop() {
	if c.dropped.Swap(true) {
		return
	}
	c.in.app.release(c.b)
	c.in.app.returnPermit()
	c.in.held.Add(-1)
}

// target is a parsed broker address.
type target struct {
	tls          bool
	hostPort     string
	host         string
	clientID     string
	cleanSession bool
	user, pass   string // from the URL
}

// rumqttc's URL options that tune its own event loop: accepted (Spin apps
// use them) but meaningless to Paho.
var ignoredOptions = map[string]bool{
	"max_incoming_packet_size_bytes": true, "max_outgoing_packet_size_bytes": true,
	"request_channel_capacity_num": true, "max_request_batch_num": true,
	"pending_throttle_usecs": true, "inflight_num": true, "conn_timeout_secs": true,
}

// parseAddress reads an address the way Spin's client (rumqttc) does.
func parseAddress(address string) (target, bool) {
	var t target
	u, err := url.Parse(address)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return t, false
	}
	port := "1883"
	switch u.Scheme {
	case "mqtt", "tcp":
	case "mqtts", "ssl":
		t.tls, port = true, "8883"
	default:
		return t, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return t, false
		}
		port = p
	}
	t.host = u.Hostname()
	t.hostPort = net.JoinHostPort(t.host, port)
	t.cleanSession = true
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return t, false
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch {
		case k == "client_id":
			t.clientID = v
		case k == "clean_session":
			b, err := strconv.ParseBool(v)
			if err != nil || (v != "true" && v != "false") {
				return t, false
			}
			t.cleanSession = b
		case k == "keep_alive_secs": // open's keep-alive argument overrides it, as in Spin
			if _, err := strconv.ParseUint(v, 10, 64); err != nil {
				return t, false
			}
		case ignoredOptions[k]:
			if _, err := strconv.ParseUint(v, 10, 64); err != nil {
				return t, false
			}
		default:
			return t, false
		}
	}
	if t.clientID == "" {
		return t, false
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
	}
	return t, true
}

// redacted is address without a password, for messages.
func redacted(address string) string {
	u, err := url.Parse(address)
	if err != nil {
		return "(unparsable address)"
	}
	return u.Redacted()
}

// scrub removes secret from msg: broker and network errors should not
// echo credentials, but a message must never carry one.
func scrub(msg, secret string) string {
	if secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, secret, "***")
}

// maxKeepAlive is MQTT's limit: the keep-alive is a 16-bit second count.
const maxKeepAlive = 65535

// open returns the connection, or nil and the WIT error result.
func (in *instance) open(ctx context.Context, address, username, password string, keepAlive uint64) (*conn, cabi.Result) {
	policy := outbound.FromContext(ctx)
	if !policy.AllowsURL(address, "mqtt") {
		return nil, errMsg(errConnectionFailed, "address %s is not permitted", redacted(address))
	}
	t, ok := parseAddress(address)
	if !ok {
		return nil, errVariant(errInvalidAddress)
	}
	if keepAlive > maxKeepAlive {
		return nil, errMsg(errOther, "keep-alive interval %d s is over MQTT's limit of %d s", keepAlive, maxKeepAlive)
	}
	if username == "" && password == "" { // open's credentials override the URL's
		username, password = t.user, t.pass
	}
	if int(in.held.Add(1)) > in.app.limits.MaxConnectionsPerInstance {
		in.held.Add(-1)
		return nil, errVariant(errTooManyConnections)
	}
	if !in.app.takePermit(ctx) {
		in.held.Add(-1)
		return nil, errVariant(errTooManyConnections)
	}
	key := brokerKey{address: address, username: username, password: password, keepAlive: keepAlive}
	timeout := in.app.limits.ConnectTimeout
	newClient := func() paho.Client {
		opts := paho.NewClientOptions().
			AddBroker(brokerURL(t)).
			SetClientID(t.clientID).
			SetUsername(username).
			SetPassword(password).
			SetCleanSession(t.cleanSession).
			SetKeepAlive(time.Duration(keepAlive) * time.Second).
			SetProtocolVersion(4).   // MQTT 3.1.1, as Spin's client
			SetAutoReconnect(false). // a lost connection is replaced at the next open
			SetConnectRetry(false).
			SetConnectTimeout(timeout).
			SetOrderMatters(false).
			SetCustomOpenConnectionFn(dialThrough(policy, t, timeout))
		return paho.NewClient(opts)
	}
	b, err := in.app.acquire(key, newClient, func(b *broker) {
		tok := b.client.Connect()
		if !tok.WaitTimeout(timeout + time.Second) {
			b.err = errors.New("timed out connecting to the broker")
		} else {
			b.err = tok.Error()
		}
		close(b.ready)
	})
	if err != nil {
		in.app.returnPermit()
		in.held.Add(-1)
		if errors.Is(err, errPoolFull) {
			return nil, errVariant(errTooManyConnections)
		}
		return nil, errMsg(errOther, "%v", err)
	}
	c := &conn{in: in, b: b}
	select {
	case <-b.ready:
	case <-ctx.Done():
		c.Drop()
		return nil, errMsg(errConnectionFailed, "connecting to %s: %v", redacted(address), ctx.Err())
	}
	if b.err != nil {
		c.Drop()
		return nil, errMsg(errConnectionFailed, "%s", scrub(b.err.Error(), password))
	}
	return c, cabi.Result{}
}

// brokerURL is the server URL Paho is given; only its scheme and host
// matter, since dialThrough makes the connection.
func brokerURL(t target) string {
	if t.tls {
		return "ssl://" + t.hostPort
	}
	return "tcp://" + t.hostPort
}

// dialThrough makes Paho's connections through the component's policy
// (Paho's own dialer cannot be given a DialContext), with TLS for mqtts.
func dialThrough(policy *outbound.Policy, t target, timeout time.Duration) paho.OpenConnectionFunc {
	return func(*url.URL, paho.ClientOptions) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		c, err := policy.DialContext(ctx, "tcp", t.hostPort)
		if err != nil || !t.tls {
			return c, err
		}
		tc := tls.Client(c, &tls.Config{ServerName: t.host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return tc, nil
	}
}

// validTopic reports whether topic may be published to: MQTT forbids
// empty names, wildcards and NUL in them, and a broker drops the (shared)
// connection of a client that sends one.
func validTopic(topic string) bool {
	return topic != "" && len(topic) <= 65535 && utf8.ValidString(topic) && !strings.ContainsAny(topic, "+#\x00")
}

// Argument helpers: a mistyped argument is ABI misuse and traps; it never
// panics.

func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func strArg(args []any, i int) (string, error) {
	s, ok := arg(args, i).(string)
	if !ok {
		return "", errBadArgs
	}
	return s, nil
}

func openFunc(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	address, err1 := strArg(args, 0)
	username, err2 := strArg(args, 1)
	password, err3 := strArg(args, 2)
	keepAlive, ok := arg(args, 3).(uint64)
	if err1 != nil || err2 != nil || err3 != nil || !ok {
		return nil, errBadArgs
	}
	c, res := in.open(ctx, address, username, password, keepAlive)
	if c == nil {
		return []any{res}, nil
	}
	return []any{cabi.Ok(c)}, nil
}

func publish(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	c, ok := arg(args, 0).(*conn)
	if !ok || c == nil {
		return nil, errBadArgs
	}
	topic, err := strArg(args, 1)
	if err != nil {
		return nil, err
	}
	var payload []byte
	switch p := arg(args, 2).(type) {
	case []byte:
		payload = p
	case nil: // an empty list
	default:
		return nil, errBadArgs
	}
	qos, ok := arg(args, 3).(uint32)
	if !ok {
		return nil, errBadArgs
	}
	if qos > 2 {
		return []any{errMsg(errOther, "invalid qos %d", qos)}, nil
	}
	if !validTopic(topic) {
		return []any{errMsg(errOther, "invalid topic name %q: must be non-empty UTF-8 without wildcards (+, #)", topic)}, nil
	}
	if limit := c.in.app.maxPayload; limit > 0 && len(payload) > limit {
		return []any{errMsg(errOther, "payload size %d exceeds the maximum allowed size of %d bytes", len(payload), limit)}, nil
	}
	if !c.b.client.IsConnectionOpen() {
		return []any{errMsg(errConnectionFailed, "connection to the broker was lost")}, nil
	}
	if payload == nil {
		payload = []byte{}
	}
	tok := c.b.client.Publish(topic, byte(qos), false, payload)
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return []any{errMsg(errOther, "publish did not complete: %v", ctx.Err())}, nil
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, paho.ErrNotConnected) || !c.b.client.IsConnectionOpen() {
			return []any{errMsg(errConnectionFailed, "%v", err)}, nil
		}
		return []any{errMsg(errOther, "%v", err)}, nil
	}
	return []any{cabi.Ok(nil)}, nil
}

// Interfaces implements fermyon:spin/mqtt@2.0.0 and spin:mqtt/mqtt@3.0.0
// (its async functions served synchronously); both have the same shape.
func (*Factor) Interfaces() []component.Interface {
	funcs := func() map[string]component.HostFunc {
		return map[string]component.HostFunc{
			"[static]connection.open":    openFunc,
			"[method]connection.publish": publish,
		}
	}
	return []component.Interface{
		{Name: FermyonV2, Funcs: funcs()},
		{Name: SpinV3, Funcs: funcs()},
	}
}
