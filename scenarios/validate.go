package scenarios

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/simval/simval/validation"
)

// namePattern is what scenario names, regimes and target keys look like: they end up
// in Go subtest names, file names and report headings.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

var (
	arrivalKinds = []string{ArrivalsExplicit, ArrivalsConstant, ArrivalsBurst, ArrivalsPoisson, ArrivalsGamma}
	lengthKinds  = []string{LengthsFixed, LengthsUniform, LengthsList}
)

// maxCV keeps the gamma shape 1/cv² away from zero, where draws underflow to 0.
const maxCV = 10

// check returns every problem with s's values. Traces are read here (from the cache
// Parse fills) so that a bad trace fails at load time, not mid-run.
func (s *Scenario) check() []fieldError {
	var errs []fieldError
	add := func(path []string, format string, args ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
	}
	checkName := func(field, v string) {
		switch {
		case v == "":
			add([]string{field}, "required")
		case !namePattern.MatchString(v):
			add([]string{field}, "%q must be lower case letters, digits, '.', '_' or '-' (at most 64)", v)
		}
	}
	checkName("name", s.Name)
	checkName("regime", s.Regime)
	if strings.TrimSpace(s.Description) == "" {
		add([]string{"description"}, "required: say what regime the scenario exercises and why")
	}
	if !slices.Contains(EngineStates, s.EngineState) {
		add([]string{"engine_state"}, "%q is not one of %s (empty means warm)", s.EngineState,
			strings.Join(EngineStates[1:], ", "))
	}

	base := func(field string) []string { return []string{"workload", field} }
	errs = append(errs, s.checkWorkload(s.Workload, base, []string{"workload"})...)
	for _, key := range slices.Sorted(maps.Keys(s.Targets)) {
		o := s.Targets[key]
		whole := []string{"targets", key}
		if !namePattern.MatchString(key) {
			add(whole, "target name %q must be lower case letters, digits, '.', '_' or '-'", key)
		}
		at := func(field string) []string {
			if overrides(o, field) {
				return []string{"targets", key, field}
			}
			return base(field)
		}
		errs = append(errs, s.checkWorkload(resolve(s.Workload, o), at, whole)...)
	}

	for i := range s.Bounds {
		// validation owns the bound rules; applying the overrides one prefix at a time
		// pins the first bad one (including a duplicate) to its own line.
		if _, err := validation.DefaultCriteria().WithOverrides(s.Bounds[:i+1]); err != nil {
			add([]string{"bounds", fmt.Sprintf("[%d]", i)}, "%v", err)
			break
		}
	}
	return dedupe(errs)
}

// overrides reports whether the target override o sets the workload field.
func overrides(o Workload, field string) bool {
	switch field {
	case "count":
		return o.Count != 0
	case "arrivals":
		return o.Arrivals != nil
	case "prompt_tokens":
		return o.PromptTokens != nil
	case "output_tokens":
		return o.OutputTokens != nil
	case "trace":
		return o.Trace != ""
	}
	return false
}

// resolve applies a target override to the base workload: a trace replaces the whole
// workload; any other set field replaces its base counterpart.
func resolve(base, o Workload) Workload {
	w := base
	if o.Trace != "" {
		w = Workload{Trace: o.Trace}
	} else if o.Count != 0 || o.Arrivals != nil || o.PromptTokens != nil || o.OutputTokens != nil {
		w.Trace = ""
	}
	if o.Count != 0 {
		w.Count = o.Count
	}
	if o.Arrivals != nil {
		w.Arrivals = o.Arrivals
	}
	if o.PromptTokens != nil {
		w.PromptTokens = o.PromptTokens
	}
	if o.OutputTokens != nil {
		w.OutputTokens = o.OutputTokens
	}
	return w
}

// dedupe drops repeated errors: a bad base field is seen again through every target
// that does not override it.
func dedupe(errs []fieldError) []fieldError {
	seen := map[string]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := e.field() + "\x00" + e.msg
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// checkWorkload checks one (resolved) workload. at maps a workload field to its path
// in the document; whole is the path of the workload itself.
func (s *Scenario) checkWorkload(w Workload, at func(string) []string, whole []string) []fieldError {
	var errs []fieldError
	add := func(path []string, format string, args ...any) {
		errs = append(errs, fieldError{path: path, msg: fmt.Sprintf(format, args...)})
	}
	if w.Trace != "" {
		if w.Count != 0 || w.Arrivals != nil || w.PromptTokens != nil || w.OutputTokens != nil {
			add(whole, "trace excludes count, arrivals, prompt_tokens and output_tokens: the trace gives them")
		}
		if _, err := s.trace(w.Trace); err != nil {
			add(at("trace"), "%v", err)
		}
		return errs
	}
	if w.Arrivals == nil || w.PromptTokens == nil || w.OutputTokens == nil {
		for _, f := range []struct {
			name    string
			missing bool
		}{{"arrivals", w.Arrivals == nil}, {"prompt_tokens", w.PromptTokens == nil}, {"output_tokens", w.OutputTokens == nil}} {
			if f.missing {
				add(append(slices.Clone(whole), f.name), "required (or give a trace instead)")
			}
		}
		return errs
	}
	n, ok := w.Count, true
	if w.Arrivals.Kind == ArrivalsExplicit && n == 0 {
		n = len(w.Arrivals.TimesS)
	}
	switch {
	case n < 1 || n > MaxRequests:
		add(at("count"), "must be in [1, %d], got %d", MaxRequests, n)
		ok = false
	case w.Arrivals.Kind == ArrivalsExplicit && len(w.Arrivals.TimesS) != n:
		add(at("count"), "%d requests but arrivals.times_s has %d times", n, len(w.Arrivals.TimesS))
		ok = false
	}
	for _, fe := range checkArrivals(w.Arrivals, n, ok) {
		errs = append(errs, fieldError{path: append(at("arrivals"), fe.path...), msg: fe.msg})
	}
	for _, field := range []string{"prompt_tokens", "output_tokens"} {
		l := w.PromptTokens
		if field == "output_tokens" {
			l = w.OutputTokens
		}
		for _, fe := range checkLengths(l, n, ok) {
			errs = append(errs, fieldError{path: append(at(field), fe.path...), msg: fe.msg})
		}
	}
	return errs
}

// spec field: its YAML name, whether it is set, and the kinds that use it.
type specField struct {
	name  string
	set   bool
	kinds []string
}

// checkKind checks kind against the known kinds and refuses fields of other kinds.
func checkKind(kind string, known []string, fields []specField) []fieldError {
	switch {
	case kind == "":
		return []fieldError{{path: []string{"kind"}, msg: fmt.Sprintf("required (one of %s)", strings.Join(known, ", "))}}
	case !slices.Contains(known, kind):
		return []fieldError{{path: []string{"kind"}, msg: fmt.Sprintf("unknown kind %q (want one of %s)", kind, strings.Join(known, ", "))}}
	}
	var errs []fieldError
	for _, f := range fields {
		if f.set && !slices.Contains(f.kinds, kind) {
			errs = append(errs, fieldError{path: []string{f.name}, msg: fmt.Sprintf("not used by kind %s (used by %s)", kind, strings.Join(f.kinds, ", "))})
		}
	}
	return errs
}

// checkArrivals checks an arrival process for n requests; countOK is false when n
// itself was refused, so count-dependent checks are skipped.
func checkArrivals(a *Arrivals, n int, countOK bool) []fieldError {
	const (
		ex, co, bu, po, ga = ArrivalsExplicit, ArrivalsConstant, ArrivalsBurst, ArrivalsPoisson, ArrivalsGamma
	)
	errs := checkKind(a.Kind, arrivalKinds, []specField{
		{"times_s", len(a.TimesS) > 0, []string{ex}},
		{"start_s", a.StartS != 0, []string{co, po, ga}},
		{"spacing_s", a.SpacingS != 0, []string{co, bu}},
		{"at_s", a.AtS != 0, []string{bu}},
		{"size", a.Size != 0, []string{bu}},
		{"rate_per_s", a.RatePerS != 0, []string{po, ga}},
		{"cv", a.CV != 0, []string{ga}},
	})
	if len(errs) > 0 {
		return errs
	}
	add := func(field, format string, args ...any) {
		errs = append(errs, fieldError{path: []string{field}, msg: fmt.Sprintf(format, args...)})
	}
	nonNegative := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			add(field, "must be a finite number ≥ 0, got %v", v)
		} else if v > MaxArrivalS {
			add(field, "%v s is beyond the arrival horizon of %v s (11.6 days, where float64 seconds still "+
				"resolve nanoseconds); start the workload near 0", v, float64(MaxArrivalS))
		}
	}
	positive := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			add(field, "must be a finite number > 0, got %v", v)
		}
	}
	switch a.Kind {
	case ex:
		if len(a.TimesS) == 0 {
			add("times_s", "required: one arrival time per request")
		}
		for i, t := range a.TimesS {
			path := []string{"times_s", fmt.Sprintf("[%d]", i)}
			if !(t >= 0) || math.IsInf(t, 0) {
				errs = append(errs, fieldError{path: path, msg: fmt.Sprintf("must be a finite time ≥ 0, got %v", t)})
			} else if t > MaxArrivalS {
				errs = append(errs, fieldError{path: path, msg: fmt.Sprintf("%v s is beyond the arrival horizon of %v s "+
					"(11.6 days, where float64 seconds still resolve nanoseconds); shift the times to start near 0",
					t, float64(MaxArrivalS))})
			} else if i > 0 && t < a.TimesS[i-1] {
				errs = append(errs, fieldError{path: path, msg: fmt.Sprintf("%v is before the previous time %v: times must be non-decreasing", t, a.TimesS[i-1])})
			}
		}
	case co:
		nonNegative("start_s", a.StartS)
		positive("spacing_s", a.SpacingS)
	case bu:
		nonNegative("at_s", a.AtS)
		switch {
		case a.Size < 0:
			add("size", "must be ≥ 1 (or left out for one burst of every request), got %d", a.Size)
		case !countOK: // size is judged against the count
		case a.Size > n:
			add("size", "%d exceeds the %d requests", a.Size, n)
		case a.Size > 0 && a.Size < n:
			positive("spacing_s", a.SpacingS)
		case a.SpacingS != 0:
			add("spacing_s", "only used between several bursts (size < count)")
		}
	case po:
		nonNegative("start_s", a.StartS)
		positive("rate_per_s", a.RatePerS)
	case ga:
		nonNegative("start_s", a.StartS)
		positive("rate_per_s", a.RatePerS)
		if !(a.CV > 0 && a.CV <= maxCV) {
			add("cv", "must be in (0, %v], got %v", float64(maxCV), a.CV)
		}
	}
	return errs
}

// checkLengths checks a token-count distribution for n requests.
func checkLengths(l *Lengths, n int, countOK bool) []fieldError {
	fi, un, li := LengthsFixed, LengthsUniform, LengthsList
	errs := checkKind(l.Kind, lengthKinds, []specField{
		{"value", l.Value != 0, []string{fi}},
		{"min", l.Min != 0, []string{un}},
		{"max", l.Max != 0, []string{un}},
		{"values", len(l.Values) > 0, []string{li}},
		{"cycle", l.Cycle, []string{li}},
	})
	if len(errs) > 0 {
		return errs
	}
	inRange := func(path []string, v int) {
		if v < 1 || v > MaxTokens {
			errs = append(errs, fieldError{path: path, msg: fmt.Sprintf("must be in [1, %d] tokens, got %d", MaxTokens, v)})
		}
	}
	switch l.Kind {
	case fi:
		inRange([]string{"value"}, l.Value)
	case un:
		inRange([]string{"min"}, l.Min)
		inRange([]string{"max"}, l.Max)
		if l.Min > l.Max {
			errs = append(errs, fieldError{path: []string{"max"}, msg: fmt.Sprintf("min %d > max %d", l.Min, l.Max)})
		}
	case li:
		if len(l.Values) == 0 {
			errs = append(errs, fieldError{path: []string{"values"}, msg: "required: a non-empty list of token counts"})
		}
		for i, v := range l.Values {
			inRange([]string{"values", fmt.Sprintf("[%d]", i)}, v)
		}
		switch {
		case !countOK || len(l.Values) == 0:
		case len(l.Values) > n:
			errs = append(errs, fieldError{path: []string{"values"}, msg: fmt.Sprintf("%d values for %d requests: the extra ones would never be used", len(l.Values), n)})
		case !l.Cycle && len(l.Values) != n:
			errs = append(errs, fieldError{path: []string{"values"}, msg: fmt.Sprintf("%d values for %d requests: give one per request or set cycle: true", len(l.Values), n)})
		}
	}
	return errs
}

// CheckTargetNames refuses a per-target override (targets.<name>) naming a target
// that is not in known: a misspelled name would otherwise leave the override unused
// without a word. Package scenarios does not know the targets; its callers pass them.
func (s *Scenario) CheckTargetNames(known []string) error {
	var errs []fieldError
	for _, key := range slices.Sorted(maps.Keys(s.Targets)) {
		if !slices.Contains(known, key) {
			errs = append(errs, fieldError{path: []string{"targets", key}, msg: fmt.Sprintf(
				"no target %q: the override would never be used (known targets: %s); fix the name, "+
					"or add the target's folder with --catalog DIR", key, strings.Join(known, ", "))})
		}
	}
	if len(errs) > 0 {
		return locate(s.source, s.doc, errs)
	}
	return nil
}
