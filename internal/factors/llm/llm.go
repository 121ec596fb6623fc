// Package llm is the LLM factor: fermyon:spin/llm@2.0.0 (infer,
// generate-embeddings) served by a remote HTTP backend the operator
// configures:
//
//	[llm_compute]
//	type = "remote_http"
//	url = "https://llm.example.com"
//	auth_token = "..."
//	api_type = "open_ai"   # or leave it out for Spin's own API ("default")
//
// api_type "default" is the API of Spin's cloud-gpu plugin (POST /infer and
// /embed); "open_ai" is the OpenAI API (POST /v1/chat/completions and
// /v1/embeddings), served by many engines. As in Spin, those paths replace
// any path in url, and every request carries "authorization: bearer <token>".
//
// A component may use only the models its manifest lists in ai_models;
// any other model is an invalid-input error, with the same message as Spin.
// Spin's type = "spin" (local models run in process) is not supported.
// Without [llm_compute] every call fails with a runtime-error saying that no
// backend is configured.
//
// The backend is the operator's, not the guest's: like Spin, requests to it
// are not subject to the component's allowed_outbound_hosts. The auth token
// never appears in errors.
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/pkg/runtimeconfig"
)

// Name is the factor's name in a factor.Set.
const Name = "llm"

// Limits bound a backend call.
type Limits struct {
	// Timeout bounds one request to the backend, response included. Spin
	// sets none; inference can be slow, so the default is generous.
	Timeout time.Duration
	// MaxResponseBytes bounds a backend response (Spin: 128 MiB).
	MaxResponseBytes int64
}

// DefaultLimits are the limits New uses.
var DefaultLimits = Limits{Timeout: 5 * time.Minute, MaxResponseBytes: 128 << 20}

// Factor is the LLM factor.
type Factor struct {
	limits Limits
}

var _ factor.Factor = (*Factor)(nil)

// New returns the factor with DefaultLimits.
func New() *Factor { return NewWithLimits(DefaultLimits) }

// NewWithLimits returns the factor with limits (zero fields take the
// default).
func NewWithLimits(l Limits) *Factor {
	if l.Timeout <= 0 {
		l.Timeout = DefaultLimits.Timeout
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = DefaultLimits.MaxResponseBytes
	}
	return &Factor{limits: l}
}

func (*Factor) Name() string   { return Name }
func (*Factor) Deps() []string { return nil }

// API types of [llm_compute] type = "remote_http".
const (
	APIDefault = "default"
	APIOpenAI  = "open_ai"
)

// parseConfig reads [llm_compute] strictly. It returns nil when the section
// is absent.
func parseConfig(ac *factor.AppContext, limits Limits) (*remote, error) {
	raw, ok := ac.RuntimeConfig.Take("llm_compute")
	if !ok {
		return nil, nil
	}
	const where = "runtime config: [llm_compute]"
	fields, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be a table", where)
	}
	t := runtimeconfig.NewTable(where, fields)
	typ, _ := t.String("type")
	if err := t.Err(); err != nil {
		return nil, err
	}
	switch typ {
	case "remote_http":
	case "spin":
		return nil, fmt.Errorf("%s: type \"spin\" (local models run in process) is not supported by wisp; "+
			"use type = \"remote_http\" with url and auth_token, pointing at an OpenAI-compatible server (api_type = \"open_ai\") "+
			"or a Spin cloud-gpu endpoint", where)
	case "":
		return nil, fmt.Errorf("%s: missing field \"type\" (wisp supports \"remote_http\")", where)
	default:
		return nil, fmt.Errorf("%s: unknown type %q (wisp supports \"remote_http\")", where, typ)
	}
	t.Strict("", "type", "url", "auth_token", "api_type")
	rawURL, _ := t.String("url")
	token, isStr := t.String("auth_token")
	if !isStr && !t.Has("auth_token") {
		// Spin requires the field; an empty token is allowed for servers
		// that need none.
		t.Errorf("missing field \"auth_token\"")
	}
	api, _ := t.String("api_type")
	if api == "" {
		api = APIDefault
	}
	if api != APIDefault && api != APIOpenAI {
		t.Errorf("unknown api_type %q (%q or %q)", api, APIOpenAI, APIDefault)
	}
	var base *url.URL
	if rawURL == "" {
		if !t.Has("url") {
			t.Errorf("missing field \"url\"")
		} else {
			t.Errorf("url must not be empty")
		}
	} else if u, err := url.Parse(rawURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parse error is not shown: it would repeat the URL, which may
		// carry credentials.
		t.Errorf("url must be an absolute http:// or https:// URL")
	} else {
		base = u
	}
	if err := t.Err(); err != nil {
		return nil, err
	}
	return newRemote(base, token, api, limits), nil
}

// ConfigureApp takes [llm_compute] and records which models each component
// may use.
func (f *Factor) ConfigureApp(_ context.Context, ac *factor.AppContext) (factor.AppState, error) {
	backend, err := parseConfig(ac, f.limits)
	if err != nil {
		return nil, err
	}
	s := &AppState{backend: backend, models: make(map[string]map[string]bool, len(ac.App.Components))}
	for _, c := range ac.App.Components {
		m := make(map[string]bool, len(c.AIModels))
		for _, model := range c.AIModels {
			m[model] = true
		}
		s.models[c.ID] = m
	}
	return s, nil
}

// AppState is the factor's per-app state: the backend (nil when none is
// configured) and which component may use which model.
type AppState struct {
	backend *remote
	models  map[string]map[string]bool // component → ai_models
}

var _ factor.AppState = (*AppState)(nil)

// Backend describes the configured backend without its token ("" when none
// is configured), for startup summaries.
func (s *AppState) Backend() string {
	if s.backend == nil {
		return ""
	}
	return s.backend.String()
}

type ctxKey struct{}

type instance struct {
	backend *remote
	models  map[string]bool
}

// Prepare records which models the instance of componentID may use.
func (s *AppState) Prepare(ctx context.Context, componentID string) (context.Context, error) {
	m, ok := s.models[componentID]
	if !ok {
		return nil, errors.New("no such component in the app")
	}
	return context.WithValue(ctx, ctxKey{}, &instance{backend: s.backend, models: m}), nil
}

// Close closes the backend's idle connections.
func (s *AppState) Close() error {
	if s.backend != nil {
		s.backend.client.CloseIdleConnections()
	}
	return nil
}

var errNotPrepared = errors.New("llm: host function called without per-instance state (App.Prepare was not called)")

func from(ctx context.Context) (*instance, error) {
	in, _ := ctx.Value(ctxKey{}).(*instance)
	if in == nil {
		return nil, errNotPrepared
	}
	return in, nil
}
