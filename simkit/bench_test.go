package simkit

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/stretchr/testify/require"
)

// benchRequests is a Poisson workload: prompts uniform in [100, 2000], outputs uniform
// in [50, 500] (one PCG stream each for arrivals and lengths).
func benchRequests(n int, qps float64) []scenarios.Request {
	arrivals := rand.New(rand.NewPCG(42, streamSeed("arrivals")))
	lengths := rand.New(rand.NewPCG(42, streamSeed("lengths")))
	reqs := make([]scenarios.Request, n)
	t := 0.0
	for i := range reqs {
		t += arrivals.ExpFloat64() / qps
		reqs[i] = scenarios.Request{ID: strconv.Itoa(i), ArrivalS: t,
			PromptTokens: 100 + lengths.IntN(1901), OutputTokens: 50 + lengths.IntN(451)}
	}
	return reqs
}

// BenchmarkSimulatePoisson20k: 20,000 requests at 20 requests/s on one Sarathi replica
// (chunk 512, 128 sequences) with the fixture profile and CPU overhead on.
func BenchmarkSimulatePoisson20k(b *testing.B) {
	opts := fixtureOptions(b)
	opts.Settings.NumBlocks = 200000
	reqs := benchRequests(20000, 20)
	b.ReportAllocs()
	var res *Result
	for b.Loop() {
		var err error
		res, err = Simulate(opts, reqs)
		require.NoError(b, err)
	}
	b.ReportMetric(float64(res.Steps), "steps")
	b.ReportMetric(res.BusyS, "sim-busy-s")
}
