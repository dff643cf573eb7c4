package simkit

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventHeapOrder(t *testing.T) {
	var q eventHeap
	// (time, seq): equal times pop in creation order, whatever their kind.
	in := []event{{t: 2, seq: 1, kind: evBatchEnd}, {t: 1, seq: 2, kind: evStageEnd},
		{t: 1, seq: 3, kind: evGlobalSchedule}, {t: 0.5, seq: 4}, {t: 1, seq: 5, kind: evReplicaSchedule}}
	for _, e := range in {
		q.push(e)
	}
	var got []uint64
	for q.Len() > 0 {
		got = append(got, q.pop().seq)
	}
	assert.Equal(t, []uint64{4, 2, 3, 5, 1}, got)
}

func TestEventHeapRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var q eventHeap
	var want []event
	seq := uint64(0)
	for range 2000 {
		if rng.IntN(3) > 0 || q.Len() == 0 {
			seq++
			e := event{t: float64(rng.IntN(50)), seq: seq}
			q.push(e)
			want = append(want, e)
			continue
		}
		got := q.pop()
		best := 0
		for i := range want {
			if want[i].before(&want[best]) {
				best = i
			}
		}
		require.Equal(t, want[best], got)
		want = append(want[:best], want[best+1:]...)
	}
}

func TestSchedulerRegistry(t *testing.T) {
	assert.Contains(t, SchedulerNames(), "sarathi")
	assert.Panics(t, func() { RegisterScheduler("sarathi", newSarathi) })
	assert.Panics(t, func() { RegisterScheduler("a:b", newSarathi) })
	name, sub := ParseSchedulerName(" hfcb:fifo ")
	assert.Equal(t, [2]string{"hfcb", "fifo"}, [2]string{name, sub})
	_, err := NewScheduler(SchedulerConfig{Settings: sarathiSettings(512, 128, 16, 100)})
	require.NoError(t, err)
	s := sarathiSettings(512, 128, 16, 100)
	s.Scheduler = "sarathi:dynamic"
	_, err = NewScheduler(SchedulerConfig{Settings: s})
	assert.EqualError(t, err, `scheduler "sarathi:dynamic": sarathi has no sub-policy "dynamic"`)
}

func TestReplicasAndGlobalSchedulers(t *testing.T) {
	// One request per replica at a time (max_seqs 1); long outputs keep them busy.
	settings := sarathiSettings(512, 1, 16, 1000)
	reqs := []scenarios.Request{req("r0", 0, 10, 5), req("r1", 0.1, 10, 5), req("r2", 0.2, 10, 5), req("r3", 0.3, 10, 5)}
	firstBatch := func(log []string) map[string]string { // request → "R<replica>"
		out := map[string]string{}
		for _, l := range log {
			rep, rest := l[:2], l[6:]
			id := rest[:2]
			if _, ok := out[id]; !ok {
				out[id] = rep
			}
		}
		return out
	}
	tests := []struct {
		name      string
		global    string
		queueOnly bool
		want      map[string]string
	}{
		{"round robin", GlobalRoundRobin, false, map[string]string{"r0": "R0", "r1": "R1", "r2": "R0", "r3": "R1"}},
		// lor counts waiting plus running: r1 finds r0 running on R0 and takes R1; r2
		// finds one on each and takes R0; r3 finds two on R0 and one on R1.
		{"least outstanding", GlobalLOR, false, map[string]string{"r0": "R0", "r1": "R1", "r2": "R0", "r3": "R1"}},
		// Vidur's count (parity mode) is waiting requests only: r1 sees R0 and R1 both
		// with none waiting (r0 is running) and takes R0; then R0 has one waiting, so r2
		// and r3 go to R1.
		{"least outstanding, queue only", GlobalLOR, true, map[string]string{"r0": "R0", "r1": "R0", "r2": "R1", "r3": "R1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, log := runStub(t, Options{Settings: settings, Replicas: 2, GlobalScheduler: tc.global, LORQueueOnly: tc.queueOnly}, reqs)
			assert.Equal(t, tc.want, firstBatch(log))
		})
	}

	// Under load: a request arrives at every step boundary (1 s steps), and each
	// replica admits it at that instant, so no queue holds anything when the next one
	// arrives. Vidur's queue-only count is then 0 everywhere and lor sends everything to
	// replica 0: 2 replicas predict exactly what 1 does, with up to 8 requests running
	// there. Counting running requests spreads them over both.
	t.Run("lor under load", func(t *testing.T) {
		load := make([]scenarios.Request, 12)
		for i := range load {
			load[i] = req(fmt.Sprintf("q%02d", i), float64(i), 10, 8)
		}
		wide := sarathiSettings(512, 128, 16, 1000)
		used := func(log []string) map[string]bool {
			out := map[string]bool{}
			for _, l := range log {
				out[l[:2]] = true
			}
			return out
		}
		one, _ := runStub(t, Options{Settings: wide, Replicas: 1}, load)
		vidurTwo, vidurLog := runStub(t, Options{Settings: wide, Replicas: 2, GlobalScheduler: GlobalLOR, LORQueueOnly: true}, load)
		_, log := runStub(t, Options{Settings: wide, Replicas: 2, GlobalScheduler: GlobalLOR}, load)
		assert.Equal(t, tokenTimes(one), tokenTimes(vidurTwo), "Vidur's lor: 2 replicas under load = 1")
		assert.Equal(t, map[string]bool{"R0": true}, used(vidurLog), "Vidur's lor leaves replica 1 idle")
		assert.Equal(t, map[string]bool{"R0": true, "R1": true}, used(log), "lor counting running requests uses both")
	})

	t.Run("round robin runs replicas in parallel", func(t *testing.T) {
		res, log := runStub(t, Options{Settings: sarathiSettings(512, 128, 16, 1000), Replicas: 2},
			[]scenarios.Request{req("a", 0, 10, 2), req("b", 0, 10, 2), req("c", 0, 10, 2)})
		assert.Equal(t, []string{"R0 S0 a:10 c:10", "R1 S0 b:10", "R0 S0 a:1 c:1", "R1 S0 b:1"}, log)
		assert.Equal(t, map[string][]float64{"a": {1, 2}, "b": {1, 2}, "c": {1, 2}}, tokenTimes(res))
	})

	t.Run("random is seeded", func(t *testing.T) {
		many := make([]scenarios.Request, 40)
		for i := range many {
			many[i] = req(string(rune('A'+i%26))+string(rune('a'+i/26)), float64(i), 10, 1)
		}
		opts := Options{Settings: settings, Replicas: 3, GlobalScheduler: GlobalRandom, Seed: 7}
		_, log1 := runStub(t, opts, many)
		_, log2 := runStub(t, opts, many)
		assert.Equal(t, log1, log2)
		opts.Seed = 8
		_, log3 := runStub(t, opts, many)
		assert.NotEqual(t, log1, log3)
		used := map[string]bool{}
		for _, l := range log1 {
			used[l[:2]] = true
		}
		assert.Len(t, used, 3)
	})

	t.Run("unknown", func(t *testing.T) {
		_, err := Simulate(Options{Settings: settings, Predictor: &stubPredictor{perStep: 1}, GlobalScheduler: "fastest"}, reqs)
		assert.ErrorContains(t, err, `global scheduler "fastest"`)
	})
}

// Two stages of 1 s each; max_seqs 2 over 2 stages gives micro-batches of one request.
// A and B alternate through the pipeline: each gets a token every 2 s, B 1 s behind.
func TestPipelineParallelTwoStages(t *testing.T) {
	settings := sarathiSettings(512, 2, 16, 1000)
	settings.PP = 2
	res, log := runStub(t, Options{Settings: settings}, []scenarios.Request{req("A", 0, 10, 3), req("B", 0, 10, 3)})
	assert.Equal(t, map[string][]float64{"A": {2, 4, 6}, "B": {3, 5, 7}}, tokenTimes(res))
	assert.Equal(t, []string{
		"R0 S0 A:10", "R0 S0 B:10", "R0 S1 A:10", "R0 S1 B:10", "R0 S0 A:1", "R0 S1 A:1", "R0 S0 B:1",
	}, log[:7], "a stage takes the next batch the instant it frees, before the batch end reschedules")
	assert.Equal(t, 6, res.Steps, "each request: a prefill batch and two decode batches")
	assert.Equal(t, 12.0, res.BusyS, "6 batches × 2 stages × 1 s")
}

func TestSimulateInputOrderAndValidation(t *testing.T) {
	opts := Options{Settings: sarathiSettings(512, 128, 16, 1000)}
	res, _ := runStub(t, opts, []scenarios.Request{req("late", 5, 10, 1), req("early", 0, 10, 1)})
	require.Len(t, res.Records, 2)
	assert.Equal(t, "late", res.Records[0].ID, "records come back in input order")
	assert.Equal(t, 6.0, res.Records[0].FirstTokenS)
	assert.Equal(t, 1.0, res.Records[1].FirstTokenS)

	opts.Predictor = &stubPredictor{perStep: 1}
	for _, tc := range []struct {
		req  scenarios.Request
		want string
	}{
		{req("z", 0, 0, 1), `request "z" (index 0): prompt_tokens 0`},
		{req("z", 0, 5, 0), `request "z" (index 0): output_tokens 0`},
	} {
		_, err := Simulate(opts, []scenarios.Request{tc.req})
		assert.ErrorContains(t, err, tc.want)
	}
	_, err := Simulate(Options{Settings: opts.Settings}, nil)
	assert.ErrorContains(t, err, "needs a Profile or a Predictor")
	_, err = Simulate(Options{Settings: validation.EngineSettings{Scheduler: "nope"}, Predictor: opts.Predictor}, nil)
	assert.ErrorContains(t, err, `settings.scheduler "nope" is not a known scheduler`)
}

func poissonRequests(n int, qps float64, seed uint64) []scenarios.Request {
	rng := rand.New(rand.NewPCG(seed, 1))
	reqs := make([]scenarios.Request, n)
	t := 0.0
	for i := range reqs {
		t += rng.ExpFloat64() / qps
		reqs[i] = scenarios.Request{ID: string(rune('a' + i%26)), ArrivalS: t,
			PromptTokens: 100 + rng.IntN(1901), OutputTokens: 50 + rng.IntN(451)}
	}
	return reqs
}

func fixtureOptions(t testing.TB) Options {
	return Options{Model: qwen3(), Settings: sarathiSettings(512, 128, 16, 20000),
		Profile: loadFixture(t), CPUOverhead: true}
}

func TestSimulateDeterministicAndStreamAgrees(t *testing.T) {
	opts := fixtureOptions(t)
	reqs := poissonRequests(300, 20, 1)
	a, err := Simulate(opts, reqs)
	require.NoError(t, err)
	b, err := Simulate(opts, reqs)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same input, same records")
	assert.Greater(t, a.Steps, 300)
	assert.InDelta(t, a.BusyS, a.KernelS+a.CPUS, 1e-9)

	next, i := func() (scenarios.Request, bool) { return scenarios.Request{}, false }, 0
	next = func() (scenarios.Request, bool) {
		if i == len(reqs) {
			return scenarios.Request{}, false
		}
		i++
		return reqs[i-1], true
	}
	byIndex := map[float64]validation.Record{} // arrival times are distinct
	var order []float64
	tot, err := SimulateStream(opts, next, func(r validation.Record) error {
		byIndex[r.ArrivalS] = r
		order = append(order, r.CompletionS)
		return nil
	}, false)
	require.NoError(t, err)
	assert.Equal(t, 300, tot.Requests)
	assert.Equal(t, a.Steps, tot.Steps)
	assert.Equal(t, a.BusyS, tot.BusyS)
	assert.IsNonDecreasing(t, order, "records are emitted at completion")
	for _, want := range a.Records {
		got := byIndex[want.ArrivalS]
		assert.Nil(t, got.TokenTimesS)
		assert.Equal(t, want.FirstTokenS, got.FirstTokenS)
		assert.Equal(t, want.CompletionS, got.CompletionS)
		assert.Len(t, want.TokenTimesS, want.OutputTokens)
	}
}

// CPU overhead lengthens every step: the same workload finishes later and the CPU
// share is reported; without it the CPU share is zero.
func TestSimulateCPUOverheadOnOff(t *testing.T) {
	reqs := poissonRequests(50, 5, 2)
	on := fixtureOptions(t)
	off := on
	off.CPUOverhead = false
	resOn, err := Simulate(on, reqs)
	require.NoError(t, err)
	resOff, err := Simulate(off, reqs)
	require.NoError(t, err)
	assert.Zero(t, resOff.CPUS)
	assert.InDelta(t, resOff.BusyS, resOff.KernelS, 1e-12)
	assert.Greater(t, resOn.CPUS, resOn.KernelS/2, "the fixture is CPU-heavy at small batches")
	for i := range reqs {
		assert.Greater(t, resOn.Records[i].FirstTokenS, resOff.Records[i].FirstTokenS, reqs[i].ID)
	}
}

func TestSimulateStreamRefusesOutOfOrder(t *testing.T) {
	reqs := []scenarios.Request{req("a", 1, 10, 1), req("b", 0.5, 10, 1)}
	i := 0
	_, err := SimulateStream(Options{Settings: sarathiSettings(512, 128, 16, 1000), Predictor: &stubPredictor{perStep: 1}},
		func() (scenarios.Request, bool) {
			if i == len(reqs) {
				return scenarios.Request{}, false
			}
			i++
			return reqs[i-1], true
		}, func(validation.Record) error { return nil }, false)
	assert.ErrorContains(t, err, `request "b" (index 1) arrives at 0.5s, before the previous request (1s)`)
}
