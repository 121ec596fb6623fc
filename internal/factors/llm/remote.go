package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Params are the WIT inferencing-params.
type Params struct {
	MaxTokens                    uint32
	RepeatPenalty                float32
	RepeatPenaltyLastNTokenCount uint32
	Temperature                  float32
	TopK                         uint32
	TopP                         float32
}

// DefaultParams are what infer uses when the guest passes none (Spin's).
var DefaultParams = Params{MaxTokens: 100, RepeatPenalty: 1.1, RepeatPenaltyLastNTokenCount: 64, Temperature: 0.8, TopK: 40, TopP: 0.9}

// InferResult is the WIT inferencing-result.
type InferResult struct {
	Text                string
	PromptTokenCount    uint32
	GeneratedTokenCount uint32
}

// EmbedResult is the WIT embeddings-result.
type EmbedResult struct {
	Embeddings       [][]float32
	PromptTokenCount uint32
}

// Error cases of the WIT error variant.
const (
	errModelNotSupported = iota
	errRuntime
	errInvalidInput
)

// llmError is a failure the guest sees as the WIT error variant.
type llmError struct {
	kind int
	msg  string
}

func (e *llmError) Error() string { return e.msg }

// remote is a remote_http backend.
type remote struct {
	base   *url.URL
	token  string
	api    string // APIDefault or APIOpenAI
	limits Limits
	client *http.Client
}

func newRemote(base *url.URL, token, api string, limits Limits) *remote {
	return &remote{
		base:   base,
		token:  token,
		api:    api,
		limits: limits,
		// Its own transport, so Close can drop its idle connections; no
		// outbound policy: the backend is the operator's, not the guest's.
		client: &http.Client{Timeout: limits.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
	}
}

// String describes the backend for summaries: the URL without credentials.
func (r *remote) String() string {
	return fmt.Sprintf("remote_http %s (api_type %s)", r.base.Redacted(), r.api)
}

// runtimeErr builds a runtime-error; the token is scrubbed from the message
// in case a backend echoed it back.
func (r *remote) runtimeErr(format string, args ...any) *llmError {
	msg := fmt.Sprintf(format, args...)
	if r.token != "" {
		msg = strings.ReplaceAll(msg, r.token, "[redacted]")
	}
	return &llmError{kind: errRuntime, msg: msg}
}

// Request and response bodies. Spin's default API (its cloud-gpu plugin)
// uses camelCase; the OpenAI API snake_case. Required response fields are
// pointers so that a response missing them is rejected, as Spin does.
type (
	defaultInferRequest struct {
		Model   string         `json:"model"`
		Prompt  string         `json:"prompt"`
		Options defaultOptions `json:"options"`
	}
	defaultOptions struct {
		MaxTokens                    uint32  `json:"maxTokens"`
		RepeatPenalty                float32 `json:"repeatPenalty"`
		RepeatPenaltyLastNTokenCount uint32  `json:"repeatPenaltyLastNTokenCount"`
		Temperature                  float32 `json:"temperature"`
		TopK                         uint32  `json:"topK"`
		TopP                         float32 `json:"topP"`
	}
	defaultInferResponse struct {
		Text  *string `json:"text"`
		Usage *struct {
			PromptTokenCount    uint32 `json:"promptTokenCount"`
			GeneratedTokenCount uint32 `json:"generatedTokenCount"`
		} `json:"usage"`
	}
	defaultEmbedRequest struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	defaultEmbedResponse struct {
		Embeddings *[][]float32 `json:"embeddings"`
		Usage      *struct {
			PromptTokenCount uint32 `json:"promptTokenCount"`
		} `json:"usage"`
	}

	openAIChatRequest struct {
		Messages []openAIMessage `json:"messages"`
		Model    string          `json:"model"`
		// Spin maps max-tokens and repeat-penalty onto these two and sends
		// no other parameter; so does Wisp, for the same results.
		MaxCompletionTokens uint32  `json:"max_completion_tokens"`
		FrequencyPenalty    float32 `json:"frequency_penalty"`
	}
	openAIMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	openAIChatResponse struct {
		Choices *[]struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage *struct {
			CompletionTokens uint32 `json:"completion_tokens"`
			PromptTokens     uint32 `json:"prompt_tokens"`
		} `json:"usage"`
		Error *openAIError `json:"error"`
	}
	openAIEmbedRequest struct {
		Input []string `json:"input"`
		Model string   `json:"model"`
	}
	openAIEmbedResponse struct {
		Data *[]struct {
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
		Usage *struct {
			PromptTokens uint32 `json:"prompt_tokens"`
		} `json:"usage"`
		Error *openAIError `json:"error"`
	}
	openAIError struct {
		Message string `json:"message"`
	}
)

// Endpoint paths. They are absolute, so they replace any path in the
// configured url, exactly as Spin's Url::join does.
const (
	pathInfer        = "/infer"
	pathEmbed        = "/embed"
	pathChat         = "/v1/chat/completions"
	pathOpenAIEmbeds = "/v1/embeddings"
)

func (r *remote) infer(ctx context.Context, model, prompt string, p Params) (InferResult, *llmError) {
	if r.api == APIOpenAI {
		var resp openAIChatResponse
		if err := r.post(ctx, pathChat, openAIChatRequest{
			Messages:            []openAIMessage{{Role: "user", Content: prompt}},
			Model:               model,
			MaxCompletionTokens: p.MaxTokens,
			FrequencyPenalty:    p.RepeatPenalty,
		}, &resp); err != nil {
			return InferResult{}, err
		}
		if resp.Error != nil {
			return InferResult{}, r.runtimeErr("%s", resp.Error.Message)
		}
		if resp.Choices == nil || resp.Usage == nil {
			return InferResult{}, r.runtimeErr("POST %s: malformed response: missing \"choices\" or \"usage\"", pathChat)
		}
		res := InferResult{PromptTokenCount: resp.Usage.PromptTokens, GeneratedTokenCount: resp.Usage.CompletionTokens}
		if len(*resp.Choices) > 0 { // Spin answers "" for no choice
			res.Text = (*resp.Choices)[0].Message.Content
		}
		return res, nil
	}
	var resp defaultInferResponse
	if err := r.post(ctx, pathInfer, defaultInferRequest{
		Model:  model,
		Prompt: prompt,
		Options: defaultOptions{
			MaxTokens:                    p.MaxTokens,
			RepeatPenalty:                p.RepeatPenalty,
			RepeatPenaltyLastNTokenCount: p.RepeatPenaltyLastNTokenCount,
			Temperature:                  p.Temperature,
			TopK:                         p.TopK,
			TopP:                         p.TopP,
		},
	}, &resp); err != nil {
		return InferResult{}, err
	}
	if resp.Text == nil || resp.Usage == nil {
		return InferResult{}, r.runtimeErr("POST %s: malformed response: missing \"text\" or \"usage\"", pathInfer)
	}
	return InferResult{Text: *resp.Text, PromptTokenCount: resp.Usage.PromptTokenCount, GeneratedTokenCount: resp.Usage.GeneratedTokenCount}, nil
}

func (r *remote) embed(ctx context.Context, model string, input []string) (EmbedResult, *llmError) {
	if r.api == APIOpenAI {
		var resp openAIEmbedResponse
		if err := r.post(ctx, pathOpenAIEmbeds, openAIEmbedRequest{Input: input, Model: model}, &resp); err != nil {
			return EmbedResult{}, err
		}
		if resp.Error != nil {
			return EmbedResult{}, r.runtimeErr("%s", resp.Error.Message)
		}
		if resp.Data == nil || resp.Usage == nil {
			return EmbedResult{}, r.runtimeErr("POST %s: malformed response: missing \"data\" or \"usage\"", pathOpenAIEmbeds)
		}
		res := EmbedResult{PromptTokenCount: resp.Usage.PromptTokens, Embeddings: make([][]float32, len(*resp.Data))}
		for i, d := range *resp.Data {
			res.Embeddings[i] = d.Embedding
		}
		return res, nil
	}
	var resp defaultEmbedResponse
	if err := r.post(ctx, pathEmbed, defaultEmbedRequest{Model: model, Input: input}, &resp); err != nil {
		return EmbedResult{}, err
	}
	if resp.Embeddings == nil || resp.Usage == nil {
		return EmbedResult{}, r.runtimeErr("POST %s: malformed response: missing \"embeddings\" or \"usage\"", pathEmbed)
	}
	return EmbedResult{Embeddings: *resp.Embeddings, PromptTokenCount: resp.Usage.PromptTokenCount}, nil
}

// post sends body as JSON to path and decodes a 2xx response into out.
func (r *remote) post(ctx context.Context, path string, body, out any) *llmError {
	data, err := json.Marshal(body)
	if err != nil {
		return r.runtimeErr("POST %s: encoding the request: %v", path, err)
	}
	u := r.base.ResolveReference(&url.URL{Path: path})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(data))
	if err != nil {
		return r.runtimeErr("POST %s: %v", path, err)
	}
	// Spin's spelling; the scheme is case-insensitive (RFC 9110).
	req.Header.Set("Authorization", "bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() && ctx.Err() == nil {
			return r.runtimeErr("POST %s: no response from the LLM backend within %v", path, r.limits.Timeout)
		}
		// net/http's errors name the URL without its password.
		return r.runtimeErr("POST %s request error: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, r.limits.MaxResponseBytes+1))
	if err != nil {
		return r.runtimeErr("POST %s: reading the response: %v", path, err)
	}
	if int64(len(raw)) > r.limits.MaxResponseBytes {
		return r.runtimeErr("POST %s: response exceeds the limit of %d bytes", path, r.limits.MaxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r.runtimeErr("POST %s: the LLM backend answered %s%s", path, resp.Status, errorDetail(raw))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return r.runtimeErr("POST %s: malformed response: %v", path, err)
	}
	return nil
}

// errorDetail extracts a short explanation from an error response: the
// OpenAI-style {"error": {"message": ...}} or {"error": "..."}, else the
// start of a text body.
func errorDetail(raw []byte) string {
	var env struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &env) == nil && len(env.Error) > 0 {
		var e openAIError
		var s string
		if json.Unmarshal(env.Error, &e) == nil && e.Message != "" {
			return ": " + e.Message
		}
		if json.Unmarshal(env.Error, &s) == nil && s != "" {
			return ": " + s
		}
	}
	text := strings.TrimSpace(string(raw))
	if text == "" || !utf8.ValidString(text) {
		return ""
	}
	const max = 200
	if len(text) > max {
		text = strings.ToValidUTF8(text[:max], "") + "…"
	}
	return ": " + text
}
