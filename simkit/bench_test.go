package simkit

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
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

// BenchmarkSimulateStream1M: 1,000,000 Poisson requests (the same mix at 20
// requests/s) generated on the fly and streamed through SimulateStream without
// per-token times: memory is bounded by the requests in flight, not the trace. Reports
// the peak live heap sampled every 50,000 completions.
func BenchmarkSimulateStream1M(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: the 1M-request benchmark takes tens of seconds")
	}
	opts := fixtureOptions(b)
	opts.Settings.NumBlocks = 200000
	const n = 1_000_000
	var peak uint64
	var ms runtime.MemStats
	for b.Loop() {
		arrivals := rand.New(rand.NewPCG(42, streamSeed("arrivals")))
		lengths := rand.New(rand.NewPCG(42, streamSeed("lengths")))
		i, t := 0, 0.0
		next := func() (scenarios.Request, bool) {
			if i == n {
				return scenarios.Request{}, false
			}
			t += arrivals.ExpFloat64() / 20
			r := scenarios.Request{ID: strconv.Itoa(i), ArrivalS: t,
				PromptTokens: 100 + lengths.IntN(1901), OutputTokens: 50 + lengths.IntN(451)}
			i++
			return r, true
		}
		done := 0
		emit := func(validation.Record) error {
			if done++; done%50_000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		}
		tot, err := SimulateStream(opts, next, emit, false)
		require.NoError(b, err)
		require.Equal(b, n, done)
		b.ReportMetric(float64(tot.Steps), "steps")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
