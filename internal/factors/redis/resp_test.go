package redis

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wisp-dev/wisp/internal/outbound"
)

func readReply(raw string, limit int) (any, error) {
	r := respReader{br: bufio.NewReaderSize(strings.NewReader(raw), 16), budget: limit}
	return r.value(0)
}

// TestRESPReader covers every RESP2 reply type, the bounds and malformed
// input. The small buffer makes long lines span several reads.
func TestRESPReader(t *testing.T) {
	deep := strings.Repeat("*1\r\n", respMaxDepth) + ":1\r\n"
	for _, tc := range []struct {
		name, raw string
		limit     int
		want      any
		err       string
	}{
		{name: "status", raw: "+OK\r\n", want: respStatus("OK")},
		{name: "long status", raw: "+" + strings.Repeat("s", 100) + "\r\n", want: respStatus(strings.Repeat("s", 100))},
		{name: "error", raw: "-ERR no\r\n", want: respError("ERR no")},
		{name: "integer", raw: ":-42\r\n", want: int64(-42)},
		{name: "bulk", raw: "$4\r\na\r\nb\r\n", want: []byte("a\r\nb")},
		{name: "empty bulk", raw: "$0\r\n\r\n", want: []byte{}},
		{name: "null bulk", raw: "$-1\r\n", want: nil},
		{name: "null array", raw: "*-1\r\n", want: nil},
		{name: "empty array", raw: "*0\r\n", want: []any{}},
		{name: "nested", raw: "*3\r\n:1\r\n*2\r\n$1\r\nx\r\n$-1\r\n-ERR in\r\n",
			want: []any{int64(1), []any{[]byte("x"), nil}, respError("ERR in")}},
		{name: "max depth", raw: deep[4:], want: func() any {
			var v any = int64(1)
			for range respMaxDepth - 1 {
				v = []any{v}
			}
			return v
		}()},
		{name: "too deep", raw: deep, err: "deeper than 100"},
		{name: "bulk over limit", raw: "$100\r\n", limit: 99, err: errReplyTooLarge.Error()},
		{name: "huge bulk declared", raw: "$9223372036854775807\r\n", err: errReplyTooLarge.Error()},
		{name: "huge array declared", raw: "*9223372036854775807\r\n", err: errReplyTooLarge.Error()},
		{name: "array over limit", raw: "*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n", limit: 5 * respValueCost, err: errReplyTooLarge.Error()},
		{name: "long line over limit", raw: "+" + strings.Repeat("s", 200) + "\r\n", limit: 150, err: errReplyTooLarge.Error()},
		{name: "bad integer", raw: ":12x\r\n", err: "bad integer"},
		{name: "bulk without CRLF", raw: "$1\r\nab\r\n", err: "not terminated"},
		{name: "line without CR", raw: "+OK\n", err: "not terminated"},
		{name: "RESP3 map", raw: "%1\r\n+a\r\n+b\r\n", err: "unsupported reply type '%'"},
		{name: "cut in a bulk", raw: "$10\r\nabc", err: "closed by the server"},
		{name: "cut in an array", raw: "*3\r\n:1\r\n", err: "closed by the server"},
		{name: "cut in a line", raw: "+OK", err: "closed by the server"},
		{name: "nothing", raw: "", err: "closed by the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = 1 << 20
			}
			got, err := readReply(tc.raw, limit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("= %#v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("= %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

// FuzzRESPReader: any input yields a value or an error, never a panic,
// and never more payload than the budget.
func FuzzRESPReader(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n:1\r\n*1\r\n$0\r\n\r\n", "*-1\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := readReply(raw, 4096)
		if err == nil && payload(v) > 4096 {
			t.Fatalf("reply of %d bytes under a 4096-byte budget", payload(v))
		}
	})
}

func payload(v any) int {
	switch x := v.(type) {
	case []byte:
		return len(x)
	case respStatus:
		return len(x)
	case respError:
		return len(x)
	case []any:
		n := 0
		for _, e := range x {
			n += payload(e)
		}
		return n
	}
	return 0
}

func TestWriteCommand(t *testing.T) {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	writeCommand(w, [][]byte{[]byte("SET"), []byte("k\r\n"), nil})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$0\r\n\r\n"; sb.String() != want {
		t.Fatalf("wrote %q, want %q", sb.String(), want)
	}
}

// TestServerErrorText: server errors read as Spin's (redis-rs 0.32) do.
func TestServerErrorText(t *testing.T) {
	for line, want := range map[string]string{
		"ERR unknown command 'x'":   "An error was signalled by the server - ResponseError: unknown command 'x'",
		"ERR":                       "An error was signalled by the server- ResponseError",
		"NOSCRIPT No matching":      "An error was signalled by the server - NoScriptError: No matching",
		"WRONGTYPE Operation":       "WRONGTYPE: Operation",
		"WRONGPASS invalid user":    "WRONGPASS: invalid user",
		"BOOM":                      "BOOM: Unknown extension error encountered",
		"boom with no code, really": "boom: with no code, really",
	} {
		if got := serverErrorText(line); got != want {
			t.Errorf("%q: %q, want %q", line, got, want)
		}
	}
}

// TestDialExec: execute's connection goes through the policy's dialer with
// TLS for rediss, then sends AUTH and SELECT as go-redis and redis-rs do.
func TestDialExec(t *testing.T) {
	cert, roots := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := startFakeServer(t, ln, func([]string) (string, bool) { return "+FINE\r\n", false })
	policy, err := outbound.NewPolicy([]string{"rediss://127.0.0.1:*"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(outbound.WithPolicy(context.Background(), policy), 10*time.Second)
	defer cancel()
	tlsConf := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	for _, tc := range []struct {
		user, pass string
		db         int
		want       string
	}{
		{want: "[[PING]]"},
		{pass: "pw", db: 2, want: "[[AUTH pw] [SELECT 2] [PING]]"},
		{user: "u", pass: "pw", want: "[[AUTH u pw] [PING]]"},
		{user: "u", db: 15, want: "[[SELECT 15] [PING]]"}, // no password, no AUTH
	} {
		before := len(srv.Commands())
		rc, err := dialExec(ctx, &goredis.Options{
			Network: "tcp", Addr: srv.Addr, Username: tc.user, Password: tc.pass, DB: tc.db,
			Dialer: dialer(nil, tlsConf),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, isTLS := rc.nc.(*tls.Conn); !isTLS {
			t.Errorf("%+v: connection is %T, not TLS", tc, rc.nc)
		}
		if v, err := rc.do(ctx, [][]byte{[]byte("PING")}, 1<<10, time.Second); err != nil || v != respStatus("PONG") {
			t.Errorf("PING = %#v, %v", v, err)
		}
		rc.Close()
		if got := fmt.Sprint(srv.Commands()[before:]); got != tc.want {
			t.Errorf("%+v: server received %s, want %s", tc, got, tc.want)
		}
	}

}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wisp test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
