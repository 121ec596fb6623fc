// Package llm runs inference and computes embeddings on the models the
// host offers, through fermyon:spin/llm@2.0.0. The component must list
// the models it uses in spin.toml (ai_models = ["llama2-chat"]).
//
//	res, err := llm.Infer(llm.Llama2Chat, "Say hello", nil)
//	emb, err := llm.GenerateEmbeddings(llm.AllMiniLmL6V2, []string{"a", "b"})
package llm

// Models Spin knows by name; hosts may offer others.
const (
	Llama2Chat        = "llama2-chat"
	CodellamaInstruct = "codellama-instruct"
	AllMiniLmL6V2     = "all-minilm-l6-v2"
)

// InferencingParams tunes Infer; nil uses the host's defaults.
type InferencingParams struct {
	MaxTokens                    uint32
	RepeatPenalty                float32
	RepeatPenaltyLastNTokenCount uint32
	Temperature                  float32
	TopK                         uint32
	TopP                         float32
}

// DefaultParams are Spin's defaults.
var DefaultParams = InferencingParams{
	MaxTokens: 100, RepeatPenalty: 1.1, RepeatPenaltyLastNTokenCount: 64,
	Temperature: 0.8, TopK: 40, TopP: 0.9,
}

// InferencingResult is an inference's text and token counts.
type InferencingResult struct {
	Text                string
	PromptTokenCount    uint32
	GeneratedTokenCount uint32
}

// EmbeddingsResult holds one embedding per input text.
type EmbeddingsResult struct {
	Embeddings       [][]float32
	PromptTokenCount uint32
}
