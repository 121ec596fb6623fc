package wasi

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

func TestEnvironment(t *testing.T) {
	ctx := WithCtx(context.Background(), &Ctx{
		Args: []string{"app", "-v"},
		Env:  [][2]string{{"A", "1"}, {"B", "two=2"}},
	})
	args := call1(t, ctx, "wasi:cli/environment#get-arguments").([]any)
	if !slices.Equal(args, []any{"app", "-v"}) {
		t.Fatalf("arguments %v", args)
	}
	env := call1(t, ctx, "wasi:cli/environment#get-environment").([]any)
	if len(env) != 2 || !slices.Equal(env[1].([]any), []any{"B", "two=2"}) {
		t.Fatalf("environment %v", env)
	}
	if cwd := call1(t, ctx, "wasi:cli/environment#initial-cwd").(cabi.Option); cwd.Some {
		t.Fatalf("cwd without files: %v", cwd)
	}
	withFS := WithCtx(context.Background(), &Ctx{FS: fstest.MapFS{}})
	if cwd := call1(t, withFS, "wasi:cli/environment#initial-cwd").(cabi.Option); cwd != cabi.Some("/") {
		t.Fatalf("cwd with files: %v", cwd)
	}
	// No Ctx at all: nothing granted, nothing fails.
	bg := context.Background()
	if n := len(call1(t, bg, "wasi:cli/environment#get-arguments").([]any)); n != 0 {
		t.Fatalf("%d arguments without Ctx", n)
	}
	for _, term := range []string{"stdin", "stdout", "stderr"} {
		if v := call1(t, bg, "wasi:cli/terminal-"+term+"#get-terminal-"+term).(cabi.Option); v.Some {
			t.Fatalf("terminal %s: %v", term, v)
		}
	}
}

func TestExit(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		fn   string
		arg  any
		code int
	}{
		{"wasi:cli/exit#exit", cabi.Ok(nil), 0},
		{"wasi:cli/exit#exit", cabi.Err(nil), 1},
		{"wasi:cli/exit#exit-with-code", uint8(42), 42},
	} {
		_, err := call(t, ctx, c.fn, c.arg)
		var exit *ExitError
		// Wrapped as the linker's trap would wrap it.
		if !errors.As(errors.Join(errors.New("trap"), err), &exit) || exit.Code != c.code {
			t.Fatalf("%s(%v) = %v, want exit %d", c.fn, c.arg, err, c.code)
		}
	}
}

func TestStdio(t *testing.T) {
	var out, errOut bytes.Buffer
	ctx := WithCtx(context.Background(), &Ctx{
		Stdin:  strings.NewReader("input"),
		Stdout: &out,
		Stderr: &errOut,
	})
	// Two stdin handles share one stream: bytes are read once.
	in1 := call1(t, ctx, "wasi:cli/stdin#get-stdin")
	in2 := call1(t, ctx, "wasi:cli/stdin#get-stdin")
	if in1 == in2 {
		t.Fatal("get-stdin returned the same handle value twice")
	}
	a := ok(t, call1(t, ctx, inRead, in1, uint64(2))).([]byte)
	b := ok(t, call1(t, ctx, inBlockRead, in2, uint64(10))).([]byte)
	if string(a)+string(b) != "input" {
		t.Fatalf("stdin read %q + %q", a, b)
	}
	stdout := call1(t, ctx, "wasi:cli/stdout#get-stdout")
	stderr := call1(t, ctx, "wasi:cli/stderr#get-stderr")
	ok(t, call1(t, ctx, outBWF, stdout, []byte("to out")))
	ok(t, call1(t, ctx, outBWF, call1(t, ctx, "wasi:cli/stdout#get-stdout"), []byte("!")))
	ok(t, call1(t, ctx, outBWF, stderr, []byte("to err")))
	if out.String() != "to out!" || errOut.String() != "to err" {
		t.Fatalf("stdout %q, stderr %q", out.String(), errOut.String())
	}
	// Ctx.Flush waits for writes the guest did not flush.
	c := &Ctx{Stdout: &out}
	cctx := WithCtx(context.Background(), c)
	if c.Writing() {
		t.Error("Writing before the guest opened stdout")
	}
	ok(t, call1(t, cctx, outWrite, call1(t, cctx, "wasi:cli/stdout#get-stdout"), []byte(" unflushed")))
	if !c.Writing() {
		t.Error("not Writing once the guest has written to stdout")
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "to out! unflushed" {
		t.Fatalf("after Flush: %q", out.String())
	}
	// Without writers, output is discarded and never blocks.
	bg := context.Background()
	ok(t, call1(t, bg, outBWF, call1(t, bg, "wasi:cli/stdout#get-stdout"), make([]byte, 100000)))
	if r := call1(t, bg, inRead, call1(t, bg, "wasi:cli/stdin#get-stdin"), uint64(1)); !isClosed(r) {
		t.Fatalf("stdin without a reader: %#v", r)
	}
}

func TestRandom(t *testing.T) {
	ctx := context.Background()
	for _, n := range []uint64{0, 1, 1000} {
		for _, fn := range []string{"wasi:random/random#get-random-bytes", "wasi:random/insecure#get-insecure-random-bytes"} {
			if b := call1(t, ctx, fn, n).([]byte); uint64(len(b)) != n {
				t.Fatalf("%s(%d) gave %d bytes", fn, n, len(b))
			}
		}
	}
	if _, err := call(t, ctx, "wasi:random/random#get-random-bytes", uint64(1)<<40); err == nil {
		t.Fatal("a terabyte of randomness was granted")
	}
	a := call1(t, ctx, "wasi:random/random#get-random-u64").(uint64)
	b := call1(t, ctx, "wasi:random/insecure#get-insecure-random-u64").(uint64)
	if a == b {
		t.Fatal("two random u64 equal")
	}
	c1 := WithCtx(ctx, &Ctx{})
	s1 := call1(t, c1, "wasi:random/insecure-seed#insecure-seed").([]any)
	s1b := call1(t, c1, "wasi:random/insecure-seed#insecure-seed").([]any)
	s2 := call1(t, WithCtx(ctx, &Ctx{}), "wasi:random/insecure-seed#insecure-seed").([]any)
	if !slices.Equal(s1, s1b) {
		t.Fatal("insecure seed changed within an instance")
	}
	if slices.Equal(s1, s2) {
		t.Fatal("two instances share an insecure seed")
	}
}

func TestSocketsDenied(t *testing.T) {
	ctx := context.Background()
	for _, fn := range []string{"wasi:sockets/tcp-create-socket#create-tcp-socket", "wasi:sockets/udp-create-socket#create-udp-socket"} {
		if code := errOf(t, call1(t, ctx, fn, uint32(0))); code != sockErrAccessDenied {
			t.Fatalf("%s: %v", fn, code)
		}
	}
	net := call1(t, ctx, "wasi:sockets/instance-network#instance-network")
	if code := errOf(t, call1(t, ctx, "wasi:sockets/ip-name-lookup#resolve-addresses", net, "example.com")); code != sockErrAccessDenied {
		t.Fatalf("resolve-addresses: %v", code)
	}
	if v := call1(t, ctx, "wasi:sockets/network#network-error-code", NewIOError(errors.New("x"))).(cabi.Option); v.Some {
		t.Fatalf("network-error-code: %v", v)
	}
}
