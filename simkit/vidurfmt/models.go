package vidurfmt

import (
	"fmt"
	"slices"
	"strings"
)

// ModelConfig is one entry of Vidur's vidur/config/model_config.py, field for field,
// plus two facts Vidur does not model and simval needs for its default mode:
// HeadDim (the real head dimension; Vidur always uses EmbeddingDim/NumQHeads) and
// TiedEmbeddings.
type ModelConfig struct {
	Name                  string  `json:"name"`
	NumLayers             int     `json:"num_layers"`
	NumQHeads             int     `json:"num_q_heads"`
	NumKVHeads            int     `json:"num_kv_heads"`
	EmbeddingDim          int     `json:"embedding_dim"`
	MLPHiddenDim          int     `json:"mlp_hidden_dim"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	UseGatedMLP           bool    `json:"use_gated_mlp"`
	UseBias               bool    `json:"use_bias"`
	UseQKVBias            bool    `json:"use_qkv_bias"`
	Activation            string  `json:"activation"` // "silu" or "gelu"
	Norm                  string  `json:"norm"`       // "rms_norm" or "layer_norm"
	PostAttnNorm          bool    `json:"post_attn_norm"`
	VocabSize             int     `json:"vocab_size"`
	IsNeoxStyle           bool    `json:"is_neox_style"`
	RopeTheta             float64 `json:"rope_theta"`
	PartialRotaryFactor   float64 `json:"partial_rotary_factor"`
	NoTensorParallel      bool    `json:"no_tensor_parallel"`

	// HeadDim is the model's real head dimension (0 where it equals Vidur's
	// EmbeddingDim/NumQHeads).
	HeadDim        int  `json:"head_dim,omitempty"`
	TiedEmbeddings bool `json:"tied_embeddings,omitempty"`
}

// VidurHeadDim is the head dimension Vidur computes everywhere: EmbeddingDim // NumQHeads.
func (m ModelConfig) VidurHeadDim() int { return m.EmbeddingDim / m.NumQHeads }

// RealHeadDim is HeadDim where set, else Vidur's.
func (m ModelConfig) RealHeadDim() int {
	if m.HeadDim > 0 {
		return m.HeadDim
	}
	return m.VidurHeadDim()
}

// Validate checks what Vidur's ParamCounter asserts for tensor parallelism tp and
// pipeline stages pp, plus positivity.
func (m ModelConfig) Validate(tp, pp int) error {
	switch {
	case m.NumLayers < 1 || m.NumQHeads < 1 || m.NumKVHeads < 1 || m.EmbeddingDim < 1 || m.MLPHiddenDim < 1:
		return fmt.Errorf("model %s: layers, heads, embedding and MLP dims must be ≥ 1", m.Name)
	case tp < 1 || pp < 1:
		return fmt.Errorf("model %s: tp and pp must be ≥ 1, got %d and %d", m.Name, tp, pp)
	case m.NumQHeads%tp != 0:
		return fmt.Errorf("model %s: %d query heads do not divide by tp %d", m.Name, m.NumQHeads, tp)
	case m.NumLayers%pp != 0:
		return fmt.Errorf("model %s: %d layers do not divide by pp %d", m.Name, m.NumLayers, pp)
	case m.EmbeddingDim%tp != 0:
		return fmt.Errorf("model %s: embedding dim %d does not divide by tp %d", m.Name, m.EmbeddingDim, tp)
	case m.EmbeddingDim%m.NumQHeads != 0:
		return fmt.Errorf("model %s: embedding dim %d does not divide by %d query heads", m.Name, m.EmbeddingDim, m.NumQHeads)
	}
	return nil
}

// llama2 is Llama2ModelConfig's defaults, which most entries inherit.
func llama2(name string, layers, q, kv, emb, mlp, maxPos, vocab int, theta float64) ModelConfig {
	return ModelConfig{
		Name: name, NumLayers: layers, NumQHeads: q, NumKVHeads: kv, EmbeddingDim: emb, MLPHiddenDim: mlp,
		MaxPositionEmbeddings: maxPos, UseGatedMLP: true, Activation: "silu", Norm: "rms_norm",
		PostAttnNorm: true, VocabSize: vocab, IsNeoxStyle: true, RopeTheta: theta, PartialRotaryFactor: 1,
	}
}

// models is the built-in table: Vidur's entries at 7d47513 and Qwen3-0.6B (§10).
var models = func() []ModelConfig {
	phi2 := llama2("microsoft/phi-2", 32, 32, 32, 2560, 10240, 2048, 51200, 10000)
	phi2.UseGatedMLP, phi2.UseBias, phi2.UseQKVBias = false, true, true
	phi2.Activation, phi2.Norm, phi2.PostAttnNorm = "gelu", "layer_norm", false
	phi2.PartialRotaryFactor, phi2.NoTensorParallel = 0.4, true

	qwen72 := llama2("Qwen/Qwen-72B", 80, 64, 64, 8192, 24576, 32768, 152064, 1e6)
	qwen72.UseQKVBias = true

	qwen3 := llama2("Qwen/Qwen3-0.6B", 28, 16, 8, 1024, 3072, 40960, 151936, 1e6)
	qwen3.HeadDim, qwen3.TiedEmbeddings = 128, true

	return []ModelConfig{
		llama2("codellama/CodeLlama-34b-Instruct-hf", 48, 64, 8, 8192, 22016, 16384, 32768, 1e6),
		llama2("meta-llama/Llama-2-7b-hf", 32, 32, 32, 4096, 11008, 4096, 32768, 10000),
		llama2("meta-llama/Llama-2-70b-hf", 80, 64, 8, 8192, 28672, 4096, 32768, 10000),
		llama2("meta-llama/Meta-Llama-3-8B", 32, 32, 8, 4096, 14336, 4096, 128256, 500000),
		llama2("meta-llama/Meta-Llama-3-70B", 80, 64, 8, 8192, 28672, 8192, 128256, 500000),
		llama2("internlm/internlm-20b", 60, 40, 40, 5120, 13824, 4096, 103168, 10000),
		llama2("internlm/internlm2-20b", 48, 48, 8, 6144, 16384, 32768, 92544, 1e6),
		phi2,
		qwen72,
		qwen3,
	}
}()

// LookupModel returns the built-in configuration named as Vidur names it
// (get_name(), e.g. "codellama/CodeLlama-34b-Instruct-hf").
func LookupModel(name string) (ModelConfig, error) {
	for _, m := range models {
		if m.Name == name {
			return m, nil
		}
	}
	return ModelConfig{}, fmt.Errorf("unknown Vidur model %q (known: %s)", name, strings.Join(ModelNames(), ", "))
}

// ModelNames lists the built-in configurations, sorted.
func ModelNames() []string {
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name
	}
	slices.Sort(names)
	return names
}
