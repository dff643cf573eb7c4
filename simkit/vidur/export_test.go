package vidur_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
)

func TestRestateProfile(t *testing.T) {
	m, err := vidurfmt.LookupModel("Qwen/Qwen3-0.6B")
	require.NoError(t, err)
	stats := func(median float64) []vidurfmt.OpStats {
		n := math.NaN()
		return []vidurfmt.OpStats{{Min: n, Max: n, Mean: n, Median: median, Std: n}}
	}
	mlp := &vidurfmt.MLPTable{File: "mlp.csv", Rows: []vidurfmt.MLPRow{
		{NHead: 16, NKVHead: 8, NEmbd: 1024, NExpandedEmbd: 3072, VocabSize: 151936, UseGatedMLP: true, NumTokens: 8, TP: 1, Ops: stats(0.1)},
		{NHead: 32, NKVHead: 8, NEmbd: 4096, NExpandedEmbd: 14336, VocabSize: 128256, UseGatedMLP: true, NumTokens: 8, TP: 1, Ops: stats(0.2)},
	}}
	row := func(bs, chunk, kv int) vidurfmt.AttentionRow {
		return vidurfmt.AttentionRow{NEmbd: 1024, NQHead: 16, NKVHead: 8, BlockSize: 256, TP: 1, BatchSize: bs,
			PrefillChunkSize: chunk, KVCacheSize: kv, IsPrefill: chunk > 0, Ops: stats(1)}
	}
	attn := &vidurfmt.AttentionTable{File: "attention.csv", Rows: []vidurfmt.AttentionRow{row(1, 64, 16384), row(64, 0, 16384), row(1, 0, 1024)}}
	cpu := []vidurfmt.CPUOverheadRow{
		{ModelName: "Qwen/Qwen3-0.6B", TP: 1, BatchSize: 1, NumTokens: 1, Schedule: 0.1},
		{ModelName: "Qwen/Qwen3-0.6B", TP: 1, BatchSize: 1, NumTokens: 512, Schedule: 0.3},
		{ModelName: "Qwen/Qwen3-0.6B", TP: 1, BatchSize: 4, NumTokens: 4, Schedule: 0.2},
	}
	ex, err := vidur.RestateProfile(mlp, attn, cpu, m, 1, true)
	require.NoError(t, err)
	assert.Len(t, ex.MLP.Rows, 1, "only the model's shape")
	kv := []int{}
	for _, r := range ex.Attention.Rows {
		kv = append(kv, r.KVCacheSize)
	}
	assert.Equal(t, []int{16384, 256, 1024}, kv, "a prefill row as measured; decode rows per request (16384/64)")
	assert.Equal(t, []int{1, 4}, []int{ex.CPU[0].BatchSize, ex.CPU[1].BatchSize}, "decode-only CPU rows")

	notPacked, err := vidur.RestateProfile(mlp, attn, nil, m, 1, false)
	require.NoError(t, err)
	assert.Equal(t, 16384, notPacked.Attention.Rows[1].KVCacheSize, "a bundle keyed per request is left alone")
	assert.Nil(t, notPacked.CPU)
	assert.Contains(t, notPacked.Notes, "no cpu_overheads.csv in the bundle: Vidur can only run with CPU overhead skipped")

	_, err = vidur.RestateProfile(mlp, attn, cpu, m, 2, true)
	assert.ErrorContains(t, err, "no row has Qwen/Qwen3-0.6B's shape")
}
