package vidurfmt

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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

// TestReadTable2DInHalves: a table over parallelParseBytes is parsed in two halves at
// once; keys, values, errors' line numbers and repeated keys across the halves come
// out as from one pass.
func TestReadTable2DInHalves(t *testing.T) {
	var b strings.Builder
	b.WriteString("kv_cache_size,prefill_chunk_size_squared,prediction\n")
	rows := 0
	for a := 0; b.Len() < 3*parallelParseBytes; a += 64 {
		for c := 1; c <= 1024; c++ {
			fmt.Fprintf(&b, "%d,%d,%g\n", a, c*c, float64(a)+float64(c)/1024)
			rows++
		}
	}
	data := b.String()
	tab, err := ReadTable2D(strings.NewReader(data), "big.csv", OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"})
	require.NoError(t, err)
	assert.Equal(t, rows, tab.Len())
	lastA := (rows/1024 - 1) * 64
	for _, k := range [][2]int{{0, 1}, {64, 1024 * 1024}, {lastA, 9}, {rows / 1024 / 2 * 64, 500 * 500}} {
		v, ok := tab.At(k[0], k[1])
		require.True(t, ok, "%v", k)
		c := math.Sqrt(float64(k[1]))
		assert.Equal(t, float64(k[0])+c/1024, v, "%v", k)
	}
	_, ok := tab.At(64, 1000)
	assert.False(t, ok)

	lines := strings.Split(data, "\n")
	bad := len(lines) - 10 // in the second half
	broken := slices.Clone(lines)
	broken[bad-1] = "1,2,x"
	_, err = ReadTable2D(strings.NewReader(strings.Join(broken, "\n")), "big.csv", OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"})
	assert.EqualError(t, err, fmt.Sprintf(`big.csv:%d: column "prediction": "x" is not a number`, bad))

	dup := slices.Clone(lines)
	dup[bad-1] = lines[1] // row (0, 1) again, far from the first
	_, err = ReadTable2D(strings.NewReader(strings.Join(dup, "\n")), "big.csv", OpAttnPrefill, [2]string{"kv_cache_size", "prefill_chunk_size_squared"})
	assert.ErrorContains(t, err, "key (0, 1) appears twice")
}
