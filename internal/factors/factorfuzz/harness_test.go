package factorfuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/component/wit"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/keyvalue"
	"github.com/wisp-dev/wisp/internal/factors/llm"
	"github.com/wisp-dev/wisp/internal/factors/mqtt"
	"github.com/wisp-dev/wisp/internal/factors/mysql"
	"github.com/wisp-dev/wisp/internal/factors/outboundnet"
	"github.com/wisp-dev/wisp/internal/factors/postgres"
	"github.com/wisp-dev/wisp/internal/factors/redis"
	"github.com/wisp-dev/wisp/internal/factors/sqlite"
	factorvars "github.com/wisp-dev/wisp/internal/factors/variables"
	"github.com/wisp-dev/wisp/internal/testsvc"
	"github.com/wisp-dev/wisp/internal/variables"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

// allFactors is cmd/wisp's factors() list, in the same order, with a
// static variables provider instead of the environment.
func allFactors() []factor.Factor {
	return []factor.Factor{
		factorvars.New([]variables.Provider{variables.Static(map[string]string{"app_var": "from-provider"})}),
		llm.New(),
		outboundnet.New(),
		keyvalue.New(),
		sqlite.New(),
		redis.New(),
		mqtt.New(),
		postgres.New(),
		mysql.New(),
	}
}

// service says which real service a factor's functions reach, if any.
type service struct {
	url    func(testing.TB) string
	scheme string
}

var services = map[string]service{
	redis.Name:    {testsvc.Redis, "redis"},
	mqtt.Name:     {testsvc.MQTT, "mqtt"},
	postgres.Name: {testsvc.Postgres, "postgres"},
	mysql.Name:    {testsvc.MySQL, "mysql"},
}

const componentID = "fuzzed"

// Models the component may use; the test's LLM backend serves both.
var models = []string{"llama2-chat", "all-minilm-l6-v2"}

// Component variables (names the variables hint draws from).
var varNames = []string{"foo", "greeting", "missing", "Bad-Name", ""}

// llmBackend is a stand-in for the operator's LLM server (Spin's
// cloud-gpu API): no real one runs here, and without a backend every call
// stops at "no backend configured" before reaching the conversion code.
func llmBackend(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("content-type", "application/json")
		switch r.URL.Path {
		case "/infer":
			fmt.Fprint(w, `{"text":"inferred \u00e9","usage":{"promptTokenCount":3,"generatedTokenCount":2}}`)
		case "/embed":
			vecs := make([][]float32, len(req.Input))
			for i := range vecs {
				vecs[i] = []float32{0.5, float32(i), -1}
			}
			json.NewEncoder(w).Encode(map[string]any{"embeddings": vecs, "usage": map[string]any{"promptTokenCount": len(req.Input)}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// hostPort returns "scheme://host:port" of a service URL for
// allowed_outbound_hosts.
func hostPort(scheme, u string) string {
	_, rest, _ := strings.Cut(u, "://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return scheme + "://" + rest
}

// configure builds every factor for an app whose one component is granted
// everything: the default key-value store and SQLite database, the LLM
// models, variables, and outbound access to the given service URLs.
func configure(t testing.TB, allowed []string) (*factor.App, context.Context) {
	t.Helper()
	def := "hello"
	app := factortest.NewApp(lockedapp.Component{
		ID:                   componentID,
		KeyValueStores:       []string{keyvalue.DefaultLabel},
		SQLiteDatabases:      []string{sqlite.DefaultLabel},
		AIModels:             models,
		AllowedOutboundHosts: allowed,
		Variables:            map[string]string{"foo": "bar", "greeting": "{{ app_var }} there"},
	})
	app.Variables = map[string]lockedapp.Variable{"app_var": {Default: &def}}
	rc := fmt.Sprintf("[llm_compute]\ntype = \"remote_http\"\nurl = %q\nauth_token = \"not-a-secret\"\n", llmBackend(t))
	ac := factortest.NewAppContext(t, app, rc)
	fs := allFactors()
	set, err := factor.NewSet(fs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := component.NewHost(set.Interfaces()...); err != nil {
		t.Fatalf("host interfaces do not bind to their WIT: %v", err)
	}
	fa := factortest.Configure(t, ac, fs...)
	return fa, factortest.Prepare(t, fa, componentID)
}

// hostFn is one host function with its WIT type.
type hostFn struct {
	factor, iface, name string
	wit                 *wit.Func
	impl                component.HostFunc
}

func (f hostFn) String() string { return f.iface + "#" + f.name }

// functions lists factor f's host functions, sorted, and logs those its
// WIT has but the factor leaves out.
func functions(t testing.TB, f factor.Factor, logMissing bool) []hostFn {
	var out []hostFn
	for _, iface := range f.Interfaces() {
		wi, ok := wit.Builtin().LookupInterface(iface.Name)
		if !ok {
			t.Fatalf("%s: no WIT definition", iface.Name)
		}
		for name, impl := range iface.Funcs {
			out = append(out, hostFn{f.Name(), iface.Name, name, wi.Funcs[name], impl})
		}
		var missing []string
		for name := range wi.Funcs {
			if _, ok := iface.Funcs[name]; !ok && !strings.HasPrefix(name, "[resource-drop]") {
				missing = append(missing, name)
			}
		}
		if logMissing && len(missing)+len(wi.Unsupported) > 0 {
			sort.Strings(missing)
			t.Logf("%s: not implemented: %v; stream/future functions left out of the WIT: %v", iface.Name, missing, wi.Unsupported)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// memory is a guest linear memory for round-tripping values through the
// canonical ABI: a byte slice with a bump allocator as cabi_realloc.
type memory struct {
	b   []byte
	top uint32
}

func (m *memory) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.b)) {
		return nil, false
	}
	return m.b[off : off+n], true
}

func (m *memory) Write(off uint32, d []byte) bool {
	if uint64(off)+uint64(len(d)) > uint64(len(m.b)) {
		return false
	}
	copy(m.b[off:], d)
	return true
}

func (m *memory) Size() uint32 { return uint32(len(m.b)) }

func (m *memory) realloc(_, _, align, size uint32) (uint32, error) {
	p := (m.top + align - 1) &^ (align - 1)
	if uint64(p)+uint64(size) > 1<<30 {
		return 0, fmt.Errorf("test memory exhausted")
	}
	m.top = p + size
	if int(m.top) > len(m.b) {
		m.b = append(m.b, make([]byte, int(m.top)-len(m.b))...)
	}
	return p, nil
}

// harness calls host functions for one prepared instance and records
// what went wrong.
type harness struct {
	t      testing.TB
	ctx    context.Context
	g      *gen
	mem    *memory
	table  *cabi.HandleTable
	keep   int // handles kept per resource type
	prefix string
	// harvest makes hints pick the values that open resources.
	harvest bool
	// fixup rewrites arguments before a call (keeps shared services safe).
	fixup func(fn hostFn, args []any)
	calls int
}

func newHarness(t testing.TB, ctx context.Context, src source, prefix string) *harness {
	h := &harness{t: t, ctx: ctx, mem: &memory{b: make([]byte, 1<<16)}, table: cabi.NewHandleTable(), keep: 3, prefix: prefix}
	h.g = &gen{src: src, maxLen: 24, pool: map[*cabi.Resource][]any{}}
	return h
}

// outcome is what one call did.
type outcome struct {
	res    []any
	err    error // the host function's Go error: a trap
	panic  any
	stack  string
	hung   bool
	badRes error // results that do not type-check or lower
}

// callTimeout is each call's context deadline: a backend call that has
// not returned by then must give up with an error value.
const callTimeout = 5 * time.Second

// call round-trips args through the canonical ABI as a guest would pass
// them (handles go as they are: the table would refuse a wrong one), calls
// fn and checks and lowers the results.
func (h *harness) call(fn hostFn, args []any, roundTrip bool) outcome {
	ft := fn.wit.Type
	if roundTrip {
		h.mem.top = 8
		cx := &cabi.Context{Memory: h.mem, Realloc: h.mem.realloc}
		for i, p := range ft.Params {
			if hasHandle(p.Type) {
				continue
			}
			flat, err := cabi.LowerFlat(cx, p.Type, args[i])
			if err != nil {
				h.t.Fatalf("generator bug: %s param %s %s does not lower: %v", fn, p.Name, formatValue(args[i]), err)
			}
			if args[i], err = cabi.LiftFlat(cx, p.Type, cabi.NewFlatReader(flat)); err != nil {
				h.t.Fatalf("generator bug: %s param %s does not lift: %v", fn, p.Name, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(h.ctx, callTimeout)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.panic, o.stack = p, string(debug.Stack())
			}
			done <- o
		}()
		o.res, o.err = fn.impl(ctx, &component.Call{}, slices.Clone(args))
		if o.err == nil {
			o.badRes = h.lowerResults(fn, o.res)
		}
	}()
	start := time.Now()
	select {
	case o := <-done:
		if d := time.Since(start); d > 3*time.Second {
			h.t.Logf("SLOW %s%s: %v; results %s, trap %v", fn, format(args), d.Round(time.Millisecond), format(o.res), o.err)
		}
		return o
	case <-time.After(callTimeout + 10*time.Second):
		return outcome{hung: true}
	}
}

// lowerResults type-checks results and lowers them into guest memory as
// the binding would.
func (h *harness) lowerResults(fn hostFn, res []any) error {
	ft := fn.wit.Type
	if err := checkResults(res, ft); err != nil {
		return err
	}
	m := &memory{b: make([]byte, 1<<12), top: 8}
	cx := &cabi.Context{Memory: m, Realloc: m.realloc, Handles: h.table}
	cx.Call = h.table.BeginCall()
	// A return area for results that do not fit in one core value; it
	// goes after the parameters' core values.
	tuple := &cabi.Type{Kind: cabi.KindTuple}
	for _, r := range ft.Results {
		tuple.Types = append(tuple.Types, r.Type)
	}
	ret, _ := m.realloc(0, 0, 8, cabi.Size(tuple)+8)
	n := 0
	for _, p := range ft.Params {
		n += len(cabi.Flatten(p.Type))
	}
	if n > 16 { // MAX_FLAT_PARAMS: the parameters went by pointer
		n = 1
	}
	flat := append(make([]uint64, n), uint64(ret))
	if _, err := cabi.LowerResults(cx, ft, res, flat); err != nil {
		return fmt.Errorf("results do not lower: %w", err)
	}
	return h.table.EndCall(cx.Call)
}

// fail reports a failed call as a reproducer.
func (h *harness) report(fn hostFn, args []any, o outcome, trapOK bool) bool {
	h.t.Helper()
	switch {
	case o.panic != nil:
		h.t.Errorf("PANIC %s%s: %v\n%s", fn, format(args), o.panic, o.stack)
	case o.hung:
		h.t.Errorf("HANG %s%s: no return %v after the context deadline", fn, format(args), 10*time.Second)
	case o.err != nil && !trapOK:
		h.t.Errorf("TRAP %s%s: Go error for well-typed arguments: %v", fn, format(args), o.err)
	case o.badRes != nil:
		h.t.Errorf("BAD RESULT %s%s: %v (results %s)", fn, format(args), o.badRes, format(o.res))
	default:
		return false
	}
	return true
}

// absorb keeps up to h.keep handles the results returned per resource
// type and drops the rest, as a guest would.
func (h *harness) absorb(fn hostFn, res []any, keep bool) {
	for i, r := range fn.wit.Type.Results {
		if i >= len(res) {
			return
		}
		owns(res[i], r.Type, func(rs *cabi.Resource, v any) {
			if keep && len(h.g.pool[rs]) < h.keep {
				h.g.pool[rs] = append(h.g.pool[rs], v)
				return
			}
			if d, ok := v.(component.Dropper); ok {
				d.Drop()
			}
		})
	}
}

// producesHandles reports whether fn returns own handles.
func producesHandles(fn hostFn) bool {
	for _, r := range fn.wit.Type.Results {
		if hasHandle(r.Type) {
			return true
		}
	}
	return false
}

// harvestHandles calls the functions that open resources until each has
// given some handles (rounds let cas.new use a bucket opened before).
func (h *harness) harvestHandles(fns []hostFn) {
	h.harvest = true
	defer func() { h.harvest = false }()
	last := map[string]string{}
	for range 3 {
		for _, fn := range fns {
			if !producesHandles(fn) {
				continue
			}
			for range 4 {
				args, ok := h.g.params(fn.wit.Type)
				if !ok {
					break
				}
				if h.fixup != nil {
					h.fixup(fn, args)
				}
				o := h.call(fn, args, true)
				if h.report(fn, args, o, false) {
					break
				}
				h.absorb(fn, o.res, true)
				last[fn.String()] = format(args) + " -> " + format(o.res)
			}
		}
	}
	for _, fn := range fns {
		if producesHandles(fn) && !h.has(fn) {
			if h.hasIn(fn.wit.Type.Results[0].Type.Ok) || fn.wit.Type.Results[0].Type.Kind != cabi.KindResult {
				h.t.Logf("harvest: %s gave no handle; last call %s", fn, last[fn.String()])
			}
		}
	}
}

// has reports whether the pool holds handles of fn's result resources.
func (h *harness) has(fn hostFn) bool {
	found := false
	for _, r := range fn.wit.Type.Results {
		found = found || h.hasIn(r.Type)
	}
	return found
}

func (h *harness) hasIn(t *cabi.Type) bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case cabi.KindOwn:
		return len(h.g.pool[t.Resource]) > 0
	case cabi.KindResult:
		return h.hasIn(t.Ok)
	case cabi.KindOption, cabi.KindList:
		return h.hasIn(t.Elem)
	}
	return false
}

// dropAll drops every kept handle.
func (h *harness) dropAll() {
	for rs, hs := range h.g.pool {
		for _, v := range hs {
			if d, ok := v.(component.Dropper); ok {
				d.Drop()
			}
		}
		delete(h.g.pool, rs)
	}
}

// fuzz calls fn n times with random arguments.
func (h *harness) fuzz(fn hostFn, n int) (called int) {
	for range n {
		args, ok := h.g.params(fn.wit.Type)
		if !ok {
			return called
		}
		if h.fixup != nil {
			h.fixup(fn, args)
		}
		called++
		h.calls++
		o := h.call(fn, args, true)
		if h.report(fn, args, o, false) {
			return called // one reproducer per function is enough
		}
		h.absorb(fn, o.res, false)
	}
	return called
}

// wrongKinds passes, for each handle parameter of fn, every handle of a
// different Go type from foreign (what a guest cannot do: the handle
// table checks types) and expects a trap with a message, never a panic or
// a result.
func (h *harness) wrongKinds(fn hostFn, foreign []any) {
	for i, p := range fn.wit.Type.Params {
		if p.Type.Kind != cabi.KindOwn && p.Type.Kind != cabi.KindBorrow {
			continue
		}
		right := map[reflect.Type]bool{}
		for _, v := range h.g.pool[p.Type.Resource] {
			right[reflect.TypeOf(v)] = true
		}
		if len(right) == 0 {
			continue
		}
		for _, wrong := range foreign {
			if right[reflect.TypeOf(wrong)] {
				continue
			}
			args, ok := h.g.params(fn.wit.Type)
			if !ok {
				return
			}
			if h.fixup != nil {
				h.fixup(fn, args)
			}
			args[i] = wrong
			o := h.call(fn, args, false)
			if h.report(fn, args, o, true) {
				return
			}
			if o.err == nil {
				h.t.Errorf("WRONG KIND %s%s: a %T for %s<%s> did not trap; results %s", fn, format(args), wrong, p.Type.Kind, p.Type.Resource.Name, format(o.res))
				return
			}
			if strings.TrimSpace(o.err.Error()) == "" {
				h.t.Errorf("WRONG KIND %s: trap without a message", fn)
			}
		}
	}
}

// newRand is the test's PRNG for seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }
