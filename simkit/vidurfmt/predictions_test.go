package vidurfmt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadTable1D(t *testing.T) {
	tab, err := ReadTable1D(strings.NewReader("num_tokens,prediction\n1,0.5\n8,0.25\n2.0,-0.125\n"), "p.csv", "add", "num_tokens")
	require.NoError(t, err)
	for key, want := range map[int]float64{1: 0.5, 8: 0.25, 2: -0.125} {
		v, ok := tab.At(key)
		require.True(t, ok, "key %d", key)
		assert.Equal(t, want, v)
	}
	for _, key := range []int{0, 3, 9, -1} {
		_, ok := tab.At(key)
		assert.False(t, ok, "key %d is not in the table: exact look-up, no interpolation", key)
	}
	assert.Equal(t, 3, tab.Len())
	assert.Equal(t, 8, tab.MaxKey())
}

func TestReadTable2D(t *testing.T) {
	tab, err := ReadTable2D(strings.NewReader("batch_size,kv_cache_size,prediction\n1,0,0.0149\n1,64,0.015\n2,64,0.02\n"),
		"d.csv", OpAttnDecode, [2]string{"batch_size", "kv_cache_size"})
	require.NoError(t, err)
	v, ok := tab.At(1, 64)
	require.True(t, ok)
	assert.Equal(t, 0.015, v)
	_, ok = tab.At(2, 0)
	assert.False(t, ok)
	assert.Equal(t, 3, tab.Len())
}

func TestReadPredictionErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"wrong header", "tokens,prediction\n1,2\n", `p.csv:1: header is "tokens,prediction", want "num_tokens,prediction"`},
		{"duplicate key", "num_tokens,prediction\n1,2\n1,3\n", `p.csv:3: column "num_tokens": key 1 appears twice`},
		{"fractional key", "num_tokens,prediction\n1.5,2\n", `p.csv:2: column "num_tokens": "1.5" is not an integer`},
		{"empty prediction", "num_tokens,prediction\n1,\n", `p.csv:2: column "prediction": "" is not a number`},
		{"NaN prediction", "num_tokens,prediction\n1,nan\n", `p.csv:2: column "prediction": NaN is not a finite time`},
		{"key too large", "num_tokens,prediction\n99999999,1\n", "outside [0, 4194304]"},
		{"no rows", "num_tokens,prediction\n", "p.csv: no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTable1D(strings.NewReader(tt.csv), "p.csv", "add", "num_tokens")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestLoadPredictions reads a folder with both naming schemes: simval's
// <op>_predictions.csv and Vidur's cache name <op>_<hash>_predictions.csv.
func TestLoadPredictions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("add_predictions.csv", "num_tokens,prediction\n8,0.002\n")
	write("mlp_up_proj_1a2b3c4d_predictions.csv", "num_tokens,prediction\n8,0.2\n")
	write("attn_decode_predictions.csv", "batch_size,kv_cache_size,prediction\n1,64,0.015\n")
	write("schedule_predictions.csv", "batch_size,prediction\n1,0.1\n")
	p, err := LoadPredictions(dir)
	require.NoError(t, err)
	require.NotNil(t, p.Token[OpAdd])
	require.NotNil(t, p.Token[OpMLPUpProj])
	require.NotNil(t, p.AttnDecode)
	require.NotNil(t, p.CPU[OpSchedule])
	assert.Nil(t, p.AttnPrefill)
	assert.Nil(t, p.Token[OpAllReduce])

	write("mlp_up_proj_99999999_predictions.csv", "num_tokens,prediction\n8,0.3\n")
	_, err = LoadPredictions(dir)
	assert.ErrorContains(t, err, "2 prediction files for mlp_up_proj")

	_, err = LoadPredictions(t.TempDir())
	assert.ErrorContains(t, err, "no prediction tables")
}
