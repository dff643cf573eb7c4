package vidurfmt

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookupModel(t *testing.T) {
	m, err := LookupModel("codellama/CodeLlama-34b-Instruct-hf")
	require.NoError(t, err)
	assert.Equal(t, ModelConfig{Name: "codellama/CodeLlama-34b-Instruct-hf", NumLayers: 48, NumQHeads: 64, NumKVHeads: 8,
		EmbeddingDim: 8192, MLPHiddenDim: 22016, MaxPositionEmbeddings: 16384, UseGatedMLP: true, Activation: "silu",
		Norm: "rms_norm", PostAttnNorm: true, VocabSize: 32768, IsNeoxStyle: true, RopeTheta: 1e6, PartialRotaryFactor: 1}, m)
	assert.Equal(t, 128, m.VidurHeadDim())

	q, err := LookupModel("Qwen/Qwen3-0.6B")
	require.NoError(t, err)
	assert.Equal(t, 64, q.VidurHeadDim(), "Vidur's hidden/heads")
	assert.Equal(t, 128, q.RealHeadDim(), "the model's real head dimension")
	assert.Equal(t, [4]int{28, 16, 8, 3072}, [4]int{q.NumLayers, q.NumQHeads, q.NumKVHeads, q.MLPHiddenDim})
	assert.Equal(t, 40960, q.MaxPositionEmbeddings)
	assert.True(t, q.TiedEmbeddings)

	phi, err := LookupModel("microsoft/phi-2")
	require.NoError(t, err)
	assert.Equal(t, "gelu", phi.Activation)
	assert.False(t, phi.UseGatedMLP)

	_, err = LookupModel("nobody/model")
	assert.ErrorContains(t, err, `unknown Vidur model "nobody/model" (known: Qwen/Qwen-72B, Qwen/Qwen3-0.6B,`)
}

func TestModelValidate(t *testing.T) {
	q, err := LookupModel("Qwen/Qwen3-0.6B")
	require.NoError(t, err)
	assert.NoError(t, q.Validate(8, 28))
	assert.ErrorContains(t, q.Validate(3, 1), "16 query heads do not divide by tp 3")
	assert.ErrorContains(t, q.Validate(1, 8), "28 layers do not divide by pp 8")
	assert.ErrorContains(t, q.Validate(0, 1), "tp and pp must be ≥ 1")
}
