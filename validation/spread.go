package validation

// SpreadRow is how much one statistic of one metric varied across repetitions of the
// same real run: its smallest and largest value (seconds) and the relative range
// (max − min)/mean over the repetitions that had samples of the metric.
type SpreadRow struct {
	Metric   Metric  `json:"metric"`
	Stat     Stat    `json:"stat"`
	Reps     int     `json:"reps"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	RelRange float64 `json:"rel_range"`
}

// SpreadSummary is the real run-to-run noise, reported next to a comparison so that
// a bound can be read against what the engine itself varies by.
type SpreadSummary struct {
	// Reps is the number of repetitions given.
	Reps int `json:"reps"`
	// Rows in fixed order: judged metrics, then stats; a metric no repetition has
	// samples of has no rows.
	Rows []SpreadRow `json:"rows"`
}

// Spread summarizes each repetition and reports, per judged metric and stat, the
// min, max and relative range across repetitions. A repetition without samples of
// a metric (e.g. no ITL when every request has one output token) is left out of
// that metric's rows. RelRange is 0 when every value is 0.
func Spread(reps [][]Record) SpreadSummary {
	out := SpreadSummary{Reps: len(reps)}
	sums := make([]RunSummary, len(reps))
	for i, recs := range reps {
		sums[i] = SummarizeRun(recs)
	}
	for _, m := range JudgedMetrics {
		for _, st := range AllStats {
			row := SpreadRow{Metric: m, Stat: st}
			var total float64
			for _, s := range sums {
				ms := s.Get(m)
				if ms.Count == 0 {
					continue
				}
				v := ms.Get(st)
				if row.Reps == 0 || v < row.Min {
					row.Min = v
				}
				if row.Reps == 0 || v > row.Max {
					row.Max = v
				}
				total += v
				row.Reps++
			}
			if row.Reps == 0 {
				continue
			}
			if mean := total / float64(row.Reps); mean != 0 {
				row.RelRange = (row.Max - row.Min) / mean
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}
