package wasihttp

import (
	"context"
	"testing"

	"github.com/wisp-dev/wisp/internal/component/cabi"
)

var testFuncs = typesFuncs()

// call calls the types function name with cabi-shaped args, as the linker
// would, and returns its single result (nil for none).
func call(t *testing.T, name string, args ...any) any {
	t.Helper()
	return callCtx(t, context.Background(), name, args...)
}

func callCtx(t *testing.T, ctx context.Context, name string, args ...any) any {
	t.Helper()
	f, ok := testFuncs[name]
	if name == "handle" {
		f, ok = outgoingHandle, true
	}
	if !ok {
		t.Fatalf("no host function %q", name)
	}
	res, err := f(ctx, nil, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res) == 0 {
		return nil
	}
	return res[0]
}

func mustOk(t *testing.T, v any) any {
	t.Helper()
	r, ok := v.(cabi.Result)
	if !ok || r.IsErr {
		t.Fatalf("want ok, got %#v", v)
	}
	return r.Value
}

func headerErr(t *testing.T, v any) uint32 {
	t.Helper()
	r, ok := v.(cabi.Result)
	if !ok || !r.IsErr {
		t.Fatalf("want header-error, got %#v", v)
	}
	return r.Value.(cabi.Variant).Case
}

func list(entries ...[2]string) []any {
	out := []any{}
	for _, e := range entries {
		out = append(out, []any{e[0], []byte(e[1])})
	}
	return out
}
