package realkit

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simval/simval/validation"
)

func TestComputeLateness(t *testing.T) {
	recs := func(arrivals ...float64) []validation.Record {
		out := make([]validation.Record, len(arrivals))
		for i, a := range arrivals {
			out[i] = validation.Record{ID: string(rune('a' + i)), ArrivalS: a}
		}
		return out
	}
	tests := []struct {
		name      string
		recs      []validation.Record
		submitted []float64
		want      Lateness
	}{
		{"none", nil, nil, Lateness{}},
		{"one", recs(1), []float64{1.25}, Lateness{Count: 1, MaxS: 0.25, MeanS: 0.25, P99S: 0.25, WorstID: "a"}},
		{
			// lateness 0, 0.5, 0.25, 1: sorted 0, 0.25, 0.5, 1; h = 3·0.99 = 2.97 → 0.5 + 0.97·0.5
			"type-7 p99", recs(0, 1, 2, 3), []float64{0, 1.5, 2.25, 4},
			Lateness{Count: 4, MaxS: 1, MeanS: 0.4375, P99S: 0.985, WorstID: "d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeLateness(tt.recs, tt.submitted)
			assert.Equal(t, tt.want.Count, got.Count)
			assert.Equal(t, tt.want.WorstID, got.WorstID)
			assert.InDelta(t, tt.want.MaxS, got.MaxS, 1e-12)
			assert.InDelta(t, tt.want.MeanS, got.MeanS, 1e-12)
			assert.InDelta(t, tt.want.P99S, got.P99S, 1e-12)
		})
	}
}
