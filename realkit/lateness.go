package realkit

import (
	"math"
	"slices"

	"github.com/simval/simval/validation"
)

// Lateness summarizes how far behind its arrival schedule the driver submitted
// requests: submitted − arrival per request. A queue-free comparison is only fair
// when this is small next to the latencies compared; validation decides how small.
type Lateness struct {
	Count int     `json:"count"`
	MaxS  float64 `json:"max_s"`
	MeanS float64 `json:"mean_s"`
	// P99S is the 99th percentile, type 7 (numpy's default), like every percentile
	// in simval.
	P99S float64 `json:"p99_s"`
	// WorstID is the request with the largest lateness.
	WorstID string `json:"worst_id,omitempty"`
}

// ComputeLateness summarizes submitted[i] − recs[i].ArrivalS over the records.
func ComputeLateness(recs []validation.Record, submitted []float64) Lateness {
	n := min(len(recs), len(submitted))
	if n == 0 {
		return Lateness{}
	}
	late := make([]float64, n)
	out := Lateness{Count: n, MaxS: math.Inf(-1)}
	sum := 0.0
	for i := range n {
		late[i] = submitted[i] - recs[i].ArrivalS
		sum += late[i]
		if late[i] > out.MaxS {
			out.MaxS, out.WorstID = late[i], recs[i].ID
		}
	}
	out.MeanS = sum / float64(n)
	slices.Sort(late)
	out.P99S = quantile7(late, 0.99)
	return out
}

// quantile7 is the type-7 quantile of sorted xs: h = (n−1)·p, linear between the
// order statistics around h.
func quantile7(xs []float64, p float64) float64 {
	h := float64(len(xs)-1) * p
	i := int(math.Floor(h))
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}
