package realkit

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/simval/simval/scenarios"
)

// Event reports progress while a run goes on: a ready, meta, request or summary line
// was accepted. Finished counts the finished requests of repetition Rep.
type Event struct {
	Kind     string
	Rep      int
	Finished int
	Total    int
}

// session turns protocol lines into a Run, enforcing the protocol's order and the
// requests' consistency with the trace. It is not safe for concurrent use.
type session struct {
	trace       map[string]int // id → index in reqs
	reqs        []scenarios.Request
	repetitions int
	progress    func(Event)

	run      Run
	ready    bool
	haveMeta bool
	rep      int             // repetition the next request/step/summary belongs to
	seen     map[string]bool // ids finished in the current repetition
	lineNo   int
	lastLine string
	fatal    string // message of the driver's fatal error line, if any
	onReady  func()
	protoErr error
}

func newSession(reqs []scenarios.Request, repetitions int, progress func(Event)) *session {
	s := &session{trace: make(map[string]int, len(reqs)), reqs: reqs, repetitions: repetitions,
		progress: progress, seen: map[string]bool{}}
	for i, r := range reqs {
		s.trace[r.ID] = i
	}
	return s
}

// line handles one protocol line; an error is a protocol violation.
func (s *session) line(raw []byte) error {
	s.lineNo++
	s.lastLine = truncate(string(raw), 300)
	if s.protoErr != nil {
		return s.protoErr
	}
	if err := s.handle(raw); err != nil {
		s.protoErr = fmt.Errorf("protocol error on stdout line %d: %w", s.lineNo, err)
		return s.protoErr
	}
	return nil
}

func (s *session) handle(raw []byte) error {
	kind, rest, err := splitLine(raw)
	if err != nil {
		return err
	}
	if s.fatal != "" {
		return fmt.Errorf("%s line after the fatal error line", kind)
	}
	if kind != "error" && kind != "ready" && !s.ready {
		return fmt.Errorf("%s line before the ready line", kind)
	}
	if (kind == "request" || kind == "step" || kind == "summary") && !s.haveMeta {
		return fmt.Errorf("%s line before the meta line", kind)
	}
	if (kind == "request" || kind == "step" || kind == "summary") && s.rep >= s.repetitions {
		return fmt.Errorf("%s line after the last repetition's summary", kind)
	}
	switch kind {
	case "ready":
		return s.onReadyLine(rest)
	case "meta":
		return s.onMeta(rest)
	case "request":
		return s.onRequest(rest)
	case "step":
		var st struct {
			Rep int `json:"rep"`
			Step
		}
		if err := decodeStrict(rest, &st); err != nil {
			return fmt.Errorf("step line: %w", err)
		}
		if err := s.checkRep(st.Rep); err != nil {
			return err
		}
		s.current().Steps = append(s.current().Steps, st.Step)
	case "summary":
		return s.onSummary(rest)
	case "error":
		var e errorLine
		if err := decodeStrict(rest, &e); err != nil {
			return fmt.Errorf("error line: %w", err)
		}
		if e.Fatal {
			s.fatal = e.Message
		} else {
			s.run.Warnings = append(s.run.Warnings, e.Message)
		}
	}
	return nil
}

func (s *session) onReadyLine(rest []byte) error {
	if s.ready {
		return fmt.Errorf("second ready line")
	}
	if err := decodeStrict(rest, &s.run.Ready); err != nil {
		return fmt.Errorf("ready line: %w", err)
	}
	if s.run.Ready.Protocol != ProtocolVersion {
		return fmt.Errorf("driver speaks protocol %d, want %d", s.run.Ready.Protocol, ProtocolVersion)
	}
	s.ready = true
	if s.onReady != nil {
		s.onReady()
	}
	s.emit("ready")
	return nil
}

func (s *session) onMeta(rest []byte) error {
	if s.haveMeta {
		return fmt.Errorf("second meta line")
	}
	if err := decodeStrict(rest, &s.run.Meta); err != nil {
		return fmt.Errorf("meta line: %w", err)
	}
	if s.run.Meta.Repetitions != s.repetitions {
		return fmt.Errorf("meta line: driver will run %d repetitions, want %d", s.run.Meta.Repetitions,
			s.repetitions)
	}
	if s.run.Meta.Timestamps != "engine" && s.run.Meta.Timestamps != "client" {
		return fmt.Errorf(`meta line: timestamps %q, want "engine" or "client"`, s.run.Meta.Timestamps)
	}
	s.haveMeta = true
	s.emit("meta")
	return nil
}

func (s *session) onRequest(rest []byte) error {
	var l requestLine
	if err := decodeStrict(rest, &l); err != nil {
		return fmt.Errorf("request line: %w", err)
	}
	if err := s.checkRep(l.Rep); err != nil {
		return err
	}
	idx, ok := s.trace[l.ID]
	if !ok {
		return fmt.Errorf("request %q is not in the trace", l.ID)
	}
	if s.seen[l.ID] {
		return fmt.Errorf("request %q finished twice in repetition %d", l.ID, l.Rep)
	}
	want := s.reqs[idx]
	if l.ArrivalS != want.ArrivalS || l.PromptTokens != want.PromptTokens || l.OutputTokens != want.OutputTokens {
		return fmt.Errorf("request %q: arrival %v, prompt %d, output %d differ from the trace's %v, %d, %d", l.ID,
			l.ArrivalS, l.PromptTokens, l.OutputTokens, want.ArrivalS, want.PromptTokens, want.OutputTokens)
	}
	rec := l.record()
	if err := checkRecord(rec); err != nil {
		return err
	}
	if l.FinishReason != "length" {
		s.run.Warnings = append(s.run.Warnings, fmt.Sprintf("request %s (repetition %d) finished with reason %q",
			l.ID, l.Rep, l.FinishReason))
	}
	s.seen[l.ID] = true
	cur := s.current()
	cur.Records = append(cur.Records, rec)
	cur.SubmittedS = append(cur.SubmittedS, l.SubmittedS)
	s.emit("request")
	return nil
}

func (s *session) onSummary(rest []byte) error {
	var l struct {
		Rep int `json:"rep"`
		Summary
	}
	if err := decodeStrict(rest, &l); err != nil {
		return fmt.Errorf("summary line: %w", err)
	}
	if err := s.checkRep(l.Rep); err != nil {
		return err
	}
	cur := s.current()
	if l.Requests != len(s.reqs) || l.Finished != len(cur.Records) {
		return fmt.Errorf("summary of repetition %d: %d of %d requests finished, but %d request lines for %d"+
			" trace requests were seen", l.Rep, l.Finished, l.Requests, len(cur.Records), len(s.reqs))
	}
	summary := l.Summary
	cur.Summary = &summary
	s.finishRepetition(cur)
	s.emit("summary")
	s.rep++
	s.seen = map[string]bool{}
	return nil
}

func (s *session) checkRep(rep int) error {
	if rep != s.rep {
		return fmt.Errorf("line for repetition %d while repetition %d is running", rep, s.rep)
	}
	return nil
}

// current returns the repetition in progress, creating it on its first line.
func (s *session) current() *Repetition {
	for len(s.run.Repetitions) <= s.rep {
		s.run.Repetitions = append(s.run.Repetitions, Repetition{Index: len(s.run.Repetitions)})
	}
	return &s.run.Repetitions[s.rep]
}

// finishRepetition puts records in trace order and computes lateness.
func (s *session) finishRepetition(r *Repetition) {
	order := make([]int, len(r.Records))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(s.trace[r.Records[a].ID], s.trace[r.Records[b].ID])
	})
	recs := slices.Clone(r.Records)
	subs := slices.Clone(r.SubmittedS)
	for i, j := range order {
		r.Records[i], r.SubmittedS[i] = recs[j], subs[j]
	}
	r.Lateness = ComputeLateness(r.Records, r.SubmittedS)
}

// finish closes the run after the driver exited, also when it died mid-repetition.
func (s *session) finish() *Run {
	if s.rep < len(s.run.Repetitions) {
		s.finishRepetition(&s.run.Repetitions[s.rep])
	}
	return &s.run
}

func (s *session) finishedTotal() int {
	n := 0
	for _, r := range s.run.Repetitions {
		n += len(r.Records)
	}
	return n
}

// complete says whether every repetition finished every request.
func (s *session) complete() bool {
	if s.rep != s.repetitions || len(s.run.Repetitions) != s.repetitions {
		return false
	}
	for _, r := range s.run.Repetitions {
		if len(r.Records) != len(s.reqs) {
			return false
		}
	}
	return true
}

func (s *session) emit(kind string) {
	if s.progress == nil {
		return
	}
	ev := Event{Kind: kind, Rep: s.rep, Total: len(s.reqs)}
	if s.rep < len(s.run.Repetitions) {
		ev.Finished = len(s.run.Repetitions[s.rep].Records)
	}
	s.progress(ev)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
