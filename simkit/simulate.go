package simkit

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// Simulate runs the workload and returns one record per request, in input order.
// Requests may come in any order; they arrive by time, ties in input order.
func Simulate(opts Options, reqs []scenarios.Request) (*Result, error) {
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
		if math.IsNaN(reqs[i].ArrivalS) {
			return nil, fmt.Errorf("request %q (index %d): arrival time is NaN", reqs[i].ID, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(reqs[a].ArrivalS, reqs[b].ArrivalS) })
	res := &Result{Records: make([]validation.Record, len(reqs))}
	pos := 0
	next := func() (scenarios.Request, int, bool) {
		if pos == len(order) {
			return scenarios.Request{}, 0, false
		}
		i := order[pos]
		pos++
		return reqs[i], i, true
	}
	emit := func(r *SimRequest) error {
		res.Records[r.Index] = record(r)
		return nil
	}
	tot, err := simulate(opts, next, emit, true)
	if err != nil {
		return nil, err
	}
	res.Steps, res.KernelS, res.CPUS, res.BusyS, res.Warnings = tot.Steps, tot.KernelS, tot.CPUS, tot.BusyS, tot.Warnings
	res.CaptureS, res.Captures, res.StepTrace = tot.CaptureS, tot.Captures, tot.steps
	return res, nil
}

// SimulateStream runs a workload too large to hold: next yields requests in arrival
// order (an out-of-order arrival is an error), and emit receives each request's record
// when it completes (completion order). Memory is bounded by the requests in flight;
// per-token times are kept only with keepTokenTimes (otherwise TokenTimesS is nil and
// FirstTokenS and CompletionS still hold t1 and tD). An error from emit stops the run.
func SimulateStream(opts Options, next func() (scenarios.Request, bool),
	emit func(validation.Record) error, keepTokenTimes bool) (Totals, error) {
	idx := 0
	nextIndexed := func() (scenarios.Request, int, bool) {
		r, ok := next()
		if !ok {
			return scenarios.Request{}, 0, false
		}
		idx++
		return r, idx - 1, true
	}
	return simulate(opts, nextIndexed, func(r *SimRequest) error { return emit(record(r)) }, keepTokenTimes)
}

// record is the request's validation record. A restarted request keeps the token
// times it emitted before the restart and continues after them; its first token and
// first scheduling times are those of its first attempt.
func record(r *SimRequest) validation.Record {
	scheduled := r.ScheduledAtS
	return validation.Record{
		ID:              r.Request.ID,
		ArrivalS:        r.Request.ArrivalS,
		PromptTokens:    r.Request.PromptTokens,
		OutputTokens:    r.Request.OutputTokens,
		FirstTokenS:     r.FirstTokenS,
		TokenTimesS:     r.TokenTimesS,
		CompletionS:     r.CompletedS,
		FirstScheduledS: &scheduled,
		Restarts:        r.Restarts,
	}
}

func simulate(opts Options, next func() (scenarios.Request, int, bool),
	emit func(*SimRequest) error, keepTokenTimes bool) (Totals, error) {
	warn := newWarnings()
	e, err := newEngine(opts, warn)
	if err != nil {
		return Totals{}, err
	}
	e.emit, e.keepTokens = emit, keepTokenTimes
	runErr := e.run(next)
	if w, ok := e.pred.(interface{ Warnings() []string }); ok {
		for _, m := range w.Warnings() {
			warn.add(m)
		}
	}
	e.totals.Warnings = warn.list()
	e.totals.steps = e.steps
	return e.totals, runErr
}

func newEngine(opts Options, warn *warnings) (*engine, error) {
	pp := max(opts.Settings.PP, 1)
	if opts.Settings.PP < 0 || opts.Settings.TP < 0 || opts.Replicas < 0 {
		return nil, fmt.Errorf("settings.tp %d, settings.pp %d and replicas %d must not be negative",
			opts.Settings.TP, opts.Settings.PP, opts.Replicas)
	}
	pred := opts.Predictor
	if pred == nil {
		if opts.Profile == nil {
			return nil, errors.New("simkit: Options needs a Profile or a Predictor")
		}
		p, err := NewProfilePredictor(opts.Profile, opts)
		if err != nil {
			return nil, err
		}
		pred = p
	}
	global, err := newGlobalScheduler(opts.GlobalScheduler, opts.Seed, opts.LORQueueOnly)
	if err != nil {
		return nil, err
	}
	gpuMem := opts.GPUMemoryGB
	if gpuMem == 0 && opts.Profile != nil {
		gpuMem, _ = KnownGPUMemoryGB(opts.Profile.Provenance.GPU)
	}
	n := max(opts.Replicas, 1)
	e := &engine{
		pred:      pred,
		numStages: pp,
		global:    global,
		touched:   make([]bool, n),
		live:      map[int]*SimRequest{},
		trace:     opts.StepTrace,
	}
	if gm, ok := pred.(GraphModel); ok {
		e.gm = gm
		e.firstUse = opts.FirstUse
	}
	if ip, ok := pred.(idlePoller); ok {
		e.poll = ip.IdlePoll()
	}
	for id := range n {
		s, err := NewScheduler(SchedulerConfig{
			Settings:         opts.Settings,
			Model:            opts.Model,
			NumStages:        pp,
			Replica:          id,
			GPUMemoryGB:      gpuMem,
			MaxRequestTokens: opts.MaxRequestTokens,
			Warn:             warn.add,
		})
		if err != nil {
			return nil, err
		}
		graphs, err := newGraphCache(opts, e.gm, warn.add)
		if err != nil {
			return nil, err
		}
		// Where the first request falls in an idle poll, unless told when the engine went
		// idle, is unknown: half a period on average.
		idle := IdleState{SinceS: -e.poll.period / 2}
		if opts.Idle != nil {
			if v := opts.Idle.SinceS; v > 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("idle since %g s: want a finite time at or before t = 0", v)
			}
			idle = *opts.Idle
		}
		e.replicas = append(e.replicas, &replica{id: id, sched: s, stages: make([]stageState, pp), graphs: graphs,
			idleSince: idle.SinceS, wokeAt: -1, poll: pollState{wakePending: idle.WakePending}})
	}
	return e, nil
}
