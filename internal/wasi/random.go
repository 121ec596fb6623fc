package wasi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component"
)

// maxRandomLen bounds one get-*-random-bytes call. The length is the
// guest's; without a bound a guest could make the host allocate up to
// 2^64 bytes. Real guests ask for a few dozen.
const maxRandomLen = 16 << 20

// Both the secure and the insecure interface read crypto/rand: it is fast
// enough, and one source means one thing to get right.
func randomInterfaces() []component.Interface {
	return []component.Interface{
		iface("random/random", map[string]component.HostFunc{
			"get-random-bytes": randomBytes,
			"get-random-u64":   randomU64,
		}),
		iface("random/insecure", map[string]component.HostFunc{
			"get-insecure-random-bytes": randomBytes,
			"get-insecure-random-u64":   randomU64,
		}),
		iface("random/insecure-seed", map[string]component.HostFunc{
			"insecure-seed": insecureSeed,
		}),
	}
}

func randomBytes(_ context.Context, _ *component.Call, args []any) ([]any, error) {
	n, err := arg[uint64](args, 0)
	if err != nil {
		return nil, err
	}
	if n > maxRandomLen {
		return nil, fmt.Errorf("wasi: %d random bytes requested, at most %d allowed", n, maxRandomLen)
	}
	b := make([]byte, n)
	rand.Read(b)
	return []any{b}, nil
}

func randomU64(context.Context, *component.Call, []any) ([]any, error) {
	var b [8]byte
	rand.Read(b[:])
	return []any{binary.LittleEndian.Uint64(b[:])}, nil
}

// insecureSeed is fixed per instance (per Ctx), as the WIT asks.
func insecureSeed(ctx context.Context, _ *component.Call, _ []any) ([]any, error) {
	lo, hi := ctxOf(ctx).insecureSeed()
	return []any{[]any{lo, hi}}, nil
}
