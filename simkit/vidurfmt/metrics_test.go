package vidurfmt

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsFromOutcome applies Vidur's definitions (reference §9) to a restarted
// request: arrived at 1 s with P=10, D=6; first scheduled at 1.5 s; prefill done at
// 2 s; restarted once, so at completion (5 s) P=13 and D=3.
func TestMetricsFromOutcome(t *testing.T) {
	m := MetricsFromOutcome(RequestOutcome{
		ID: 4, ArrivedAt: 1, ArrivalPrefill: 10, ArrivalDecode: 6, Prefill: 13, Decode: 3,
		ScheduledAt: 1.5, PrefillCompletedAt: 2, CompletedAt: 5, Completed: true,
		ExecutionS: 2.5, ModelExecutionS: 2, PreemptionS: 1, Restarts: 1, InterArrivalS: 0.25,
	})
	assert.Equal(t, [15]float64{
		4, 4.0 / 3, // e2e 5 − 1, ÷ D at completion
		2.5, 2.5 / 3, 2, 2.0 / 3, // execution, model execution
		1, 0.5, // preemption, scheduling delay 1.5 − 1
		3.5, 3.5 / 3, // execution + preemption
		1, 0.5, 0.5 / 13, // prefill e2e 2 − 1 (TTFT), prefill span 2 − 1.5, ÷ P at completion
		3.0 / 3, // decode span 5 − 2, ÷ D
		0.25,
	}, m.Times)
	assert.Equal(t, []int{4, 16, 10, 6, 1}, []int{m.ID, m.Tokens, m.Prefill, m.Decode, m.Restarts}, "token columns are at arrival")
	assert.Equal(t, 10.0/6, m.PDRatio)

	open := MetricsFromOutcome(RequestOutcome{ID: 1, ArrivalPrefill: 2, ArrivalDecode: 2, InterArrivalS: math.NaN()})
	for i, v := range open.Times {
		assert.True(t, math.IsNaN(v), "column %d of a request that did not complete is empty", i)
	}
}

func TestWriteAndReadRequestMetrics(t *testing.T) {
	rows := []RequestMetrics{
		MetricsFromOutcome(RequestOutcome{ID: 0, ArrivedAt: 0, ArrivalPrefill: 10, ArrivalDecode: 4, Prefill: 10, Decode: 4,
			PrefillCompletedAt: 0.5, CompletedAt: 2, Completed: true, ExecutionS: 2, ModelExecutionS: 2, InterArrivalS: math.NaN()}),
		MetricsFromOutcome(RequestOutcome{ID: 3, ArrivedAt: 4.71, ArrivalPrefill: 91, ArrivalDecode: 16, Prefill: 91, Decode: 16,
			ScheduledAt: 4.72, PrefillCompletedAt: 4.8, CompletedAt: 5.2, Completed: true, ExecutionS: 0.48,
			ModelExecutionS: 0.48, InterArrivalS: 0.16854999999999976}),
	}
	var b bytes.Buffer
	require.NoError(t, WriteRequestMetrics(&b, rows))
	lines := strings.Split(b.String(), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, strings.Join(RequestMetricsColumns, ","), lines[0])
	assert.Equal(t, "0,2.0,0.5,2.0,0.5,2.0,0.5,0.0,0.0,2.0,0.5,0.5,0.5,0.05,0.375,,14.0,10.0,4.0,2.5,0", lines[1],
		"pandas' formatting: floats in repr, counts as floats, the first inter-arrival empty")

	back, err := ReadRequestMetrics(&b, "m.csv")
	require.NoError(t, err)
	require.Len(t, back, 2)
	for i := range rows {
		assert.Equal(t, rows[i].ID, back[i].ID)
		assert.Equal(t, rows[i].Tokens, back[i].Tokens)
		for j := range rows[i].Times {
			if math.IsNaN(rows[i].Times[j]) {
				assert.True(t, math.IsNaN(back[i].Times[j]))
			} else {
				assert.Equal(t, rows[i].Times[j], back[i].Times[j], "row %d column %d round-trips exactly", i, j)
			}
		}
	}
}

func TestReadRequestMetricsErrors(t *testing.T) {
	head := strings.Join(RequestMetricsColumns, ",")
	row := func(id string) string {
		return id + ",1,1,1,1,1,1,0,0,1,1,0.5,0.5,0.1,0.1,,10.0,5.0,5.0,1.0,0"
	}
	tests := []struct{ name, csv, want string }{
		{"missing column", strings.Replace(head, ",request_pd_ratio", "", 1) + "\n", `m.csv:1: missing column "request_pd_ratio"`},
		{"repeated id", head + "\n" + row("3") + "\n" + row("3") + "\n", `m.csv:3: column "Request Id": id 3 is negative or repeated`},
		{"bad time", head + "\n" + strings.Replace(row("1"), ",0.5,", ",x,", 1) + "\n", `m.csv:2: column "prefill_e2e_time": "x" is not a number`},
		{"bad count", head + "\n" + strings.Replace(row("1"), ",10.0,", ",10.5,", 1) + "\n", `column "request_num_tokens": "10.5" is not an integer`},
		{"no rows", head + "\n", "m.csv: no rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRequestMetrics(strings.NewReader(tt.csv), "m.csv")
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
