package targets

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbeddedCatalog(t *testing.T) {
	all, err := All()
	require.NoError(t, err)
	var names []string
	for _, tg := range all {
		names = append(names, tg.Name)
	}
	assert.Equal(t, []string{"fixture-sarathi-qwen3-0.6b", "h200-hfcb-qwen3-0.6b", "h200x2-hfcb-tp2-qwen3-0.6b"}, names)

	_, err = Lookup("nope")
	assert.ErrorContains(t, err, `unknown target "nope"`)
	assert.ErrorContains(t, err, "h200-hfcb-qwen3-0.6b")
}

func TestSimOptionsPicksThePredictorForTheEngine(t *testing.T) {
	tests := []struct {
		target, wantPredictor string // the profile's engine decides: hfcb bundles get the hfcb predictor
	}{
		{"h200-hfcb-qwen3-0.6b", "*simkit.hfcbPredictor"},
		{"fixture-sarathi-qwen3-0.6b", "*simkit.profilePredictor"},
	}
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			tg, err := Lookup(tc.target)
			require.NoError(t, err)
			opts, err := tg.SimOptions(true, false)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPredictor, fmt.Sprintf("%T", opts.Predictor))
			assert.NotNil(t, opts.Profile)
			assert.True(t, opts.CPUOverhead)
		})
	}
}

func TestH200BaselinesRecorded(t *testing.T) {
	tg, err := Lookup("h200-hfcb-qwen3-0.6b")
	require.NoError(t, err)
	bl, err := tg.Baselines()
	require.NoError(t, err)
	assert.Equal(t, []string{"batched-burst", "cold-start-burst", "long-prompt-mixed", "poisson-moderate", "queue-free-spaced"}, bl)
}

const goodTarget = `name: t1
gpu: NVIDIA H200
engine: hfcb
timestamps: engine
model: {name: m, layers: 2, hidden: 8, q_heads: 2, kv_heads: 1, head_dim: 4, max_context: 100}
settings: {scheduler: hfcb}
`

func TestLoadRejectsBadTargets(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", goodTarget + "colour: red\n", "catalog/t1/target.yaml: line 7: field colour: unknown field; " +
			"the known fields here are name, description, gpu, engine, timestamps, model, settings, profile"},
		{"misspelled nested field", strings.Replace(goodTarget, "scheduler: hfcb", "schedular: hfcb", 1),
			"catalog/t1/target.yaml: line 6: field settings.schedular: unknown field"},
		{"wrong kind", strings.Replace(goodTarget, "layers: 2", "layers: two", 1),
			`catalog/t1/target.yaml: line 5: field model.layers: got "two", want an integer`},
		{"missing gpu", strings.Replace(goodTarget, "gpu: NVIDIA H200\n", "", 1), "catalog/t1/target.yaml: line 1: field gpu: required"},
		{"missing context", strings.Replace(goodTarget, ", max_context: 100", "", 1),
			"catalog/t1/target.yaml: line 5: field model.max_context: required: the longest prompt + output"},
		{"bad timestamps", strings.Replace(goodTarget, "timestamps: engine", "timestamps: wall", 1),
			`catalog/t1/target.yaml: line 4: field timestamps: must be engine or client, got "wall"`},
		{"name differs from folder", "name: t2" + goodTarget[len("name: t1"):],
			`catalog/t1/target.yaml: line 1: field name: "t2" differs from its folder "t1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"catalog/t1/target.yaml": {Data: []byte(tc.yaml)}}
			_, err := Load(fsys, "catalog")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	fsys := fstest.MapFS{"catalog/t1/target.yaml": {Data: []byte(goodTarget)}}
	all, err := Load(fsys, "catalog")
	require.NoError(t, err)
	_, err = all[0].LoadProfile()
	assert.ErrorContains(t, err, "has no profile bundle")
}
