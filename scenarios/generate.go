package scenarios

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"path"
	"path/filepath"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Stream names: each purpose draws from its own generator, seeded from (seed, FNV-64a
// of the name), so adding a draw to one never shifts the others.
const (
	streamArrivals = "arrivals"
	streamPrompt   = "prompt_tokens"
	streamOutput   = "output_tokens"
)

func newStream(seed uint64, name string) *rand.PCG {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.NewPCG(seed, h.Sum64())
}

// Requests returns the workload for target: the base workload with the target's
// override applied, if it has one (any other target, or "", gets the base). The same
// scenario and target always give the same requests. Ids are "r0000", "r0001", … for
// generated workloads and as written for traces; arrivals are sorted.
func (s *Scenario) Requests(target string) ([]Request, error) {
	w, whole := s.Workload, []string{"workload"}
	if o, ok := s.Targets[target]; ok {
		w, whole = resolve(w, o), []string{"targets", target}
	}
	at := func(field string) []string { return append(slices.Clone(whole), field) }
	if errs := s.checkWorkload(w, at, whole); len(errs) > 0 {
		return nil, locate(s.source, nil, errs)
	}
	if w.Trace != "" {
		reqs, err := s.trace(w.Trace)
		return slices.Clone(reqs), err
	}
	n := w.Count
	if n == 0 { // explicit arrivals without a count
		n = len(w.Arrivals.TimesS)
	}
	arrivals := arrivalTimes(w.Arrivals, n, newStream(s.Seed, streamArrivals))
	prompts := lengths(w.PromptTokens, n, rand.New(newStream(s.Seed, streamPrompt)))
	outputs := lengths(w.OutputTokens, n, rand.New(newStream(s.Seed, streamOutput)))
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = Request{ID: requestID(i), ArrivalS: arrivals[i], PromptTokens: prompts[i], OutputTokens: outputs[i]}
	}
	// A valid spec can still overflow (a tiny rate makes gaps of 1e300 s); say so
	// rather than hand out infinite times.
	if err := ValidateRequests(reqs); err != nil {
		return nil, fmt.Errorf("scenario %s, target %q: generated workload is not usable: %w", s.Name, target, err)
	}
	return reqs, nil
}

// arrivalTimes draws n non-decreasing arrival times from a checked spec.
func arrivalTimes(a *Arrivals, n int, src rand.Source) []float64 {
	times := make([]float64, n)
	var gap func() float64
	switch a.Kind {
	case ArrivalsExplicit:
		copy(times, a.TimesS)
		return times
	case ArrivalsConstant:
		for i := range times {
			times[i] = a.StartS + float64(i)*a.SpacingS
		}
		return times
	case ArrivalsBurst:
		size := a.Size
		if size == 0 {
			size = n
		}
		for i := range times {
			times[i] = a.AtS + float64(i/size)*a.SpacingS
		}
		return times
	case ArrivalsPoisson:
		gap = distuv.Exponential{Rate: a.RatePerS, Src: src}.Rand
	case ArrivalsGamma:
		// gonum's Beta is the rate: shape k = 1/cv², rate k·λ gives mean gap 1/λ.
		k := 1 / (a.CV * a.CV)
		gap = distuv.Gamma{Alpha: k, Beta: k * a.RatePerS, Src: src}.Rand
	default:
		panic("scenarios: unchecked arrivals kind " + a.Kind)
	}
	t := a.StartS
	for i := range times {
		if i > 0 {
			t += gap()
		}
		times[i] = t
	}
	return times
}

// lengths draws n token counts from a checked spec.
func lengths(l *Lengths, n int, r *rand.Rand) []int {
	out := make([]int, n)
	for i := range out {
		switch l.Kind {
		case LengthsFixed:
			out[i] = l.Value
		case LengthsUniform:
			out[i] = l.Min + r.IntN(l.Max-l.Min+1)
		case LengthsList:
			out[i] = l.Values[i%len(l.Values)]
		default:
			panic("scenarios: unchecked lengths kind " + l.Kind)
		}
	}
	return out
}

// trace returns the requests of a trace path as written in the spec: from the cache
// filled at load time, or read now.
func (s *Scenario) trace(p string) ([]Request, error) {
	if reqs, ok := s.traces[p]; ok {
		return reqs, nil
	}
	return s.readTrace(p)
}

// readTrace reads a trace relative to the spec's own directory, on the spec's file
// system (the embedded catalog, or the OS).
func (s *Scenario) readTrace(p string) ([]Request, error) {
	if s.fsys == nil {
		name := p
		if !filepath.IsAbs(p) {
			name = filepath.Join(filepath.Dir(s.source), p)
		}
		return ReadTrace(name)
	}
	name := path.Join(path.Dir(s.source), p)
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("trace %q leaves the catalog", p)
	}
	if err := checkTraceFormat(name); err != nil {
		return nil, err
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTrace(f, name)
}

// cacheTraces reads every trace the spec names once, so Requests never touches files
// again; traces that fail are left for check to report.
func (s *Scenario) cacheTraces() {
	paths := []string{s.Workload.Trace}
	for _, o := range s.Targets {
		paths = append(paths, o.Trace)
	}
	for _, p := range paths {
		if _, done := s.traces[p]; p == "" || done {
			continue
		}
		if reqs, err := s.readTrace(p); err == nil {
			if s.traces == nil {
				s.traces = map[string][]Request{}
			}
			s.traces[p] = reqs
		}
	}
}
