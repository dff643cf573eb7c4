package simkit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// inflight is a batch between its formation and its end, passing through the stages.
type inflight struct {
	batch Batch
}

// stageState is one pipeline stage of a replica: a FIFO of batches and a busy flag.
type stageState struct {
	queue []*inflight
	busy  bool
}

type replica struct {
	id      int
	sched   Scheduler
	running int // batches in flight
	// outstanding counts the requests routed here and not yet completed: waiting and
	// running (the "lor" global scheduler's count in default mode).
	outstanding int
	stages      []stageState
	graphs      *graphCache // the replica's engine process's captured CUDA graphs
	// idleSince is when the replica's last batch ended (its engine's idle polls count
	// from there; engine.poll). wokeAt is when the driver rank drained a request while
	// idle, waiting for the poll (negative: not waiting): the engine's step starts
	// there, inside prepare_next_batch, and waits in its collective.
	idleSince, wokeAt float64
	poll              pollState
}

func (r *replica) pending() int { return r.sched.Pending() }

// engine is the discrete-event core: Vidur's flow (reference §1) on a logical clock.
// It is single-threaded and deterministic.
type engine struct {
	pred      Predictor
	numStages int
	replicas  []*replica
	global    globalScheduler
	q         eventHeap
	seq       uint64
	now       float64

	globalQueue []*SimRequest // arrived, not yet routed
	flFree      []*inflight
	done        []*SimRequest // scratch: completions of one batch
	touched     []bool        // scratch: replicas a global round routed to
	live        map[int]*SimRequest
	keepTokens  bool
	emit        func(*SimRequest) error
	totals      Totals

	gm       GraphModel // the predictor's capture model; nil when it has none
	firstUse FirstUse
	// poll is how an idle replica admits requests (idlePoller); a zero period: at once.
	poll  pollTiming
	trace bool // record steps
	steps []validation.Step
	past  []int // scratch: items' cached tokens for the step trace
}

func (e *engine) push(t float64, kind eventKind, rep, stage int, fl *inflight) {
	e.seq++
	e.q.push(event{t: t, seq: e.seq, kind: kind, replica: int32(rep), stage: int32(stage), fl: fl})
}

// run streams arrivals from next and runs until every event is handled. Arrivals
// precede every other event at the same instant, as Vidur's arrival events (created
// first, so with the smallest ids) do.
func (e *engine) run(next func() (scenarios.Request, int, bool)) error {
	req, idx, have := next()
	prevArrival := math.Inf(-1)
	for {
		if have && (e.q.Len() == 0 || req.ArrivalS <= e.q.min().t) {
			if err := checkRequest(req, idx, prevArrival); err != nil {
				return err
			}
			prevArrival = req.ArrivalS
			e.arrive(req, idx)
			req, idx, have = next()
			continue
		}
		if e.q.Len() == 0 {
			break
		}
		ev := e.q.pop()
		e.now = ev.t
		if err := e.handle(&ev); err != nil {
			return err
		}
	}
	return e.checkDrained()
}

func checkRequest(req scenarios.Request, idx int, prevArrival float64) error {
	switch {
	case math.IsNaN(req.ArrivalS) || math.IsInf(req.ArrivalS, 0):
		return fmt.Errorf("request %q (index %d): arrival time %g is not finite", req.ID, idx, req.ArrivalS)
	case req.ArrivalS < prevArrival:
		return fmt.Errorf("request %q (index %d) arrives at %gs, before the previous request (%gs); "+
			"requests must come in arrival order", req.ID, idx, req.ArrivalS, prevArrival)
	case req.PromptTokens < 1:
		return fmt.Errorf("request %q (index %d): prompt_tokens %d, need at least 1", req.ID, idx, req.PromptTokens)
	case req.OutputTokens < 1:
		return fmt.Errorf("request %q (index %d): output_tokens %d, need at least 1", req.ID, idx, req.OutputTokens)
	}
	return nil
}

func (e *engine) arrive(req scenarios.Request, idx int) {
	r := NewSimRequest(idx, req, e.keepTokens)
	e.live[idx] = r
	e.totals.Requests++
	e.globalQueue = append(e.globalQueue, r)
	e.seq++
	e.q.push(event{t: req.ArrivalS, seq: e.seq, kind: evGlobalSchedule})
}

func (e *engine) handle(ev *event) error {
	switch ev.kind {
	case evGlobalSchedule:
		e.globalSchedule()
	case evReplicaSchedule:
		e.replicaSchedule(e.replicas[ev.replica])
	case evStageArrival:
		st := &e.replicas[ev.replica].stages[ev.stage]
		st.queue = append(st.queue, ev.fl)
		e.push(e.now, evStageSchedule, int(ev.replica), int(ev.stage), nil)
	case evStageSchedule:
		return e.stageSchedule(e.replicas[ev.replica], int(ev.stage))
	case evStageEnd:
		rep := e.replicas[ev.replica]
		rep.stages[ev.stage].busy = false
		e.push(e.now, evStageSchedule, rep.id, int(ev.stage), nil)
		if int(ev.stage) == e.numStages-1 {
			e.push(e.now, evBatchEnd, rep.id, 0, ev.fl)
		} else {
			e.push(e.now, evStageArrival, rep.id, int(ev.stage)+1, ev.fl)
		}
	case evBatchEnd:
		return e.batchEnd(e.replicas[ev.replica], ev.fl)
	}
	return nil
}

// globalSchedule routes every queued arrival (already in arrival order) and wakes the
// replicas that got one, in id order.
func (e *engine) globalSchedule() {
	if len(e.globalQueue) == 0 {
		return
	}
	for _, r := range e.globalQueue {
		id := e.global.pick(e.replicas)
		r.Replica = id
		rep := e.replicas[id]
		rep.outstanding++
		if e.poll.period > 0 && !e.pollAdmit(rep, r) {
			continue
		}
		rep.sched.Add(r)
		e.touched[id] = true
	}
	clear(e.globalQueue)
	e.globalQueue = e.globalQueue[:0]
	for id, hit := range e.touched {
		if hit {
			e.touched[id] = false
			at, rep := e.now, e.replicas[id]
			if rep.poll.pending {
				at = rep.poll.pollAt // an idle engine that polls admits at its poll
			}
			e.push(at, evReplicaSchedule, id, 0, nil)
		}
	}
}

func (e *engine) replicaSchedule(rep *replica) {
	if rep.poll.pending {
		if e.now < rep.poll.pollAt {
			return // the drained requests wait for the followers' poll
		}
		defer e.polled(rep)
	}
	for rep.running < e.numStages {
		b, ok := rep.sched.NextBatch(e.now)
		if !ok {
			return
		}
		rep.running++
		for _, it := range b.Items {
			it.Req.OnBatchSchedule(e.now)
		}
		fl := e.newInflight()
		fl.batch = b
		fl.batch.Replica = rep.id
		e.push(e.now, evStageArrival, rep.id, 0, fl)
	}
}

func (e *engine) stageSchedule(rep *replica, stage int) error {
	st := &rep.stages[stage]
	if st.busy || len(st.queue) == 0 {
		return nil
	}
	fl := st.queue[0]
	copy(st.queue, st.queue[1:])
	st.queue[len(st.queue)-1] = nil
	st.queue = st.queue[:len(st.queue)-1]
	st.busy = true
	fl.batch.Stage = stage
	step, err := e.pred.Predict(fl.batch)
	if err != nil {
		return fmt.Errorf("replica %d stage %d at %gs, batch of %d requests (%s) and %d tokens: %w",
			rep.id, stage, e.now, len(fl.batch.Items), batchIDs(fl.batch), fl.batch.NumTokens(), err)
	}
	if !(step.TotalS >= 0) || math.IsInf(step.TotalS, 0) {
		return fmt.Errorf("replica %d stage %d at %gs: predicted step time %g is not a finite non-negative time",
			rep.id, stage, e.now, step.TotalS)
	}
	if stage == 0 {
		if err := e.graphStep(rep, fl.batch, &step); err != nil {
			return fmt.Errorf("replica %d at %gs, batch of %d requests (%s) and %d tokens: %w",
				rep.id, e.now, len(fl.batch.Items), batchIDs(fl.batch), fl.batch.NumTokens(), err)
		}
		rep.wokeAt = -1
	}
	e.totals.KernelS += step.KernelS
	e.totals.CPUS += step.CPUS
	e.totals.CaptureS += step.CaptureS
	e.totals.BusyS += step.TotalS
	e.push(e.now+step.TotalS, evStageEnd, rep.id, stage, fl)
	return nil
}

// batchIDs names a batch's requests for an error: their ids and positions in the
// workload (a trace's row order), the first few and how many more.
func batchIDs(b Batch) string {
	const shown = 4
	var parts []string
	for i, it := range b.Items {
		if i == shown {
			parts = append(parts, fmt.Sprintf("and %d more", len(b.Items)-shown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s, request %d of the workload, %d tokens", it.Req.Request.ID, it.Req.Index+1, it.Tokens))
	}
	return strings.Join(parts, "; ")
}

// graphStep charges a step that meets a graph key its engine process has not captured
// yet, and records the step when a trace is kept.
func (e *engine) graphStep(rep *replica, b Batch, step *StepTime) error {
	if e.gm == nil && !e.trace {
		return nil
	}
	var shape StepShape
	if e.gm != nil {
		if e.trace {
			e.past = slices.Grow(e.past[:0], len(b.Items))[:len(b.Items)]
			shape = e.gm.StepShape(b, e.past)
		} else if !rep.graphs.all {
			shape = e.gm.StepShape(b, nil)
		}
	}
	captured := false
	if e.gm != nil && !rep.graphs.all {
		var ev CaptureEvent
		if captured, ev = rep.graphs.capture(shape.Key, e.gm.KernelVariant(shape.Key)); captured {
			ev.At = e.firstUse
			extra, err := e.gm.CaptureS(b, ev)
			if err != nil {
				return fmt.Errorf("graph capture %s: %w", shape.Key, err)
			}
			step.CaptureS = extra
			step.TotalS += extra
			e.totals.Captures++
		}
	}
	if e.trace {
		st := e.traceStep(rep, b, shape, *step, captured)
		if rep.wokeAt >= 0 {
			// As the engine clocks it: from its wake-up, the poll's wait included.
			st.StartS, st.DurationS = rep.wokeAt, st.DurationS+e.now-rep.wokeAt
		}
		e.steps = append(e.steps, st)
	}
	return nil
}

// traceStep is step b as a step-trace record.
func (e *engine) traceStep(rep *replica, b Batch, shape StepShape, step StepTime, captured bool) validation.Step {
	st := validation.Step{Index: len(e.steps), StartS: e.now, DurationS: step.TotalS, Captured: captured,
		CommS: step.CommS, Items: make([]validation.StepItem, len(b.Items))}
	for i, it := range b.Items {
		item := validation.StepItem{ID: it.Req.Request.ID}
		if it.Req.PrefillComplete {
			item.Decode = 1
		} else {
			item.Prefill = it.Tokens
		}
		if e.gm != nil {
			item.Past = e.past[i]
		} else {
			item.Past = it.Req.Processed
			shape.QTokens += it.Tokens
			shape.KVRead += it.Req.Processed
		}
		st.Items[i] = item
	}
	st.QTokens, st.KVRead = shape.QTokens, shape.KVRead
	st.QPad, st.KVPad, st.SeqKPad = shape.Key.Q, shape.Key.KV, shape.Key.SeqK
	if rep.graphs != nil {
		st.Graphs = rep.graphs.size()
	}
	return st
}

func (e *engine) batchEnd(rep *replica, fl *inflight) error {
	e.totals.Steps++
	e.done = e.done[:0]
	for _, it := range fl.batch.Items {
		it.Req.OnBatchEnd(e.now, it.Tokens)
		if it.Req.Completed {
			e.done = append(e.done, it.Req)
		}
	}
	rep.running--
	rep.idleSince = e.now
	rep.sched.OnBatchEnd(fl.batch, e.now)
	e.freeInflight(fl)
	for _, r := range e.done {
		rep.outstanding--
		delete(e.live, r.Index)
		e.totals.EndS = e.now
		if err := e.emit(r); err != nil {
			return err
		}
	}
	clear(e.done)
	e.push(e.now, evReplicaSchedule, rep.id, 0, nil)
	return nil
}

func (e *engine) newInflight() *inflight {
	if n := len(e.flFree); n > 0 {
		fl := e.flFree[n-1]
		e.flFree = e.flFree[:n-1]
		return fl
	}
	return &inflight{}
}

func (e *engine) freeInflight(fl *inflight) {
	*fl = inflight{}
	e.flFree = append(e.flFree, fl)
}

// checkDrained reports requests that never completed: the queue ran dry with them
// still held, which means a scheduler could never run them (typically a prompt that
// needs more KV blocks than the replica has above its watermark).
func (e *engine) checkDrained() error {
	if len(e.live) == 0 {
		return nil
	}
	var first *SimRequest
	for _, r := range e.live {
		if first == nil || r.Index < first.Index {
			first = r
		}
	}
	state := "never scheduled"
	if first.Scheduled {
		state = fmt.Sprintf("stuck after %d of %d tokens", first.Processed, first.Total())
	}
	return fmt.Errorf("simulation stalled at %gs with %d requests unfinished; the first, %q (index %d, "+
		"prompt %d, output %d, replica %d), was %s: the scheduler could not run it "+
		"(does its prompt fit in the KV blocks above the watermark?)",
		e.now, len(e.live), first.Request.ID, first.Index, first.Request.PromptTokens,
		first.Request.OutputTokens, first.Replica, state)
}
