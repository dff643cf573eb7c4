package suite

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/targets"
)

// The replay driver's warm-up policies (simval real --warmup; realkit/drivers/warmup.py).
const (
	WarmupNone   = "none"
	WarmupShapes = "shapes"
	WarmupReplay = "replay"
)

// WarmupPolicies lists them.
var WarmupPolicies = []string{WarmupNone, WarmupShapes, WarmupReplay}

// Constants of warmup.py's plan, which warmupWaves mirrors.
const (
	maxPrefillWaves   = 64   // MAX_PREFILL_WAVES
	prefillWaveOutput = 4    // PREFILL_WAVE_OUTPUT
	stepGuessS        = 0.05 // STEP_GUESS_S
	// DefaultWarmupMaxBatch is replay.py's --warmup-max-batch default.
	DefaultWarmupMaxBatch = 256
)

// History is what an engine process ran before the pass a simulation predicts, as
// `simval real --warmup W --repetitions N` runs it: the driver's warm-up policy, then
// earlier passes of the same trace. The warm-up policies are plain data, so the
// simulator replays them instead of needing a recorded warm-up.
type History struct {
	// Warmup is the driver's policy (WarmupPolicies); "" is WarmupNone.
	Warmup string
	// Repetition is the pass predicted, from 1; passes before it ran in the same process.
	Repetition int
	// MaxBatch caps the warm-up's concurrency wave (0: DefaultWarmupMaxBatch).
	MaxBatch int
}

// AfterHistory returns s set to start from the engine state h leaves on tgt for reqs:
// a fresh process (cold) that ran the warm-up's waves one after another, each to
// completion, then the trace (replay) and the earlier passes, each simulated from the
// graph keys the runs before it left. Nothing run before the pass: cold.
//
// Why simulate it: a lukewarm engine meets, in a pass, the step shapes its warm-up and
// earlier passes did not; which ones depends on the same scheduling the simulator
// models, so the keys a simulated history leaves stand for those a recorded one would.
func (s Simulator) AfterHistory(ctx context.Context, tgt *targets.Target, reqs []scenarios.Request, h History) (Simulator, error) {
	if h.Repetition < 1 {
		return s, fmt.Errorf("history: repetition %d: passes count from 1", h.Repetition)
	}
	var runs [][]scenarios.Request
	switch h.Warmup {
	case "", WarmupNone:
	case WarmupShapes, WarmupReplay:
		runs = warmupWaves(reqs, cmp.Or(h.MaxBatch, DefaultWarmupMaxBatch))
		if h.Warmup == WarmupReplay {
			runs = append(runs, reqs)
		}
	default:
		return s, fmt.Errorf("history: warm-up policy %q is not one of %v", h.Warmup, WarmupPolicies)
	}
	for range h.Repetition - 1 {
		runs = append(runs, reqs)
	}
	s.EngineState, s.WarmGraphs = simkit.StateCold, nil
	var ks keySet
	for _, run := range runs {
		one := s
		one.Phases = 1
		out, err := one.Run(ctx, tgt, run)
		if err != nil {
			return s, fmt.Errorf("history: %w", err)
		}
		ks.add(out.StepTrace, nil)
		if len(ks.keys) > 0 {
			s.EngineState, s.WarmGraphs = simkit.StateAfterWarmup, slices.Clone(ks.keys)
		}
	}
	return s, nil
}

// warmupWaves is warmup.py's plan(): one lone request per distinct prompt length (at
// most maxPrefillWaves, evenly spaced order statistics when there are more) with
// prefillWaveOutput output tokens, then one wave of B requests at the median prompt with
// outputs 2..B+1, B the trace's peak overlap at stepGuessS per token, capped by maxBatch
// and the request count. Every wave's requests arrive together at 0.
func warmupWaves(reqs []scenarios.Request, maxBatch int) [][]scenarios.Request {
	if len(reqs) == 0 {
		return nil
	}
	var waves [][]scenarios.Request
	for w, n := range prefillLengths(reqs) {
		waves = append(waves, []scenarios.Request{{ID: fmt.Sprintf("warmup-p%d", w), PromptTokens: n,
			OutputTokens: prefillWaveOutput}})
	}
	batch := max(1, min(estimateConcurrency(reqs), maxBatch, len(reqs)))
	prompts := make([]int, len(reqs))
	for i, r := range reqs {
		prompts[i] = r.PromptTokens
	}
	sort.Ints(prompts)
	median := prompts[len(prompts)/2]
	wave := make([]scenarios.Request, batch)
	for j := range wave {
		wave[j] = scenarios.Request{ID: fmt.Sprintf("warmup-c%d", j), PromptTokens: median, OutputTokens: 2 + j}
	}
	return append(waves, wave)
}

// prefillLengths is warmup.py's prefill_lengths (Python's round: half to even).
func prefillLengths(reqs []scenarios.Request) []int {
	set := map[int]bool{}
	for _, r := range reqs {
		set[r.PromptTokens] = true
	}
	lengths := make([]int, 0, len(set))
	for n := range set {
		lengths = append(lengths, n)
	}
	sort.Ints(lengths)
	if len(lengths) <= maxPrefillWaves {
		return lengths
	}
	last := float64(len(lengths) - 1)
	picks := map[int]bool{}
	for k := range maxPrefillWaves {
		picks[lengths[int(math.RoundToEven(float64(k)*last/(maxPrefillWaves-1)))]] = true
	}
	out := make([]int, 0, len(picks))
	for n := range picks {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// estimateConcurrency is warmup.py's estimate_concurrency: the peak number of requests
// in flight if each took stepGuessS per output token (+2 steps); at one instant, ends
// count before starts.
func estimateConcurrency(reqs []scenarios.Request) int {
	type event struct {
		t     float64
		delta int
	}
	events := make([]event, 0, 2*len(reqs))
	for _, r := range reqs {
		events = append(events, event{r.ArrivalS, 1}, event{r.ArrivalS + stepGuessS*float64(r.OutputTokens+2), -1})
	}
	sort.Slice(events, func(i, j int) bool {
		if events[i].t != events[j].t {
			return events[i].t < events[j].t
		}
		return events[i].delta < events[j].delta
	})
	peak, cur := 0, 0
	for _, e := range events {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}
