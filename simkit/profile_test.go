package simkit

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureFS copies the fixture bundle into a MapFS under "p", with edits applied to
// the named files.
func fixtureFS(t *testing.T, edit map[string]func(string) string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir("testdata/fixture-profile")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile("testdata/fixture-profile/" + e.Name())
		require.NoError(t, err)
		s := string(b)
		if f := edit[e.Name()]; f != nil {
			s = f(s)
		}
		fsys["p/"+e.Name()] = &fstest.MapFile{Data: []byte(s)}
	}
	for name, f := range edit {
		if _, ok := fsys["p/"+name]; !ok {
			fsys["p/"+name] = &fstest.MapFile{Data: []byte(f(""))}
		}
	}
	return fsys
}

// replaceCell sets the cell of column col on data line line (1 = first data row).
func replaceCell(col string, line int, value string) func(string) string {
	return func(s string) string {
		rows := strings.Split(s, "\n")
		header := strings.Split(rows[0], ",")
		for i, h := range header {
			if h == col {
				cells := strings.Split(rows[line], ",")
				cells[i] = value
				rows[line] = strings.Join(cells, ",")
			}
		}
		return strings.Join(rows, "\n")
	}
}

func TestLoadFixtureProfile(t *testing.T) {
	p := loadFixture(t)
	assert.Equal(t, SourceFixture, p.Provenance.Source)
	assert.Equal(t, "2025-11-28", p.Provenance.Date)
	assert.Equal(t, qwen3(), p.Provenance.Model)
	assert.True(t, p.HasCPU())
	assert.Contains(t, p.MLPOps(), "lm_head")
	assert.NotNil(t, p.kvSave)
	assert.Nil(t, p.allReduce)
}

func TestLoadProfileErrors(t *testing.T) {
	dropColumn := func(col string) func(string) string {
		return func(s string) string { return strings.Replace(s, col, "renamed", 1) }
	}
	tests := []struct {
		name string
		edit map[string]func(string) string
		want string
	}{
		{"missing key column", map[string]func(string) string{"mlp.csv": dropColumn("num_tokens")},
			`p/mlp.csv: missing column "num_tokens"`},
		{"non-numeric", map[string]func(string) string{"mlp.csv": replaceCell("time_stats.add.median", 3, "fast")},
			`p/mlp.csv line 4, column 49 (time_stats.add.median): "fast" is not a number`},
		{"NaN", map[string]func(string) string{"attention.csv": replaceCell("time_stats.attn_decode.median", 30, "NaN")},
			`p/attention.csv line 31, column 14 (time_stats.attn_decode.median): NaN is not a time or size`},
		{"negative", map[string]func(string) string{"cpu_overheads.csv": replaceCell("schedule_median", 2, "-0.2")},
			`p/cpu_overheads.csv line 3, column 4 (schedule_median): -0.2 is negative`},
		{"empty where needed", map[string]func(string) string{"attention.csv": replaceCell("time_stats.attn_prefill.median", 1, "")},
			`p/attention.csv line 2, column 9 (time_stats.attn_prefill.median): empty, expected a number`},
		{"model shape column", map[string]func(string) string{"mlp.csv": replaceCell("n_embd", 2, "2048")},
			`p/mlp.csv line 3, column 68 (n_embd): 2048, but provenance model.hidden is 1024`},
		{"cpu without its columns", map[string]func(string) string{"cpu_overheads.csv": dropColumn("ray_comm_time_mean")},
			`p/cpu_overheads.csv: missing column "ray_comm_time_mean" (or give cpu_total_median)`},
		{"cpu of another model", map[string]func(string) string{"cpu_overheads.csv": replaceCell("model_name", 1, "Llama")},
			`p/cpu_overheads.csv line 2, column 1 (model_name): "Llama", but provenance model.name is "Qwen/Qwen3-0.6B"`},
		{"unknown provenance field", map[string]func(string) string{"provenance.yaml": func(s string) string { return s + "colour: red\n" }},
			"p/provenance.yaml: yaml: unmarshal errors:\n  line 33: field colour not found"},
		{"bad source", map[string]func(string) string{"provenance.yaml": func(s string) string {
			return strings.Replace(s, "source: fixture", "source: guessed", 1)
		}}, `p/provenance.yaml: source "guessed" is not one of measured, fixture, template, fallback`},
		{"missing head_dim", map[string]func(string) string{"provenance.yaml": func(s string) string {
			return strings.Replace(s, "  head_dim: 128\n", "", 1)
		}}, "p/provenance.yaml: model.head_dim is missing or not positive"},
		{"all rows for another tp", map[string]func(string) string{"provenance.yaml": func(s string) string {
			return strings.Replace(s, "tp: 1", "tp: 2", 1)
		}}, "p/mlp.csv: no rows for tp 2"},
		{"ragged csv", map[string]func(string) string{"mlp.csv": func(s string) string { return s + "1,2\n" }},
			"p/mlp.csv: record on line 9: wrong number of fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadProfile(fixtureFS(t, tc.edit), "p")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := LoadProfile(fstest.MapFS{}, "nowhere")
	assert.ErrorContains(t, err, "nowhere/provenance.yaml")
}

func TestLoadProfileVariants(t *testing.T) {
	t.Run("attention without kv_cache_save", func(t *testing.T) {
		p, err := LoadProfile(fixtureFS(t, map[string]func(string) string{"attention.csv": func(s string) string {
			return strings.ReplaceAll(s, "attn_kv_cache_save", "unused_op")
		}}), "p")
		require.NoError(t, err)
		assert.Nil(t, p.kvSave)
	})
	t.Run("cpu total and 2-D", func(t *testing.T) {
		p, err := LoadProfile(fixtureFS(t, map[string]func(string) string{"cpu_overheads.csv": func(string) string {
			return "batch_size,num_tokens,cpu_total_median,extra\n1,1,2,x\n1,512,4,x\n64,64,3,x\n64,512,5,x\n"
		}}), "p")
		require.NoError(t, err)
		require.NotNil(t, p.cpu2)
		assert.Nil(t, p.cpu)
	})
	t.Run("no cpu file", func(t *testing.T) {
		fsys := fixtureFS(t, nil)
		delete(fsys, "p/cpu_overheads.csv")
		p, err := LoadProfile(fsys, "p")
		require.NoError(t, err)
		assert.False(t, p.HasCPU())
	})
}

func TestCheckFor(t *testing.T) {
	p := loadFixture(t)
	require.NoError(t, p.CheckFor(qwen3(), "nvidia h200", "paged|sdpa"))

	other := qwen3()
	other.HeadDim = 64
	assert.EqualError(t, p.CheckFor(other, "NVIDIA H200", "paged|sdpa"),
		"profile fixture-profile: model.head_dim 128 differs from the target's 64")
	parity := qwen3()
	parity.LMHead = false
	assert.NoError(t, p.CheckFor(parity, "NVIDIA H200", "paged|sdpa"), "lm_head is a simulation switch")
	assert.EqualError(t, p.CheckFor(qwen3(), "NVIDIA A100", "paged|sdpa"),
		`profile fixture-profile: gpu "NVIDIA H200" differs from the target's "NVIDIA A100"`)
	assert.EqualError(t, p.CheckFor(qwen3(), "NVIDIA H200", "flashinfer"),
		`profile fixture-profile: attention_backend "paged|sdpa" differs from the target's "flashinfer"`)
	for _, src := range []string{SourceTemplate, SourceFallback} {
		q := *p
		q.Provenance.Source = src
		assert.ErrorContains(t, q.CheckFor(qwen3(), "NVIDIA H200", "paged|sdpa"), "a profile made from a "+src+" is refused")
	}
}
