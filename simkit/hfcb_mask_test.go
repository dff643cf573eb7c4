package simkit

import (
	"encoding/csv"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureWithUnalignedMask is the hfcb fixture bundle plus an
// attention_unaligned_mask.csv whose attention times are factor × attention.csv's.
func fixtureWithUnalignedMask(t *testing.T, factor float64) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	src := os.DirFS("testdata/hfcb-fixture")
	entries, err := fs.ReadDir(src, ".")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := fs.ReadFile(src, e.Name())
		require.NoError(t, err)
		m["b/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	rows, err := csv.NewReader(strings.NewReader(string(m["b/attention.csv"].Data))).ReadAll()
	require.NoError(t, err)
	for _, row := range rows[1:] {
		for j, col := range rows[0] {
			if strings.HasPrefix(col, "time_stats.attn_") && row[j] != "" {
				v, err := strconv.ParseFloat(row[j], 64)
				require.NoError(t, err)
				row[j] = strconv.FormatFloat(v*factor, 'g', -1, 64)
			}
		}
	}
	var sb strings.Builder
	require.NoError(t, csv.NewWriter(&sb).WriteAll(rows))
	m["b/"+hfcbUnalignedMaskFile] = &fstest.MapFile{Data: []byte(sb.String())}
	return m
}

func TestHFCBUnalignedAttentionMaskIsSlower(t *testing.T) {
	fsys := fixtureWithUnalignedMask(t, 1.5)
	decode := Batch{Items: []BatchItem{hfcbItem(50, 60, 101, 1), hfcbItem(80, 60, 131, 1)}}
	predict := func(budget, blocks int) (StepTime, []string) {
		o := hfcbFixtureOptions()
		o.Settings.TokenBudget, o.Settings.NumBlocks = budget, blocks
		o.Extrapolate = true // the fixture's KV grid starts at 16384
		pr, _, err := LoadHFCBPredictor(fsys, "b", o)
		require.NoError(t, err)
		st, err := pr.Predict(decode)
		require.NoError(t, err)
		return st, pr.(*hfcbPredictor).Warnings()
	}
	// 24 blocks of 256: num_pages 6144. With max_batch_tokens 8192 the mask rows are
	// 14336 elements long (aligned); with the 145379 the engine inferred on the H200,
	// 151523 (odd).
	aligned, _ := predict(8192, 24)
	odd, warnings := predict(145379, 24)
	assert.Greater(t, odd.KernelS, aligned.KernelS, "attention from the unaligned table")
	assert.Contains(t, strings.Join(warnings, "\n"), "151523")
	// The default cache: 3823 blocks + 8192 = 986880, a multiple of 8.
	def, warnings := predict(8192, 3823)
	for _, w := range warnings {
		assert.NotContains(t, w, "multiple of 8")
	}
	plain := loadHFCBFixture(t, hfcbFixtureOptions()) // the same bundle without the unaligned table
	want, err := plain.Predict(decode)
	require.NoError(t, err)
	assert.Equal(t, want, def, "an aligned mask reads attention.csv")
	// Without the table the predictor says what it cannot model.
	o := hfcbFixtureOptions()
	o.Settings.TokenBudget, o.Settings.NumBlocks = 145379, 24
	pr := loadHFCBFixture(t, o)
	assert.Contains(t, strings.Join(pr.Warnings(), "\n"), "predicted as if aligned")
}
