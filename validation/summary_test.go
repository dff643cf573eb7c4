package validation

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantileType7(t *testing.T) {
	oneToTen := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		// numpy.percentile(range(1, 11), q) — the values go-practice.md §3.1 pins.
		{"1..10 p50", oneToTen, 0.50, 5.5},
		{"1..10 p90", oneToTen, 0.90, 9.1},
		{"1..10 p99", oneToTen, 0.99, 9.91},
		{"1..10 p0", oneToTen, 0, 1},
		{"1..10 p100", oneToTen, 1, 10},
		{"single value", []float64{7}, 0.99, 7},
		{"two values p25", []float64{2, 4}, 0.25, 2.5},
		{"ties", []float64{1, 1, 1, 5}, 0.5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.want, Quantile(tt.sorted, tt.p), 1e-12)
		})
	}
}

func TestQuantilePanics(t *testing.T) {
	assert.Panics(t, func() { Quantile(nil, 0.5) })
	assert.Panics(t, func() { Quantile([]float64{1}, 1.5) })
	assert.Panics(t, func() { Quantile([]float64{1}, -0.1) })
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"single", []float64{0.25}, Summary{Count: 1, Mean: 0.25, P50: 0.25, P90: 0.25, P99: 0.25, Max: 0.25}},
		{"unsorted 1..10", []float64{10, 3, 1, 9, 2, 8, 4, 7, 5, 6}, Summary{Count: 10, Mean: 5.5, P50: 5.5, P90: 9.1, P99: 9.91, Max: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Empty(t, cmp.Diff(tt.want, Summarize(tt.xs), cmpopts.EquateApprox(0, 1e-12)))
		})
	}
}

func TestSummarizeDoesNotModifyInput(t *testing.T) {
	xs := []float64{3, 1, 2}
	Summarize(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs)
}

// TestSummarizeRunWorkedExample is the pinned definitions' golden worked example,
// computed by hand.
//
//	r1: a=0, tokens 0.010 0.020 0.035 (D=3), first scheduled 0.002
//	r2: a=1, tokens 1.020 1.030       (D=2), first scheduled 1.004
//	r3: a=2, tokens 2.005             (D=1)
//
//	TTFT  = 0.010, 0.020, 0.005 → sorted 0.005 0.010 0.020
//	ITL   = 0.010, 0.015 (r1), 0.010 (r2); r3 has none → sorted 0.010 0.010 0.015
//	TPOT  = (0.035−0.010)/2 = 0.0125 (r1), 0.010 (r2); r3 has D=1 → sorted 0.010 0.0125
//	E2E   = 0.035, 0.030, 0.005 → sorted 0.005 0.030 0.035
//	sched = 0.002, 0.004
//
// Type 7 with n=3: p50 → h=1 → x[1]; p90 → h=1.8 → x[1]+0.8·(x[2]−x[1]);
// p99 → h=1.98 → x[1]+0.98·(x[2]−x[1]). With n=2: h = p.
func TestSummarizeRunWorkedExample(t *testing.T) {
	r1 := rec("r1", 0, 0.010, 0.020, 0.035)
	r1.FirstScheduledS = ptr(0.002)
	r2 := rec("r2", 1, 1.020, 1.030)
	r2.FirstScheduledS = ptr(1.004)
	r3 := rec("r3", 2, 2.005)
	recs := []Record{r1, r2, r3}
	require.NoError(t, ValidateRecords(recs))

	want := RunSummary{
		TTFT:       Summary{Count: 3, Mean: 0.035 / 3, P50: 0.010, P90: 0.018, P99: 0.0198, Max: 0.020},
		ITL:        Summary{Count: 3, Mean: 0.035 / 3, P50: 0.010, P90: 0.014, P99: 0.0149, Max: 0.015},
		TPOT:       Summary{Count: 2, Mean: 0.01125, P50: 0.01125, P90: 0.01225, P99: 0.012475, Max: 0.0125},
		E2E:        Summary{Count: 3, Mean: 0.070 / 3, P50: 0.030, P90: 0.034, P99: 0.0349, Max: 0.035},
		SchedDelay: Summary{Count: 2, Mean: 0.003, P50: 0.003, P90: 0.0038, P99: 0.00398, Max: 0.004},
	}
	got := SummarizeRun(recs)
	assert.Empty(t, cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)), "(-want +got)")
}

func TestRunSummaryJSONKeyOrder(t *testing.T) {
	b, err := json.Marshal(SummarizeRun([]Record{rec("a", 0, 1)}))
	require.NoError(t, err)
	assert.Equal(t, `{"ttft":{"count":1,"mean":1,"p50":1,"p90":1,"p99":1,"max":1},`+
		`"itl":{"count":0,"mean":0,"p50":0,"p90":0,"p99":0,"max":0},`+
		`"tpot":{"count":0,"mean":0,"p50":0,"p90":0,"p99":0,"max":0},`+
		`"e2e":{"count":1,"mean":1,"p50":1,"p90":1,"p99":1,"max":1},`+
		`"sched_delay":{"count":0,"mean":0,"p50":0,"p90":0,"p99":0,"max":0}}`, string(b))
}

func TestRunSummaryGet(t *testing.T) {
	rs := SummarizeRun([]Record{rec("a", 0, 1, 3)})
	for _, m := range AllMetrics {
		assert.Equal(t, Summarize(Values(m, []Record{rec("a", 0, 1, 3)})), rs.Get(m), m)
	}
	assert.InDelta(t, 2.0, rs.Get(ITL).Get(P50), 1e-12)
	assert.Panics(t, func() { rs.Get("nope") })
	assert.Panics(t, func() { rs.TTFT.Get("p95") })
}
