package factorfuzz

import (
	"testing"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/testsvc"
)

// FuzzHostFuncs drives the generator of TestHostFuncs from the fuzzer's
// bytes: the first byte picks a host function of any factor, the rest
// choose its arguments. One app, granted everything, serves every input;
// handles are opened once, before fuzzing. Networked factors reach the
// shared services with the same safeguards as TestHostFuncs.
func FuzzHostFuncs(f *testing.F) {
	var allowed []string
	urls := map[string]string{}
	for name, svc := range services {
		urls[name] = svc.url(f)
		allowed = append(allowed, hostPort(svc.scheme, urls[name]))
	}
	_, ctx := configure(f, allowed)
	h := newHarness(f, ctx, &byteSource{}, testsvc.Unique(f))
	var fns []hostFn
	type part struct {
		f   factor.Factor
		fns []hostFn
	}
	var parts []part
	for _, fa := range allFactors() {
		parts = append(parts, part{fa, functions(f, fa, false)})
	}
	// Handles for every resource, with each factor's hints.
	h.g.src = newRand(1)
	for _, p := range parts {
		setup(f, h, p.f, urls[p.f.Name()])
		h.harvestHandles(p.fns)
		fns = append(fns, p.fns...)
	}
	hintsOf := map[string]func(*gen, string) (any, bool){}
	fixups := map[string]func(hostFn, []any){}
	for _, p := range parts {
		hintsOf[p.f.Name()] = hints(h, p.f, urls[p.f.Name()])
	}
	fixups[redis.Name] = redisFixup(h.prefix)
	for i := range fns {
		f.Add([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		fn := fns[int(data[0])%len(fns)]
		src := &byteSource{b: data[1:]}
		g := *h.g
		g.src, g.hint, g.big = src, hintsOf[fn.factor], urls[fn.factor] == ""
		args, ok := g.params(fn.wit.Type)
		if !ok {
			return
		}
		if fix := fixups[fn.factor]; fix != nil {
			fix(fn, args)
		}
		th := *h
		th.t, th.g, th.fixup = t, &g, nil
		o := th.call(fn, args, true)
		th.report(fn, args, o, false)
		th.absorb(fn, o.res, false)
	})
}
