package llm

import (
	"context"
	"fmt"

	"github.com/wisp-dev/wisp/internal/component"
	"github.com/wisp-dev/wisp/internal/component/cabi"
)

// FermyonV2 is the interface name.
const FermyonV2 = "fermyon:spin/llm@2.0.0"

// Interfaces implements fermyon:spin/llm@2.0.0. (Spin 1's unversioned
// fermyon:spin/llm is not in Wisp's WIT set.)
func (*Factor) Interfaces() []component.Interface {
	return []component.Interface{{Name: FermyonV2, Funcs: map[string]component.HostFunc{
		"infer":               infer,
		"generate-embeddings": generateEmbeddings,
	}}}
}

// check applies the instance's ai_models grant, then requires a backend.
// The grant comes first, as in Spin, so that an app learns about a missing
// grant even before a backend is configured.
func (in *instance) check(model string) *llmError {
	if !in.models[model] {
		// Spin's case and message: guests may match on them.
		return &llmError{kind: errInvalidInput, msg: fmt.Sprintf(
			"The component does not have access to use '%s'. To give the component access, add '%s' to the 'ai_models' key for the component in your spin.toml manifest",
			model, model)}
	}
	if in.backend == nil {
		return &llmError{kind: errRuntime, msg: "no LLM backend is configured: add [llm_compute] with type = \"remote_http\", url and auth_token to the runtime config"}
	}
	return nil
}

func wasmErr(e *llmError) []any {
	v := cabi.Variant{Case: uint32(e.kind)}
	if e.kind != errModelNotSupported {
		v.Value = e.msg
	}
	return []any{cabi.Err(v)}
}

func infer(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	model, _ := args[0].(string)
	prompt, _ := args[1].(string)
	params := DefaultParams
	if opt, _ := args[2].(cabi.Option); opt.Some {
		if params, err = decodeParams(opt.Value); err != nil {
			return nil, err
		}
	}
	if e := in.check(model); e != nil {
		return wasmErr(e), nil
	}
	res, e := in.backend.infer(ctx, model, prompt, params)
	if e != nil {
		return wasmErr(e), nil
	}
	return []any{cabi.Ok([]any{res.Text, []any{res.PromptTokenCount, res.GeneratedTokenCount}})}, nil
}

// decodeParams reads the inferencing-params record. The host lifted it by
// the WIT, so a mismatch is a host bug, reported as one.
func decodeParams(v any) (Params, error) {
	f, ok := v.([]any)
	if !ok || len(f) != 6 {
		return Params{}, fmt.Errorf("llm: inferencing-params: unexpected value %T", v)
	}
	var p Params
	var ok1, ok2, ok3, ok4, ok5, ok6 bool
	p.MaxTokens, ok1 = f[0].(uint32)
	p.RepeatPenalty, ok2 = f[1].(float32)
	p.RepeatPenaltyLastNTokenCount, ok3 = f[2].(uint32)
	p.Temperature, ok4 = f[3].(float32)
	p.TopK, ok5 = f[4].(uint32)
	p.TopP, ok6 = f[5].(float32)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return Params{}, fmt.Errorf("llm: inferencing-params: unexpected field types %T %T %T %T %T %T", f...)
	}
	return p, nil
}

func generateEmbeddings(ctx context.Context, _ *component.Call, args []any) ([]any, error) {
	in, err := from(ctx)
	if err != nil {
		return nil, err
	}
	model, _ := args[0].(string)
	list, _ := args[1].([]any)
	text := make([]string, len(list))
	for i, v := range list {
		text[i], _ = v.(string)
	}
	if e := in.check(model); e != nil {
		return wasmErr(e), nil
	}
	res, e := in.backend.embed(ctx, model, text)
	if e != nil {
		return wasmErr(e), nil
	}
	embeddings := make([]any, len(res.Embeddings))
	for i, vec := range res.Embeddings {
		floats := make([]any, len(vec))
		for j, x := range vec {
			floats[j] = x
		}
		embeddings[i] = floats
	}
	return []any{cabi.Ok([]any{embeddings, []any{res.PromptTokenCount}})}, nil
}
