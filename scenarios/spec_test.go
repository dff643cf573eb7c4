package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specWith returns a valid spec header (lines 1–4) followed by "workload:" on line 5
// and the given workload body from line 6, so tests can name exact lines.
func specWith(workload string) string {
	return "name: t\nregime: batched\ndescription: a test\nseed: 1\nworkload:\n" + workload
}

const okWorkload = `  count: 4
  arrivals: {kind: constant, spacing_s: 1}
  prompt_tokens: {kind: fixed, value: 8}
  output_tokens: {kind: uniform, min: 2, max: 6}
`

func TestParseAcceptsValidSpec(t *testing.T) {
	s, err := Parse("t.yaml", []byte(specWith(okWorkload)))
	require.NoError(t, err)
	assert.Equal(t, "t", s.Name)
	assert.Equal(t, "t.yaml", s.Source())
	assert.Equal(t, 4, s.Workload.Count)
	assert.Equal(t, &Lengths{Kind: LengthsUniform, Min: 2, Max: 6}, s.Workload.OutputTokens)
	assert.False(t, s.QueueFree())
}

// Decoding errors name the file, line and dotted field in the spec's own words: no Go
// type names (scenarios.Arrivals, uint64) and yaml's key lists.
func TestParseRejectsMalformedYAML(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []string
	}{
		{"unknown top-level field", specWith(okWorkload) + "typo: 1\n",
			[]string{"t.yaml: line 10: field typo: unknown field; the known fields here are name, regime, description, seed, workload, targets, engine_state, bounds"}},
		{"unknown nested field", specWith("  count: 4\n  arrivals: {kind: constant, spacing: 1}\n"),
			[]string{"t.yaml: line 7: field workload.arrivals.spacing: unknown field; the known fields here are kind, times_s, start_s, spacing_s, at_s, size, rate_per_s, cv"}},
		{"wrong type", specWith("  count: many\n"),
			[]string{`t.yaml: line 6: field workload.count: got "many", want an integer`}},
		{"negative seed", strings.Replace(specWith(okWorkload), "seed: 1", "seed: -1", 1),
			[]string{"t.yaml: line 4: field seed: got the integer -1, want a non-negative integer"}},
		{"two errors at once", specWith("  count: many\n  tpyo: 1\n"),
			[]string{"t.yaml: line 6: field workload.count: got", "t.yaml: line 7: field workload.tpyo: unknown field"}},
		{"duplicate key", "name: a\nname: b\n",
			[]string{"t.yaml: line 2: field name: repeated key (first at line 1)"}},
		{"syntax error", "name: [a\nregime: b\n", []string{"t.yaml: line "}},
		{"two documents", specWith(okWorkload) + "---\nname: u\n",
			[]string{"t.yaml: line 10: more than one YAML document"}},
		{"mapping given a number", specWith("  count: 4\n  arrivals: 5\n"),
			[]string{"t.yaml: line 7: field workload.arrivals: got the integer 5, want a mapping with keys kind, times_s, start_s, spacing_s, at_s, size, rate_per_s, cv"}},
		{"list given a string", specWith("  arrivals: {kind: explicit, times_s: soon}\n"),
			[]string{`t.yaml: line 6: field workload.arrivals.times_s: got "soon", want a list`}},
		{"number given a list", specWith("  arrivals: {kind: poisson, rate_per_s: [1, 2]}\n"),
			[]string{"t.yaml: line 6: field workload.arrivals.rate_per_s: got a list, want a number"}},
		{"bad bound field", specWith(okWorkload) + "bounds:\n  - {metric: ttft, stat: p99, maximum: 0.2}\n",
			[]string{"t.yaml: line 11: field bounds[0].maximum: unknown field; the known fields here are metric, stat, max, reason, gate"}},
		{"empty file", "", []string{"t.yaml: empty file"}},
		{"comment only", "# nothing\n", []string{"t.yaml: empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.spec))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Value errors name the file, the line of the bad field and its dotted path.
func TestParseRejectsBadValues(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"empty name", strings.Replace(specWith(okWorkload), "name: t", `name: ""`, 1),
			"t.yaml: line 1: field name: required"},
		{"bad name", strings.Replace(specWith(okWorkload), "name: t", "name: Queue Free", 1),
			`t.yaml: line 1: field name: "Queue Free" must be lower case`},
		{"no description", strings.Replace(specWith(okWorkload), "description: a test", "description: ' '", 1),
			"t.yaml: line 3: field description: required"},
		{"negative count", strings.Replace(specWith(okWorkload), "count: 4", "count: -3", 1),
			"t.yaml: line 6: field workload.count: must be in [1, 1000000], got -3"},
		{"missing count", specWith("  arrivals: {kind: constant, spacing_s: 1}\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 5: field workload.count: must be in [1, 1000000], got 0"},
		{"min above max", strings.Replace(specWith(okWorkload), "min: 2, max: 6", "min: 20, max: 10", 1),
			"t.yaml: line 9: field workload.output_tokens.max: min 20 > max 10"},
		{"zero tokens", strings.Replace(specWith(okWorkload), "value: 8", "value: 0", 1),
			"t.yaml: line 8: field workload.prompt_tokens.value: must be in [1, 10000000] tokens, got 0"},
		{"NaN spacing", strings.Replace(specWith(okWorkload), "spacing_s: 1", "spacing_s: .nan", 1),
			"t.yaml: line 7: field workload.arrivals.spacing_s: must be a finite number > 0, got NaN"},
		{"unknown arrivals kind", strings.Replace(specWith(okWorkload), "kind: constant", "kind: zipf", 1),
			`t.yaml: line 7: field workload.arrivals.kind: unknown kind "zipf" (want one of explicit, constant, burst, poisson, gamma)`},
		{"missing lengths kind", strings.Replace(specWith(okWorkload), "kind: fixed, ", "", 1),
			"t.yaml: line 8: field workload.prompt_tokens.kind: required (one of fixed, uniform, list)"},
		{"field of another kind", strings.Replace(specWith(okWorkload), "spacing_s: 1", "spacing_s: 1, rate_per_s: 2", 1),
			"t.yaml: line 7: field workload.arrivals.rate_per_s: not used by kind constant (used by poisson, gamma)"},
		{"missing arrivals", specWith("  count: 2\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 5: field workload.arrivals: required (or give a trace instead)"},
		{"list too short", strings.Replace(specWith(okWorkload), "kind: fixed, value: 8", "kind: list, values: [1, 2, 3]", 1),
			"t.yaml: line 8: field workload.prompt_tokens.values: 3 values for 4 requests: give one per request or set cycle: true"},
		{"list too long even cycled", strings.Replace(specWith(okWorkload), "kind: fixed, value: 8", "kind: list, cycle: true, values: [1, 2, 3, 4, 5]", 1),
			"field workload.prompt_tokens.values: 5 values for 4 requests: the extra ones would never be used"},
		{"bad list value", specWith("  count: 2\n  arrivals: {kind: constant, spacing_s: 1}\n  prompt_tokens:\n    kind: list\n    values:\n      - 5\n      - -1\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 12: field workload.prompt_tokens.values[1]: must be in [1, 10000000] tokens, got -1"},
		{"unsorted explicit times", specWith("  arrivals:\n    kind: explicit\n    times_s: [0, 2, 1]\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 8: field workload.arrivals.times_s[2]: 1 is before the previous time 2: times must be non-decreasing"},
		{"count and times disagree", specWith("  count: 3\n  arrivals: {kind: explicit, times_s: [0, 1]}\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 6: field workload.count: 3 requests but arrivals.times_s has 2 times"},
		{"absurd explicit time", specWith("  arrivals: {kind: explicit, times_s: [0, 1e12]}\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 6: field workload.arrivals.times_s[1]: 1e+12 s is beyond the arrival horizon of 1e+06 s"},
		{"absurd start", strings.Replace(specWith(okWorkload), "spacing_s: 1", "spacing_s: 1, start_s: 1e20", 1),
			"t.yaml: line 7: field workload.arrivals.start_s: 1e+20 s is beyond the arrival horizon of 1e+06 s"},
		{"NaN time", specWith("  arrivals: {kind: explicit, times_s: [0, .nan]}\n  prompt_tokens: {kind: fixed, value: 8}\n  output_tokens: {kind: fixed, value: 8}\n"),
			"t.yaml: line 6: field workload.arrivals.times_s[1]: must be a finite time ≥ 0, got NaN"},
		{"negative start", strings.Replace(specWith(okWorkload), "spacing_s: 1", "spacing_s: 1, start_s: -2", 1),
			"field workload.arrivals.start_s: must be a finite number ≥ 0, got -2"},
		{"zero poisson rate", strings.Replace(specWith(okWorkload), "kind: constant, spacing_s: 1", "kind: poisson", 1),
			"t.yaml: line 7: field workload.arrivals.rate_per_s: must be a finite number > 0, got 0"},
		{"gamma cv out of range", strings.Replace(specWith(okWorkload), "kind: constant, spacing_s: 1", "kind: gamma, rate_per_s: 2, cv: 50", 1),
			"field workload.arrivals.cv: must be in (0, 10], got 50"},
		{"burst larger than count", strings.Replace(specWith(okWorkload), "kind: constant, spacing_s: 1", "kind: burst, size: 9", 1),
			"field workload.arrivals.size: 9 exceeds the 4 requests"},
		{"several bursts need spacing", strings.Replace(specWith(okWorkload), "kind: constant, spacing_s: 1", "kind: burst, size: 2", 1),
			"field workload.arrivals.spacing_s: must be a finite number > 0, got 0"},
		{"trace with generators", specWith("  trace: x.csv\n  count: 3\n"),
			"t.yaml: line 5: field workload: trace excludes count, arrivals, prompt_tokens and output_tokens"},
		{"missing trace file", specWith("  trace: testdata/no-such.csv\n"),
			"t.yaml: line 6: field workload.trace: open testdata/no-such.csv"},
		{"unknown trace format", specWith("  trace: testdata/trace.txt\n"),
			`field workload.trace: testdata/trace.txt: unknown trace format ".txt"`},
		{"bad target override", specWith(okWorkload) + "targets:\n  h200-x:\n    arrivals: {kind: poisson, rate_per_s: -1}\n",
			"t.yaml: line 12: field targets.h200-x.arrivals.rate_per_s: must be a finite number > 0, got -1"},
		{"target override breaks base lists", specWith(okWorkload) + "targets:\n  h200-x:\n    count: 6\n    prompt_tokens: {kind: list, values: [1, 2, 3, 4]}\n",
			"t.yaml: line 13: field targets.h200-x.prompt_tokens.values: 4 values for 6 requests"},
		{"bad target name", specWith(okWorkload) + "targets:\n  H200 X: {}\n",
			`t.yaml: line 11: field targets.H200 X: target name "H200 X" must be lower case`},
		{"unknown bound metric", specWith(okWorkload) + "bounds:\n  - {metric: latency, stat: p99, max: 0.2, reason: r}\n",
			`t.yaml: line 11: field bounds[0]: bound override 0 (latency p99): metric "latency" is not judged`},
		{"looser bound without reason", specWith(okWorkload) + "bounds:\n  - {metric: ttft, stat: p99, max: 0.2}\n",
			"t.yaml: line 11: field bounds[0]: bound override 0 (ttft p99): max 0.2 is looser than the default 0.1 and needs a reason"},
		{"duplicate bound", specWith(okWorkload) + "bounds:\n  - {metric: ttft, stat: p50, max: 0.01}\n  - {metric: ttft, stat: p50, max: 0.02}\n",
			"t.yaml: line 12: field bounds[1]: bound override 1 (ttft p50): overrides the same bound as override 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.spec))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseReportsEveryValueError(t *testing.T) {
	spec := strings.Replace(specWith(okWorkload), "count: 4", "count: -1", 1)
	spec = strings.Replace(spec, "name: t", `name: ""`, 1)
	_, err := Parse("t.yaml", []byte(spec))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "t.yaml: line 1: field name: required")
	assert.Contains(t, err.Error(), "t.yaml: line 6: field workload.count:")
}

func TestParseAcceptsLooserBoundWithReason(t *testing.T) {
	spec := specWith(okWorkload) + "bounds:\n  - {metric: ttft, stat: p99, max: 0.15, reason: few samples}\n"
	s, err := Parse("t.yaml", []byte(spec))
	require.NoError(t, err)
	require.Len(t, s.Bounds, 1)
	assert.Equal(t, "ttft", string(s.Bounds[0].Metric))
	assert.Equal(t, "p99", string(s.Bounds[0].Stat))
	assert.InDelta(t, 0.15, s.Bounds[0].Max, 0)
	assert.Equal(t, "few samples", s.Bounds[0].Reason)
}

// A spec built in Go gets the same checks, without line numbers.
func TestValidateGoBuiltScenario(t *testing.T) {
	s := &Scenario{Name: "go", Regime: RegimeQueueFree, Description: "d", Workload: Workload{
		Count:        2,
		Arrivals:     &Arrivals{Kind: ArrivalsConstant, SpacingS: 1},
		PromptTokens: &Lengths{Kind: LengthsFixed, Value: 4},
		OutputTokens: &Lengths{Kind: LengthsUniform, Min: 5, Max: 3},
	}}
	err := s.Validate()
	require.Error(t, err)
	assert.Equal(t, "field workload.output_tokens.max: min 5 > max 3", err.Error())
	_, err = s.Requests("")
	assert.EqualError(t, err, "field workload.output_tokens.max: min 5 > max 3")

	s.Workload.OutputTokens.Max = 9
	require.NoError(t, s.Validate())
	assert.True(t, s.QueueFree())
}

func TestLoadResolvesTraceNextToSpec(t *testing.T) {
	dir := t.TempDir()
	trace := "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n0.5,20,3\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.csv"), []byte(trace), 0o644))
	spec := "name: traced\nregime: batched\ndescription: d\nworkload:\n  trace: w.csv\n"
	path := filepath.Join(dir, "traced.yaml")
	require.NoError(t, os.WriteFile(path, []byte(spec), 0o644))

	s, err := Load(path)
	require.NoError(t, err)
	// The trace is read at load time: removing it afterwards changes nothing.
	require.NoError(t, os.Remove(filepath.Join(dir, "w.csv")))
	reqs, err := s.Requests("any-target")
	require.NoError(t, err)
	assert.Equal(t, []Request{{ID: "r0000", PromptTokens: 10, OutputTokens: 2}, {ID: "r0001", ArrivalS: 0.5, PromptTokens: 20, OutputTokens: 3}}, reqs)
}

func TestLoadReportsBadTraceWithItsLine(t *testing.T) {
	dir := t.TempDir()
	trace := "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n0.5,x,3\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "w.csv"), []byte(trace), 0o644))
	path := filepath.Join(dir, "traced.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: traced\nregime: batched\ndescription: d\nworkload:\n  trace: w.csv\n"), 0o644))

	_, err := Load(path)
	require.Error(t, err)
	assert.Equal(t, path+`: line 5: field workload.trace: `+filepath.Join(dir, "w.csv")+`: line 3, column num_prefill_tokens: "x" is not an integer`, err.Error())
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
