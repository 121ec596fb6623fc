package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// execute runs an arbitrary command on the connection resource's own RESP2
// connection (resp.go), not on the pooled go-redis client, so its results
// keep Spin's kinds: status replies are status, bulk strings binary.
//
// That connection belongs to the resource: dialled through the calling
// component's outbound policy on the first execute, authenticated and
// switched to the address's database like go-redis and Spin do, and
// closed when the guest drops the resource. Owning it, rather than
// borrowing from a shared pool, keeps whatever state a guest's commands
// leave on it (SELECT, MULTI … EXEC, CLIENT REPLY, HELLO) to that guest's
// connection, as with Spin, where every open is its own connection. Each
// resource holds at most one, so the instance and app connection limits
// bound them too. A reply the connection cannot be trusted after (an I/O
// error, a protocol error, a reply over the size limit, a cancelled call)
// closes it, and the next execute dials afresh.
func execute(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	a := argsOf(args)
	c, command, params := a.conn(), a.str(), a.list()
	if a.err != nil {
		return nil, a.err
	}
	cmd := make([][]byte, 0, 1+len(params))
	cmd = append(cmd, []byte(command))
	for _, p := range params {
		v, ok := p.(cabi.Variant)
		if !ok {
			return nil, errBadArgs
		}
		switch x := v.Value.(type) {
		case int64:
			if v.Case != paramInt64 {
				return nil, errBadArgs
			}
			cmd = append(cmd, strconv.AppendInt(nil, x, 10)) // as redis-rs sends an i64
		case []byte:
			if v.Case != paramBinary {
				return nil, errBadArgs
			}
			cmd = append(cmd, x)
		case nil: // an empty list<u8>
			if v.Case != paramBinary {
				return nil, errBadArgs
			}
			cmd = append(cmd, nil)
		default:
			return nil, errBadArgs
		}
	}
	reply, err := c.roundTrip(ctx, cmd)
	if err != nil {
		return []any{execError(c, err)}, nil
	}
	results, err := appendResults(nil, reply)
	if err != nil {
		return []any{execError(c, err)}, nil
	}
	return []any{cabi.Ok(results)}, nil
}

// execError maps a failed execute to the WIT error, always other(message).
func execError(c *conn, err error) cabi.Result {
	var re respError
	switch {
	case errors.As(err, &re):
		return errOtherf("%s", strings.ToValidUTF8(serverErrorText(string(re)), "\uFFFD"))
	case errors.Is(err, errReplyTooLarge):
		return tooLarge(c)
	}
	return errOtherf("%s", strings.ToValidUTF8(err.Error(), "\uFFFD"))
}

var errConnDropped = errors.New("redis connection has been dropped")

// roundTrip sends cmd on the resource's execute connection, dialling it
// first if need be, and returns the reply.
func (c *conn) roundTrip(ctx context.Context, cmd [][]byte) (any, error) {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if c.dropped.Load() {
		return nil, errConnDropped
	}
	if c.exec == nil {
		rc, err := dialExec(ctx, c.p.client.Options())
		if err != nil {
			return nil, err
		}
		c.exec = rc
	}
	reply, err := c.exec.do(ctx, cmd, c.in.app.limits.MaxResultBytes, ioTimeout)
	var re respError
	if err != nil && !errors.As(err, &re) { // the reply stream is out of step
		c.exec.Close()
		c.exec = nil
	}
	return reply, err
}

// closeExec closes the execute connection, waiting for a call in flight
// (which the call's deadline bounds).
func (c *conn) closeExec() {
	c.execMu.Lock()
	defer c.execMu.Unlock()
	if c.exec != nil {
		c.exec.Close()
		c.exec = nil
	}
}

// setupReplyLimit bounds the replies to AUTH and SELECT ("+OK" or an
// error line).
const setupReplyLimit = 64 << 10

// dialExec opens a RESP2 connection like the pooled client's: opt.Dialer
// goes through the calling instance's outbound policy (from ctx) and adds
// TLS for rediss. As go-redis and redis-rs (Spin) do, it sends
// AUTH [username] password when the address has a password and SELECT db
// when it names a database other than 0.
func dialExec(ctx context.Context, opt *goredis.Options) (*respConn, error) {
	nc, err := opt.Dialer(ctx, opt.Network, opt.Addr)
	if err != nil {
		return nil, err
	}
	rc := newRESPConn(nc)
	var setup [][][]byte
	switch {
	case opt.Password != "" && opt.Username != "":
		setup = append(setup, [][]byte{[]byte("AUTH"), []byte(opt.Username), []byte(opt.Password)})
	case opt.Password != "":
		setup = append(setup, [][]byte{[]byte("AUTH"), []byte(opt.Password)})
	}
	if opt.DB != 0 {
		setup = append(setup, [][]byte{[]byte("SELECT"), strconv.AppendInt(nil, int64(opt.DB), 10)})
	}
	for _, cmd := range setup {
		if _, err := rc.do(ctx, cmd, setupReplyLimit, dialTimeout); err != nil {
			rc.Close()
			return nil, err
		}
	}
	return rc, nil
}

// appendResults flattens a reply into redis-result values as Spin does:
// nil is nil, a simple string status, an integer int64, a bulk string
// binary, and arrays (nested too) contribute their elements in order; an
// error reply inside an array fails the whole call.
func appendResults(out []any, v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return append(out, cabi.Variant{Case: resultNil}), nil
	case respStatus:
		if !utf8.ValidString(string(x)) { // WIT strings are UTF-8; redis-rs refuses it too
			return nil, errors.New("redis status reply is not valid UTF-8")
		}
		return append(out, cabi.Variant{Case: resultStatus, Value: string(x)}), nil
	case int64:
		return append(out, cabi.Variant{Case: resultInt64, Value: x}), nil
	case []byte:
		return append(out, cabi.Variant{Case: resultBinary, Value: x}), nil
	case []any:
		var err error
		for _, e := range x {
			if out, err = appendResults(out, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case respError:
		return nil, x
	}
	return nil, errors.New("redis reply of an unsupported type") // the reader makes no others
}
