//go:build wasip1

package llm

import (
	"errors"
	"math"

	"github.com/wisp-dev/wisp/sdk/go/internal/cabi"
)

//go:wasmimport fermyon:spin/llm@2.0.0 infer
func infer(model, prompt string, hasParams, maxTokens uint32, repeatPenalty float32, lastN uint32, temperature float32, topK uint32, topP float32, ret uint32)

//go:wasmimport fermyon:spin/llm@2.0.0 generate-embeddings
func generateEmbeddings(model string, text, n, ret uint32)

// ErrModelNotSupported: the host does not offer the model, or the
// component may not use it.
var ErrModelNotSupported = errors.New("llm: model not supported")

// Infer runs model on prompt.
func Infer(model, prompt string, params *InferencingParams) (*InferencingResult, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	ret := cabi.Alloc(20, 4)
	var p InferencingParams
	has := uint32(0)
	if params != nil {
		p, has = *params, 1
	}
	infer(model, prompt, has, p.MaxTokens, p.RepeatPenalty, p.RepeatPenaltyLastNTokenCount, p.Temperature, p.TopK, p.TopP, ret)
	if err := result(ret); err != nil {
		return nil, err
	}
	return &InferencingResult{
		Text:                cabi.String(cabi.U32(ret, 4), cabi.U32(ret, 8)),
		PromptTokenCount:    cabi.U32(ret, 12),
		GeneratedTokenCount: cabi.U32(ret, 16),
	}, nil
}

// GenerateEmbeddings computes an embedding of each text with model.
func GenerateEmbeddings(model string, text []string) (*EmbeddingsResult, error) {
	m := cabi.Save()
	defer cabi.Release(m)
	list := uint32(0)
	if len(text) > 0 {
		list = cabi.Alloc(uint32(8*len(text)), 4)
		for i, s := range text {
			p, n := cabi.PutString(s)
			cabi.PutU32(list, uint32(8*i), p)
			cabi.PutU32(list, uint32(8*i+4), n)
		}
	}
	ret := cabi.Alloc(16, 4)
	generateEmbeddings(model, list, uint32(len(text)), ret)
	if err := result(ret); err != nil {
		return nil, err
	}
	outer, n := cabi.U32(ret, 4), cabi.U32(ret, 8)
	res := &EmbeddingsResult{Embeddings: make([][]float32, n), PromptTokenCount: cabi.U32(ret, 12)}
	for i := range n {
		p, k := cabi.U32(outer, 8*i), cabi.U32(outer, 8*i+4)
		v := make([]float32, k)
		for j := range k {
			v[j] = math.Float32frombits(cabi.U32(p, 4*j))
		}
		res.Embeddings[i] = v
	}
	return res, nil
}

// result reads result<_, error> at ret (error at ret+4: model-not-supported,
// runtime-error(string), invalid-input(string)).
func result(ret uint32) error {
	if cabi.U8(ret, 0) == 0 {
		return nil
	}
	switch cabi.U8(ret, 4) {
	case 0:
		return ErrModelNotSupported
	case 1:
		return errors.New("llm: runtime error: " + cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12)))
	default:
		return errors.New("llm: invalid input: " + cabi.String(cabi.U32(ret, 8), cabi.U32(ret, 12)))
	}
}
