package simkit

// eventKind names the simulator's events (Vidur's, reference §1); arrivals are not
// queued here but streamed, see engine.run.
type eventKind uint8

const (
	evGlobalSchedule eventKind = iota + 1
	evReplicaSchedule
	evStageArrival
	evStageSchedule
	evStageEnd
	evBatchEnd
)

// event is one pending event. Events are ordered by (time, seq) where seq is the
// creation order, as in Vidur: no type priority.
type event struct {
	t       float64
	seq     uint64
	kind    eventKind
	replica int32
	stage   int32
	fl      *inflight
}

func (a *event) before(b *event) bool {
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

// eventHeap is a binary min-heap of events by value; it does not allocate once grown.
type eventHeap struct{ h []event }

func (q *eventHeap) Len() int { return len(q.h) }

func (q *eventHeap) min() *event { return &q.h[0] }

func (q *eventHeap) push(e event) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 { // move the hole up instead of swapping
		p := (i - 1) / 2
		if !e.before(&q.h[p]) {
			break
		}
		q.h[i] = q.h[p]
		i = p
	}
	q.h[i] = e
}

func (q *eventHeap) pop() event {
	top := q.h[0]
	n := len(q.h) - 1
	last := q.h[n]
	q.h[n] = event{}
	q.h = q.h[:n]
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && q.h[r].before(&q.h[c]) {
			c = r
		}
		if !q.h[c].before(&last) {
			break
		}
		q.h[i] = q.h[c]
		i = c
	}
	q.h[i] = last
	return top
}
