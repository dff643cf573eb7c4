package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/simkit/vidurfmt"
)

// TestProfileExportVidur exports the H200 target's profile and reads it back as Vidur
// would (its default paths under data/profiling): every value is the bundle's, decode
// rows keyed per request, CPU overheads by batch size.
func TestProfileExportVidur(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := runCLI(t, "profile", "export", "--vidur", dir, "--target", h200)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, filepath.Join(dir, "data/profiling/compute/h200/Qwen/Qwen3-0.6B/attention.csv"))
	assert.Contains(t, stderr, "decode rows restated")

	p, err := vidurfmt.LoadProfileFolder(filepath.Join(dir, "data", "profiling"), "h200", "Qwen/Qwen3-0.6B", "h200_dgx")
	require.NoError(t, err)
	m, err := vidurfmt.LookupModel("Qwen/Qwen3-0.6B")
	require.NoError(t, err)
	mlp, err := p.MLPFor(m, 1)
	require.NoError(t, err)
	assert.Len(t, mlp, 133)
	attn, err := p.AttentionFor(m, 256, 1)
	require.NoError(t, err)
	assert.Len(t, attn, 1015)
	// The bundle's decode row for 64 requests reading 16,384 cached tokens in all
	// (0.632912 ms) is Vidur's row for 64 requests of 256 cached tokens each.
	found := false
	for _, r := range attn {
		if r.PrefillChunkSize == 0 && r.BatchSize == 64 && r.KVCacheSize == 256 {
			found = true
			assert.Equal(t, 0.632912, r.Op("attn_decode").Median)
		}
	}
	assert.True(t, found, "decode row (64, 256)")
	cpu, err := p.CPUFor("Qwen/Qwen3-0.6B", 1)
	require.NoError(t, err)
	var batches []int
	for _, r := range cpu {
		batches = append(batches, r.BatchSize)
	}
	assert.Equal(t, []int{1, 2, 4, 8, 16, 32, 64, 128, 256}, batches, "decode-only rows, one per batch size")
	assert.Nil(t, p.AllReduce, "no network files at tp 1")

	var manifest vidurExportManifest
	data, err := os.ReadFile(filepath.Join(dir, "simval-export.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &manifest))
	assert.Equal(t, "h200_dgx", manifest.NetworkDevice)
	assert.Len(t, manifest.Files, 3)

	_, stderr, code = runCLI(t, "profile", "export", "--vidur", dir, "--target", "fixture-sarathi-qwen3-0.6b")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "has no Vidur device")
}
