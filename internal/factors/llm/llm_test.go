package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wisp-dev/wisp/internal/component/cabi"
	"github.com/wisp-dev/wisp/internal/factor"
	"github.com/wisp-dev/wisp/internal/factor/factortest"
	"github.com/wisp-dev/wisp/internal/factors/llm"
	"github.com/wisp-dev/wisp/pkg/lockedapp"
)

const token = "sk-test-7f3a9c1e-secret"

// backend is an LLM server speaking both API shapes Wisp supports, checking
// every request as strictly as the real services do: method, path, the
// bearer token, and a JSON body with exactly the fields each API defines.
// Some model names trigger failures.
type backend struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []request
}

type request struct {
	Path string
	Body map[string]any
}

func newBackend(t *testing.T) *backend {
	b := &backend{t: t}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) last() request {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		b.t.Fatal("the backend received no request")
	}
	return b.requests[len(b.requests)-1]
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.requests)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func openAIError(w http.ResponseWriter, status int, msg, code string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": nil, "code": code,
	}})
}

// decodeStrict decodes the body into v, rejecting unknown fields, and
// also returns it as a generic map for assertions.
func decodeStrict(r *http.Request, v any) (map[string]any, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(buf.Bytes(), &m)
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "expected a JSON body, got Content-Type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	auth := r.Header.Get("Authorization")
	scheme, got, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "bearer") || got != token {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			openAIError(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_api_key")
		} else {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
		}
		return
	}
	var (
		body  map[string]any
		err   error
		model string
	)
	switch r.URL.Path {
	case "/infer":
		var req struct {
			Model   string `json:"model"`
			Prompt  string `json:"prompt"`
			Options struct {
				MaxTokens                    *uint32  `json:"maxTokens"`
				RepeatPenalty                *float32 `json:"repeatPenalty"`
				RepeatPenaltyLastNTokenCount *uint32  `json:"repeatPenaltyLastNTokenCount"`
				Temperature                  *float32 `json:"temperature"`
				TopK                         *uint32  `json:"topK"`
				TopP                         *float32 `json:"topP"`
			} `json:"options"`
		}
		body, err = decodeStrict(r, &req)
		o := req.Options
		if err == nil && (o.MaxTokens == nil || o.RepeatPenalty == nil || o.RepeatPenaltyLastNTokenCount == nil ||
			o.Temperature == nil || o.TopK == nil || o.TopP == nil || req.Model == "") {
			err = fmt.Errorf("missing field")
		}
		model = req.Model
		if err == nil && b.misbehave(w, model) {
			break
		}
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]any{
				"text":  "Echo: " + req.Prompt,
				"usage": map[string]any{"promptTokenCount": len(strings.Fields(req.Prompt)), "generatedTokenCount": 3},
			})
		}
	case "/embed":
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		body, err = decodeStrict(r, &req)
		model = req.Model
		if err == nil && b.misbehave(w, model) {
			break
		}
		if err == nil {
			embs := make([][]float32, len(req.Input))
			for i, s := range req.Input {
				embs[i] = []float32{float32(len(s)), 0.5, -0.25}
			}
			writeJSON(w, http.StatusOK, map[string]any{"embeddings": embs, "usage": map[string]any{"promptTokenCount": len(req.Input) * 2}})
		}
	case "/v1/chat/completions":
		var req struct {
			Messages []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"messages"`
			Model               string   `json:"model"`
			MaxCompletionTokens *uint32  `json:"max_completion_tokens"`
			FrequencyPenalty    *float32 `json:"frequency_penalty"`
		}
		body, err = decodeStrict(r, &req)
		if err == nil && (len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.MaxCompletionTokens == nil || req.FrequencyPenalty == nil) {
			err = fmt.Errorf("unexpected messages or missing fields")
		}
		model = req.Model
		if err == nil && model == "gpt-unknown" {
			openAIError(w, http.StatusNotFound, "The model `gpt-unknown` does not exist or you do not have access to it.", "model_not_found")
			break
		}
		if err == nil && b.misbehave(w, model) {
			break
		}
		if err == nil {
			writeJSON(w, http.StatusOK, map[string]any{
				"id": "chatcmpl-123", "object": "chat.completion", "created": 1700000000, "model": model,
				"choices": []any{map[string]any{
					"index":         0,
					"message":       map[string]any{"role": "assistant", "content": "Echo: " + req.Messages[0].Content, "refusal": nil},
					"finish_reason": "stop",
				}},
				"usage":              map[string]any{"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21},
				"system_fingerprint": "fp_test",
			})
		}
	case "/v1/embeddings":
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		body, err = decodeStrict(r, &req)
		model = req.Model
		if err == nil && b.misbehave(w, model) {
			break
		}
		if err == nil {
			data := make([]any, len(req.Input))
			for i, s := range req.Input {
				data[i] = map[string]any{"object": "embedding", "index": i, "embedding": []float32{float32(len(s)), 0.125}}
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"object": "list", "data": data, "model": model,
				"usage": map[string]any{"prompt_tokens": 8, "total_tokens": 8},
			})
		}
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.requests = append(b.requests, request{Path: r.URL.Path, Body: body})
	b.mu.Unlock()
}

// misbehave answers for the models that simulate a broken backend.
func (b *backend) misbehave(w http.ResponseWriter, model string) bool {
	switch model {
	case "malformed":
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"text": "unterminated`))
	case "no-usage":
		writeJSON(w, http.StatusOK, map[string]any{"text": "hi", "embeddings": [][]float32{}, "choices": []any{}, "data": []any{}})
	case "crash":
		// A backend that echoes the request headers in its error page.
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "internal error handling request with Authorization: bearer %s", token)
	case "slow":
		time.Sleep(500 * time.Millisecond)
		writeJSON(w, http.StatusOK, map[string]any{})
	case "error-envelope":
		// Some OpenAI-compatible servers report errors with status 200.
		writeJSON(w, http.StatusOK, map[string]any{"error": map[string]any{"message": "content refused by policy"}})
	case "huge":
		writeJSON(w, http.StatusOK, map[string]any{"text": strings.Repeat("x", 4096)})
	default:
		return false
	}
	return true
}

// configure sets up component "a" granted models, with runtime config rc.
func configure(t *testing.T, rc string, models ...string) context.Context {
	return configureWith(t, llm.NewWithLimits(llm.Limits{Timeout: 10 * time.Second, MaxResponseBytes: 2048}), rc, models...)
}

func configureWith(t *testing.T, f *llm.Factor, rc string, models ...string) context.Context {
	t.Helper()
	app := factortest.NewApp(lockedapp.Component{ID: "a", AIModels: models})
	ac := factortest.NewAppContext(t, app, rc)
	return factortest.Prepare(t, factortest.Configure(t, ac, f), "a")
}

func remoteConfig(url, api string) string {
	rc := fmt.Sprintf("[llm_compute]\ntype = \"remote_http\"\nurl = %q\nauth_token = %q\n", url, token)
	if api != "" {
		rc += fmt.Sprintf("api_type = %q\n", api)
	}
	return rc
}

var ifaces = llm.New().Interfaces()

func inferCall(t *testing.T, ctx context.Context, model, prompt string, params cabi.Option) cabi.Result {
	t.Helper()
	return factortest.Call(t, ctx, ifaces, llm.FermyonV2, "infer", model, prompt, params)[0].(cabi.Result)
}

func embedCall(t *testing.T, ctx context.Context, model string, text ...string) cabi.Result {
	t.Helper()
	list := make([]any, len(text))
	for i, s := range text {
		list[i] = s
	}
	return factortest.Call(t, ctx, ifaces, llm.FermyonV2, "generate-embeddings", model, list)[0].(cabi.Result)
}

// wantErr checks that res is the error case c and returns its message.
func wantErr(t *testing.T, res cabi.Result, c uint32) string {
	t.Helper()
	v, ok := res.Value.(cabi.Variant)
	if !res.IsErr || !ok || v.Case != c {
		t.Fatalf("result = %#v, want error case %d", res, c)
	}
	msg, _ := v.Value.(string)
	if strings.Contains(msg, token) {
		t.Fatalf("error message leaks the auth token: %s", msg)
	}
	return msg
}

const (
	caseModelNotSupported = 0
	caseRuntime           = 1
	caseInvalidInput      = 2
)

func params(maxTokens uint32, repeat float32, lastN uint32, temp float32, topK uint32, topP float32) cabi.Option {
	return cabi.Some([]any{maxTokens, repeat, lastN, temp, topK, topP})
}

func TestInferDefaultAPI(t *testing.T) {
	b := newBackend(t)
	// The configured path is replaced by /infer, as Spin's Url::join does.
	ctx := configure(t, remoteConfig(b.srv.URL+"/some/prefix", ""), "llama2-chat")

	res := inferCall(t, ctx, "llama2-chat", "tell me a joke", params(256, 1.5, 32, 0.25, 10, 0.5))
	if res.IsErr {
		t.Fatalf("infer = %#v", res)
	}
	want := []any{"Echo: tell me a joke", []any{uint32(4), uint32(3)}}
	if fmt.Sprint(res.Value) != fmt.Sprint(want) {
		t.Fatalf("infer = %#v, want %#v", res.Value, want)
	}
	got := b.last()
	if got.Path != "/infer" || got.Body["model"] != "llama2-chat" || got.Body["prompt"] != "tell me a joke" {
		t.Fatalf("request = %+v", got)
	}
	wantOpts := map[string]any{"maxTokens": 256.0, "repeatPenalty": 1.5, "repeatPenaltyLastNTokenCount": 32.0, "temperature": 0.25, "topK": 10.0, "topP": 0.5}
	if fmt.Sprint(got.Body["options"]) != fmt.Sprint(wantOpts) {
		t.Fatalf("options = %v, want %v", got.Body["options"], wantOpts)
	}

	// No params: Spin's defaults.
	if res := inferCall(t, ctx, "llama2-chat", "hi", cabi.None); res.IsErr {
		t.Fatalf("infer = %#v", res)
	}
	opts := b.last().Body["options"].(map[string]any)
	if opts["maxTokens"] != 100.0 || opts["topK"] != 40.0 || opts["repeatPenaltyLastNTokenCount"] != 64.0 ||
		fmt.Sprintf("%.2f %.2f %.2f", opts["repeatPenalty"], opts["temperature"], opts["topP"]) != "1.10 0.80 0.90" {
		t.Fatalf("default options = %v", opts)
	}
}

func TestInferOpenAI(t *testing.T) {
	b := newBackend(t)
	ctx := configure(t, remoteConfig(b.srv.URL, "open_ai"), "gpt-4o-mini", "gpt-unknown")

	res := inferCall(t, ctx, "gpt-4o-mini", "Say hello", params(50, 0.5, 1, 1, 1, 1))
	if res.IsErr {
		t.Fatalf("infer = %#v", res)
	}
	want := []any{"Echo: Say hello", []any{uint32(9), uint32(12)}}
	if fmt.Sprint(res.Value) != fmt.Sprint(want) {
		t.Fatalf("infer = %#v, want %#v", res.Value, want)
	}
	got := b.last()
	if got.Path != "/v1/chat/completions" || got.Body["model"] != "gpt-4o-mini" ||
		got.Body["max_completion_tokens"] != 50.0 || got.Body["frequency_penalty"] != 0.5 {
		t.Fatalf("request = %+v", got)
	}
	if fmt.Sprint(got.Body["messages"]) != "[map[content:Say hello role:user]]" {
		t.Fatalf("messages = %v", got.Body["messages"])
	}

	// The API's own error message reaches the guest.
	msg := wantErr(t, inferCall(t, ctx, "gpt-unknown", "x", cabi.None), caseRuntime)
	if !strings.Contains(msg, "404") || !strings.Contains(msg, "The model `gpt-unknown` does not exist") {
		t.Fatalf("error = %q", msg)
	}
}

func TestEmbeddings(t *testing.T) {
	for _, tt := range []struct {
		api, path string
		want      string
		usage     uint32
	}{
		{"", "/embed", "[[5 0.5 -0.25] [3 0.5 -0.25]]", 4},
		{"default", "/embed", "[[5 0.5 -0.25] [3 0.5 -0.25]]", 4},
		{"open_ai", "/v1/embeddings", "[[5 0.125] [3 0.125]]", 8},
	} {
		t.Run(tt.path+tt.api, func(t *testing.T) {
			b := newBackend(t)
			ctx := configure(t, remoteConfig(b.srv.URL, tt.api), "all-minilm-l6-v2")
			res := embedCall(t, ctx, "all-minilm-l6-v2", "hello", "abc")
			if res.IsErr {
				t.Fatalf("generate-embeddings = %#v", res)
			}
			rec := res.Value.([]any)
			for _, vec := range rec[0].([]any) {
				for _, x := range vec.([]any) {
					if _, ok := x.(float32); !ok {
						t.Fatalf("embedding element %T, want float32", x)
					}
				}
			}
			if fmt.Sprint(rec[0]) != tt.want || fmt.Sprint(rec[1]) != fmt.Sprint([]any{tt.usage}) {
				t.Fatalf("generate-embeddings = %v, want %s usage %d", rec, tt.want, tt.usage)
			}
			got := b.last()
			if got.Path != tt.path || got.Body["model"] != "all-minilm-l6-v2" || fmt.Sprint(got.Body["input"]) != "[hello abc]" {
				t.Fatalf("request = %+v", got)
			}
		})
	}
}

// A model the manifest does not list is refused before any request, with
// Spin's error case (invalid-input) and message.
func TestModelNotGranted(t *testing.T) {
	b := newBackend(t)
	ctx := configure(t, remoteConfig(b.srv.URL, ""), "llama2-chat")
	for _, res := range []cabi.Result{
		inferCall(t, ctx, "codellama", "x", cabi.None),
		embedCall(t, ctx, "codellama", "x"),
	} {
		msg := wantErr(t, res, caseInvalidInput)
		if !strings.Contains(msg, "does not have access to use 'codellama'") || !strings.Contains(msg, "'ai_models'") {
			t.Fatalf("error = %q", msg)
		}
	}
	if n := b.count(); n != 0 {
		t.Fatalf("backend received %d requests", n)
	}
}

func TestNoBackendConfigured(t *testing.T) {
	ctx := configure(t, "", "llama2-chat")
	for _, res := range []cabi.Result{
		inferCall(t, ctx, "llama2-chat", "x", cabi.None),
		embedCall(t, ctx, "llama2-chat", "x"),
	} {
		if msg := wantErr(t, res, caseRuntime); !strings.Contains(msg, "no LLM backend is configured") || !strings.Contains(msg, "[llm_compute]") {
			t.Fatalf("error = %q", msg)
		}
	}
	// The grant is still checked first.
	wantErr(t, inferCall(t, ctx, "other", "x", cabi.None), caseInvalidInput)
}

func TestBackendFailures(t *testing.T) {
	b := newBackend(t)
	models := []string{"malformed", "no-usage", "crash", "slow", "huge", "error-envelope", "llama2-chat"}
	ctxDefault := configure(t, remoteConfig(b.srv.URL, ""), models...)
	ctxOpenAI := configure(t, remoteConfig(b.srv.URL, "open_ai"), models...)
	ctxShort := configureWith(t, llm.NewWithLimits(llm.Limits{Timeout: 100 * time.Millisecond}), remoteConfig(b.srv.URL, ""), models...)

	for _, tt := range []struct {
		name  string
		ctx   context.Context
		model string
		embed bool
		want  string
	}{
		{"malformed json", ctxDefault, "malformed", false, "POST /infer: malformed response"},
		{"malformed json openai", ctxOpenAI, "malformed", true, "POST /v1/embeddings: malformed response"},
		{"missing usage", ctxDefault, "no-usage", false, `missing "text" or "usage"`},
		{"missing usage embed", ctxDefault, "no-usage", true, `missing "embeddings" or "usage"`},
		{"missing usage openai", ctxOpenAI, "no-usage", false, `missing "choices" or "usage"`},
		{"error envelope", ctxOpenAI, "error-envelope", false, "content refused by policy"},
		{"error envelope embed", ctxOpenAI, "error-envelope", true, "content refused by policy"},
		{"server error", ctxDefault, "crash", false, "POST /infer: the LLM backend answered 500 Internal Server Error: internal error"},
		{"timeout", ctxShort, "slow", false, "POST /infer: no response from the LLM backend within 100ms"},
		{"too large", ctxDefault, "huge", false, "response exceeds the limit of 2048 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var res cabi.Result
			if tt.embed {
				res = embedCall(t, tt.ctx, tt.model, "x")
			} else {
				res = inferCall(t, tt.ctx, tt.model, "x", cabi.None)
			}
			if msg := wantErr(t, res, caseRuntime); !strings.Contains(msg, tt.want) {
				t.Fatalf("error = %q, want it to contain %q", msg, tt.want)
			}
		})
	}

	// A wrong token: the OpenAI API's message, and never the token.
	other := strings.Replace(remoteConfig(b.srv.URL, "open_ai"), token, "sk-wrong-token", 1)
	ctx := configure(t, other, "llama2-chat")
	msg := wantErr(t, inferCall(t, ctx, "llama2-chat", "x", cabi.None), caseRuntime)
	if !strings.Contains(msg, "401 Unauthorized: Incorrect API key provided.") || strings.Contains(msg, "sk-wrong-token") {
		t.Fatalf("error = %q", msg)
	}

	// Nothing listening.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	ctx = configure(t, remoteConfig(dead.URL, ""), "llama2-chat")
	if msg := wantErr(t, embedCall(t, ctx, "llama2-chat", "x"), caseRuntime); !strings.Contains(msg, "POST /embed request error") {
		t.Fatalf("error = %q", msg)
	}

	// The guest's cancellation ends the request.
	cctx, cancel := context.WithCancel(ctxDefault)
	cancel()
	if msg := wantErr(t, inferCall(t, cctx, "llama2-chat", "x", cabi.None), caseRuntime); !strings.Contains(msg, "context canceled") {
		t.Fatalf("error = %q", msg)
	}
}

func TestConfigErrors(t *testing.T) {
	app := factortest.NewApp(lockedapp.Component{ID: "a", AIModels: []string{"m"}})
	for _, tt := range []struct {
		name, rc, want string
	}{
		{"local models", "[llm_compute]\ntype = \"spin\"\n", `type "spin" (local models run in process) is not supported by wisp; use type = "remote_http"`},
		{"no type", "[llm_compute]\nurl = \"http://x\"\n", `missing field "type"`},
		{"unknown type", "[llm_compute]\ntype = \"gpu\"\n", `unknown type "gpu"`},
		{"not a table", "llm_compute = 3\n", "must be a table"},
		{"missing url", "[llm_compute]\ntype = \"remote_http\"\nauth_token = \"t\"\n", `missing field "url"`},
		{"missing token", "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://x\"\n", `missing field "auth_token"`},
		{"bad url", "[llm_compute]\ntype = \"remote_http\"\nurl = \"x.example.com\"\nauth_token = \"t\"\n", "absolute http:// or https:// URL"},
		{"bad api", "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://x\"\nauth_token = \"t\"\napi_type = \"anthropic\"\n", `unknown api_type "anthropic"`},
		{"unknown field", "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://x\"\nauth_token = \"t\"\ntimeout = 3\n", `unknown field "timeout"`},
		{"token type", "[llm_compute]\ntype = \"remote_http\"\nurl = \"http://x\"\nauth_token = 3\n", "auth_token must be a string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := factor.NewSet(llm.New())
			if err != nil {
				t.Fatal(err)
			}
			ac := factortest.NewAppContext(t, app, tt.rc)
			_, err = set.ConfigureApp(context.Background(), ac)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ConfigureApp error = %v, want %q", err, tt.want)
			}
		})
	}

	// A valid section is taken, so the set accepts it; ValidateOnly opens nothing.
	set, _ := factor.NewSet(llm.New())
	ac := factortest.NewAppContext(t, app, remoteConfig("https://user:pw@llm.example.com", "open_ai"))
	ac.ValidateOnly = true
	a, err := set.ConfigureApp(context.Background(), ac)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := a.State(llm.Name)
	if got := st.(*llm.AppState).Backend(); got != "remote_http https://user:xxxxx@llm.example.com (api_type open_ai)" {
		t.Fatalf("Backend() = %q", got)
	}
	a.Close()
}

func TestPrepareUnknownComponent(t *testing.T) {
	set, _ := factor.NewSet(llm.New())
	a, err := set.ConfigureApp(context.Background(), factortest.NewAppContext(t, factortest.NewApp(lockedapp.Component{ID: "a"}), ""))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Prepare(context.Background(), "nope"); err == nil {
		t.Fatal("Prepare of an unknown component succeeded")
	}
	// Host functions called without Prepare trap rather than guess.
	if _, err := factortest.TryCall(t, context.Background(), ifaces, llm.FermyonV2, "infer", "m", "p", cabi.None); err == nil {
		t.Fatal("infer without Prepare did not trap")
	}
}

// Instances share the app's backend: concurrent calls under -race.
func TestConcurrentCalls(t *testing.T) {
	b := newBackend(t)
	ctx := configure(t, remoteConfig(b.srv.URL, "open_ai"), "m")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prompt := fmt.Sprintf("prompt %d", i)
			res, err := factortest.TryCall(t, ctx, ifaces, llm.FermyonV2, "infer", "m", prompt, cabi.None)
			if err != nil || res[0].(cabi.Result).IsErr {
				t.Errorf("infer: %v %#v", err, res)
				return
			}
			if got := res[0].(cabi.Result).Value.([]any)[0]; got != "Echo: "+prompt {
				t.Errorf("infer(%q) = %q", prompt, got)
			}
		}()
	}
	wg.Wait()
	if n := b.count(); n != 16 {
		t.Fatalf("backend saw %d requests", n)
	}
}
