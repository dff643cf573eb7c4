package validation

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
)

// Perfetto trace layout: process 1 holds the real repetitions (thread k+1 for
// repetition k, counted from 0), process 2 the simulation (thread 1).
const (
	perfettoRealPID = 1
	perfettoSimPID  = 2
	perfettoSimTID  = 1
)

// traceMeta is a metadata event (ph "M") naming a process or a thread.
type traceMeta struct {
	Name string       `json:"name"`
	Ph   string       `json:"ph"`
	PID  int          `json:"pid"`
	TID  int          `json:"tid"`
	Args traceMetaArg `json:"args"`
}

type traceMetaArg struct {
	Name string `json:"name"`
}

// traceStep is a complete event (ph "X") for one step; ts and dur in µs.
type traceStep struct {
	Name string        `json:"name"`
	Cat  string        `json:"cat"`
	Ph   string        `json:"ph"`
	TS   float64       `json:"ts"`
	Dur  float64       `json:"dur"`
	PID  int           `json:"pid"`
	TID  int           `json:"tid"`
	Args traceStepArgs `json:"args"`
}

type traceStepArgs struct {
	Index    int  `json:"index"`
	QTokens  int  `json:"q_tokens"`
	KVRead   int  `json:"kv_read"`
	QPad     int  `json:"q_pad"`
	KVPad    int  `json:"kv_pad"`
	SeqKPad  int  `json:"seqk_pad"`
	Captured bool `json:"captured"`
	Graphs   int  `json:"graphs"`
	Requests int  `json:"requests"`
}

// traceOtherData is the trace's "otherData": its title and how to get back from
// ts to seconds since a repetition's t0.
type traceOtherData struct {
	Title   string  `json:"title"`
	OffsetS float64 `json:"offset_s"`
	Note    string  `json:"time_note"`
}

// WritePerfetto writes the step traces as a Chrome trace-event JSON file (the JSON
// Object Format) that opens in Perfetto (ui.perfetto.dev) or chrome://tracing:
// process "real" (pid 1) has one thread per repetition (tid k for "repetition k",
// counted from 1), process "sim" (pid 2) one thread "sim". Every step, warm-up steps
// included (named "<kind> (warm-up)"), is a complete event (ph "X", category "step")
// named by its kind, with ts and dur in microseconds and the step's shape in args.
//
// All tracks share one time shift, so that the repetitions and the simulation stay
// aligned on their t0: the earliest step of all (usually a warm-up step, with
// negative StartS) is at ts 0, and otherData.offset_s keeps that step's StartS, so a
// step's time since its repetition's t0 is ts/1e6 + offset_s seconds. Times are
// rounded to the nanosecond.
//
// Each event is written on its own line; the same inputs give the same bytes. A
// step with a non-finite start, or a non-finite or negative duration, is refused
// with an error naming the side, repetition and step; so is input without any step.
func WritePerfetto(w io.Writer, title string, real [][]Step, sim []Step) error {
	if err := checkStepTraces(real, sim); err != nil {
		return fmt.Errorf("perfetto: %w", err)
	}
	offset, ok := earliestStart(real, sim)
	if !ok {
		return fmt.Errorf("perfetto: no steps on either side")
	}

	events := []any{
		traceMeta{Name: "process_name", Ph: "M", PID: perfettoRealPID, Args: traceMetaArg{"real"}},
		traceMeta{Name: "process_name", Ph: "M", PID: perfettoSimPID, Args: traceMetaArg{"sim"}},
	}
	for r := range real {
		events = append(events, traceMeta{Name: "thread_name", Ph: "M", PID: perfettoRealPID, TID: r + 1,
			Args: traceMetaArg{fmt.Sprintf("repetition %d", r+1)}})
	}
	events = append(events, traceMeta{Name: "thread_name", Ph: "M", PID: perfettoSimPID, TID: perfettoSimTID,
		Args: traceMetaArg{"sim"}})
	for r, rep := range real {
		for _, s := range rep {
			events = append(events, stepEvent(s, perfettoRealPID, r+1, offset))
		}
	}
	for _, s := range sim {
		events = append(events, stepEvent(s, perfettoSimPID, perfettoSimTID, offset))
	}

	bw := bufio.NewWriter(w)
	bw.WriteString("{\"traceEvents\":[\n")
	for i, e := range events {
		b, err := marshalCompact(e)
		if err != nil {
			return fmt.Errorf("perfetto: event %d: %w", i, err)
		}
		bw.Write(b)
		if i < len(events)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	other, err := marshalCompact(traceOtherData{
		Title:   title,
		OffsetS: offset,
		Note:    "seconds since the repetition's t0 = ts/1e6 + offset_s",
	})
	if err != nil {
		return fmt.Errorf("perfetto: other data: %w", err)
	}
	bw.WriteString("],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":")
	bw.Write(other)
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("perfetto: write: %w", err)
	}
	return nil
}

// earliestStart is the smallest StartS of any step, and false when there is none.
func earliestStart(real [][]Step, sim []Step) (float64, bool) {
	first, ok := math.Inf(1), false
	visit := func(steps []Step) {
		for _, s := range steps {
			first, ok = math.Min(first, s.StartS), true
		}
	}
	for _, rep := range real {
		visit(rep)
	}
	visit(sim)
	return first, ok
}

func stepEvent(s Step, pid, tid int, offset float64) traceStep {
	name := string(s.Kind())
	if s.Warmup {
		name += " (warm-up)"
	}
	return traceStep{
		Name: name, Cat: "step", Ph: "X",
		TS:  roundNs(1e6 * (s.StartS - offset)),
		Dur: roundNs(1e6 * s.DurationS),
		PID: pid, TID: tid,
		Args: traceStepArgs{
			Index: s.Index, QTokens: s.QTokens, KVRead: s.KVRead,
			QPad: s.QPad, KVPad: s.KVPad, SeqKPad: s.SeqKPad,
			Captured: s.Captured, Graphs: s.Graphs, Requests: len(s.Items),
		},
	}
}

// marshalCompact is json.Marshal without HTML escaping (a title may hold < or &).
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// roundNs rounds a time in microseconds to the nanosecond.
func roundNs(us float64) float64 { return math.Round(1e3*us) / 1e3 }
