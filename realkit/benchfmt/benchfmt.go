package benchfmt

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/simval/simval/realkit"
	"github.com/simval/simval/validation"
)

// Tool names a benchmark tool whose result file can be imported.
type Tool string

const (
	VLLMBench Tool = "vllm-bench"
	AIPerf    Tool = "aiperf"
	GuideLLM  Tool = "guidellm"
)

// Tools are the importable tools, in the order the CLI lists them.
var Tools = []Tool{VLLMBench, AIPerf, GuideLLM}

// ParseTool returns the Tool named s.
func ParseTool(s string) (Tool, error) {
	for _, t := range Tools {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown tool %q (want vllm-bench, aiperf or guidellm)", s)
}

// Options is what a result file does not say: the target the run was made on, the
// engine and settings recorded for it, and when it is imported.
type Options struct {
	Target string
	// Engine and EngineVersion name what served the run ("" version: unknown, not
	// compared with the profile's).
	Engine, EngineVersion string
	// Settings are recorded as the run's resolved settings: the tools do not report
	// the server's, so the caller passes the target's.
	Settings validation.EngineSettings
	// ImportedAt is recorded as the run's time and the import's (injected, so that
	// the same file gives the same bytes).
	ImportedAt time.Time
	// Benchmark picks one benchmark of a GuideLLM file holding several (a sweep);
	// -1 takes the only one.
	Benchmark int
}

// measured is one successful request as a tool recorded it, times in seconds on the
// tool's clock (any origin).
type measured struct {
	where          string // its place in the file, for messages: "line 3", "record 4"
	id             string
	prompt, output int
	startS         float64
	firstS, lastS  float64
	// gapsS are the gaps between streamed chunks after the first; nil where the tool
	// keeps none.
	gapsS []float64
}

// failure is a request the tool saw fail (or left incomplete).
type failure struct {
	id, why string
}

// parsed is what a format parser returns.
type parsed struct {
	tool      Tool
	version   string
	model     string
	clock     string // which clock the tool's times are on
	sentField string // the field holding each request's send time
	benchmark int
	requests  []measured
	failed    []failure
	notes     []string
	config    map[string]any // the tool's own settings worth keeping, free-form
}

// Import reads data (the file name) as tool's result file and returns it as a run of
// one repetition, with the import's provenance and every reconstruction in its
// warnings.
func Import(tool Tool, data []byte, name string, opt Options) (*realkit.Baseline, error) {
	var p *parsed
	var err error
	switch tool {
	case VLLMBench:
		p, err = parseVLLMBench(data, name)
	case AIPerf:
		p, err = parseAIPerf(data, name)
	case GuideLLM:
		p, err = parseGuideLLM(data, name, opt.Benchmark)
	default:
		_, err = ParseTool(string(tool))
	}
	if err != nil {
		return nil, err
	}
	return build(p, data, name, opt)
}

// build turns the parsed requests into a baseline.
func build(p *parsed, data []byte, name string, opt Options) (*realkit.Baseline, error) {
	total := len(p.requests) + len(p.failed)
	if len(p.requests) == 0 {
		return nil, fmt.Errorf("%s: no successful request to import (%d failed%s)", name, len(p.failed), failedList(p.failed))
	}
	reqs := slices.Clone(p.requests)
	slices.SortStableFunc(reqs, func(a, b measured) int { return cmp.Compare(a.startS, b.startS) })
	t0 := reqs[0].startS
	rep := realkit.Repetition{Index: 0}
	spread := map[string]int{}
	drift, end := 0, 0.0
	for _, m := range reqs {
		rec, why, err := record(m, t0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if why != "" {
			spread[why]++
		} else if math.Abs(rec.CompletionS-(m.lastS-t0)) > chunkSumTolerance {
			drift++
		}
		end = max(end, rec.CompletionS)
		rep.Records = append(rep.Records, rec)
		rep.SubmittedS = append(rep.SubmittedS, rec.ArrivalS)
	}
	if err := validation.ValidateRecords(rep.Records); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rep.Lateness = realkit.ComputeLateness(rep.Records, rep.SubmittedS)
	rep.Summary = &realkit.Summary{Requests: total, Finished: len(rep.Records),
		DurationS: end}

	warnings := []string{fmt.Sprintf("imported from %s %s: times are the client's (%s); arrival = %s minus the "+
		"earliest, the time each request was sent", p.tool, filepath.Base(name), p.clock, p.sentField)}
	for _, why := range slices.Sorted(maps.Keys(spread)) {
		warnings = append(warnings, fmt.Sprintf("%d of %d requests: token times reconstructed, spread evenly between "+
			"the first and the last token (%s), so their ITLs are their mean TPOT", spread[why], len(reqs), why))
	}
	if drift > 0 {
		warnings = append(warnings, fmt.Sprintf("%d of %d requests: the chunk gaps add up to a last token more than "+
			"%.0f ms from the tool's own end of the request; the chunk times are kept", drift, len(reqs), 1e3*chunkSumTolerance))
	}
	warnings = append(warnings, p.notes...)
	if len(p.failed) > 0 {
		warnings = append(warnings, fmt.Sprintf("%d of %d requests failed in the %s run and are not in this run%s",
			len(p.failed), total, p.tool, failedList(p.failed)))
	}
	sum := sha256.Sum256(data)
	config, err := json.Marshal(p.config)
	if err != nil {
		return nil, err
	}
	model, err := json.Marshal(map[string]string{"name": p.model})
	if err != nil {
		return nil, err
	}
	at := opt.ImportedAt.UTC()
	return &realkit.Baseline{
		Target: opt.Target, Scenario: fmt.Sprintf("import:%s:%s", p.tool, filepath.Base(name)), RecordedAt: at,
		Command: fmt.Sprintf("simval import --from %s %s", p.tool, filepath.Base(name)),
		Meta: realkit.Meta{
			Protocol: realkit.ProtocolVersion, Engine: opt.Engine, EngineVersion: opt.EngineVersion,
			Driver: string(p.tool), Versions: versions(p), Settings: opt.Settings,
			SettingsUnknown: []string{"all: the tool does not report the server's resolved settings; the target's are recorded"},
			EngineConfig:    config, Clock: p.clock, Timestamps: "client",
			WarmupPolicy: "unknown: whatever the server and the tool did before the measured requests",
			Model:        model, Repetitions: 1,
		},
		Repetitions: []realkit.Repetition{rep},
		Warnings:    warnings,
		Import: &realkit.ImportSource{Tool: string(p.tool), ToolVersion: p.version, File: filepath.Base(name),
			SHA256: hex.EncodeToString(sum[:]), ImportedAt: at, Benchmark: p.benchmark},
	}, nil
}

// chunkSumTolerance is how far the last chunk time may fall from the tool's own end
// of the request before the import says so (the tools sum rounded gaps).
const chunkSumTolerance = 1e-3

// record is m as a record with arrival measured from t0, and why its token times
// were spread evenly ("" when they are the tool's chunk times).
func record(m measured, t0 float64) (validation.Record, string, error) {
	where := fmt.Sprintf("%s (id %q)", m.where, m.id)
	switch {
	case m.output < 1:
		return validation.Record{}, "", fmt.Errorf("%s: output tokens %d: a successful request has at least one", where, m.output)
	case m.prompt < 1:
		return validation.Record{}, "", fmt.Errorf("%s: prompt tokens %d: want at least one", where, m.prompt)
	case !finite(m.startS, m.firstS, m.lastS):
		return validation.Record{}, "", fmt.Errorf("%s: a start, first-token or last-token time is not finite", where)
	case !(m.firstS > m.startS):
		return validation.Record{}, "", fmt.Errorf("%s: time to first token %g s is not positive", where, m.firstS-m.startS)
	case m.lastS < m.firstS:
		return validation.Record{}, "", fmt.Errorf("%s: last token %g s before the first %g s", where, m.lastS-m.startS,
			m.firstS-m.startS)
	}
	arrival := m.startS - t0
	times := make([]float64, m.output)
	why := ""
	switch {
	case m.output == 1:
		times[0] = m.firstS
	case m.gapsS == nil:
		why = "the tool keeps only the first and last token times"
	case len(m.gapsS) != m.output-1:
		why = "streamed chunks carried several tokens"
	default:
		t := m.firstS
		times[0] = t
		for k, g := range m.gapsS {
			if !(g >= 0) || math.IsInf(g, 0) {
				return validation.Record{}, "", fmt.Errorf("%s: chunk gap %d is %v", where, k, g)
			}
			t += g
			times[k+1] = t
		}
	}
	if why != "" {
		step := (m.lastS - m.firstS) / float64(m.output-1)
		for k := range times {
			times[k] = m.firstS + float64(k)*step
		}
		times[m.output-1] = m.lastS
	}
	for k := range times {
		times[k] -= t0
	}
	return validation.Record{ID: m.id, ArrivalS: arrival, PromptTokens: m.prompt, OutputTokens: m.output,
		FirstTokenS: times[0], TokenTimesS: times, CompletionS: times[len(times)-1]}, why, nil
}

func versions(p *parsed) map[string]string {
	v := map[string]string{}
	if p.version != "" {
		v[string(p.tool)] = p.version
	}
	return v
}

// failedList names up to five failed requests and why.
func failedList(fs []failure) string {
	if len(fs) == 0 {
		return ""
	}
	var parts []string
	for _, f := range fs[:min(5, len(fs))] {
		parts = append(parts, fmt.Sprintf("%s (%s)", f.id, lastLine(f.why, 120)))
	}
	more := ""
	if len(fs) > 5 {
		more = fmt.Sprintf("; and %d more", len(fs)-5)
	}
	return ": " + strings.Join(parts, "; ") + more
}

// lastLine is s's last non-empty line (a traceback's says what went wrong), at most
// n bytes.
func lastLine(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if l == "" {
		l = "no message"
	}
	if len(l) > n {
		l = l[:n] + "…"
	}
	return l
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
