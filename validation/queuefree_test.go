package validation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckQueueFree(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		want []Violation
	}{
		{"empty", nil, nil},
		{"single", []Record{rec("a", 0, 5)}, nil},
		{"spaced", evenRun(8, 64, 0.0173, 0.0136), nil},
		{"completion exactly at next arrival", []Record{rec("a", 0, 1, 2), rec("b", 2, 3)}, nil},
		{
			"one overlap",
			[]Record{rec("a", 0, 1, 2.5), rec("b", 2, 3), rec("c", 4, 5)},
			[]Violation{{EarlierID: "a", LaterID: "b", OverlapS: 0.5}},
		},
		{
			"input order does not matter",
			[]Record{rec("c", 4, 5), rec("b", 2, 3), rec("a", 0, 1, 2.5)},
			[]Violation{{EarlierID: "a", LaterID: "b", OverlapS: 0.5}},
		},
		{
			// a outlives b and is still running when c arrives: both are named against a.
			"long request blocks two",
			[]Record{rec("a", 0, 1, 5), rec("b", 2, 3), rec("c", 4, 4.5)},
			[]Violation{{EarlierID: "a", LaterID: "b", OverlapS: 3}, {EarlierID: "a", LaterID: "c", OverlapS: 1}},
		},
		{
			"simultaneous arrivals ordered by id",
			[]Record{rec("y", 1, 2), rec("x", 1, 3)},
			[]Violation{{EarlierID: "x", LaterID: "y", OverlapS: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckQueueFree(tt.recs)
			require.Len(t, got, len(tt.want))
			for i := range got {
				assert.Equal(t, tt.want[i].EarlierID, got[i].EarlierID)
				assert.Equal(t, tt.want[i].LaterID, got[i].LaterID)
				assert.InDelta(t, tt.want[i].OverlapS, got[i].OverlapS, 1e-12)
			}
		})
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{EarlierID: "r1", LaterID: "r2", OverlapS: 0.25}
	assert.Equal(t, "request r2 arrived 0.250000 s before request r1 completed", v.String())
}
