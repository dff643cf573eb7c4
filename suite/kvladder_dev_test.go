package suite

import (
	"encoding/csv"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simval/simval/realkit"
)

// TestProfileHostCostPerCachedTokenMatchesTheKVLadder checks the profile's
// cpu_per_kv_token_ms against a calibration trace of its own (dev/kv-ladder:
// scripts/make-kv-ladder-trace.py, recorded with scripts/gpu-kv-ladder.sh): waves at a
// fixed batch whose steps replay one CUDA graph (query 64, 16384 cached tokens padded)
// while their cached tokens grow, so the wall time's slope in the cached tokens is host
// work. The profile's slope once came out 0.098 us a token (fitted across padded shapes);
// the ladder measured 0.158.
func TestProfileHostCostPerCachedTokenMatchesTheKVLadder(t *testing.T) {
	const dir = "../targets/catalog/h200-hfcb-qwen3-0.6b/"
	b, err := realkit.ReadBaselineFile(dir + "dev/kv-ladder/kv-ladder.json.gz")
	require.NoError(t, err)
	type point struct{ kv, wall float64 }
	byBatch := map[int][]point{}
	for _, rep := range b.Repetitions {
		for _, st := range rep.Steps {
			if st.Warmup || st.Captured || st.QPad != 64 || st.KVPad != 16384 || len(st.Items) == 0 {
				continue
			}
			decode := true
			for _, it := range st.Items {
				decode = decode && it.Prefill == 0
			}
			if decode {
				byBatch[len(st.Items)] = append(byBatch[len(st.Items)], point{float64(st.KVRead), st.DurationS * 1e3})
			}
		}
	}
	// Least squares with an intercept per batch size (the ladder's 8, 32 and 64).
	var sxx, sxy float64
	for _, n := range []int{8, 32, 64} {
		pts := byBatch[n]
		require.Greater(t, len(pts), 100, "batch %d", n)
		var mx, my float64
		for _, p := range pts {
			mx, my = mx+p.kv, my+p.wall
		}
		mx, my = mx/float64(len(pts)), my/float64(len(pts))
		for _, p := range pts {
			sxx += (p.kv - mx) * (p.kv - mx)
			sxy += (p.kv - mx) * (p.wall - my)
		}
	}
	measured := sxy / sxx // ms per cached token

	f, err := os.Open(dir + "profile/cpu_overheads.csv")
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	col := slices.Index(rows[0], "cpu_per_kv_token_ms")
	require.GreaterOrEqual(t, col, 0)
	profile, err := strconv.ParseFloat(rows[1][col], 64)
	require.NoError(t, err)

	t.Logf("host cost per cached token: kv-ladder %.4f us, profile %.4f us", 1e3*measured, 1e3*profile)
	assert.InEpsilon(t, measured, profile, 0.20, "the profile's slope against the ladder's")
}
