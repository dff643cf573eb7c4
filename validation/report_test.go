package validation

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteMarkdownFail(t *testing.T) {
	real := evenRun(8, 64, 0.0173, 0.0136)
	sim := evenRun(8, 64, 0.0020, 0.0018)
	spread := Spread([][]Record{real, scaled(real, 1.02)})
	r := Report{
		Scenario:   "queue-free-8",
		Target:     "a100-sarathi-qwen3-0.6b",
		Comparison: Compare(real, sim, DefaultCriteria()),
		Breakdown:  &Breakdown{KernelS: 0.030, CPUS: 0.070, BusyS: 0.100},
		Warnings:   []string{"driver fell behind its schedule by up to 3.000 ms"},
		Spread:     &spread,
	}
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, r))
	out := b.String()
	for _, line := range []string{
		"# queue-free-8 on a100-sarathi-qwen3-0.6b\n",
		"**Verdict: FAIL** (worst: ttft mean, error -88.4% against bound 5.0%)\n",
		"Requests: real 8, sim 8.\n",
		"| metric | stat | real ms | sim ms | err % | bound % | noise % | judged at % | ok |\n",
		"| ttft | mean | 17.300 | 2.000 | -88.4 | 5.0 | 0.0 | 5.0 | FAIL |\n",
		"| itl | p99 | 13.600 | 1.800 | -86.8 | 10.0 | 0.0 | 10.0 | FAIL |\n",
		"| ttft | 8 | 88.4 | -88.4 | -15.300 | under |\n",
		"| ttft | 1.000 | 0.679 | 15.300 | off (info) |\n",
		"| GPU kernels | 30.000 | 30.0 |\n",
		"| CPU overhead | 70.000 | 70.0 |\n",
		"| busy | 100.000 | 100.0 |\n",
		"## Real run-to-run spread (2 repetitions)\n",
		"| ttft | mean | 17.300 | 17.646 | 2.0 |\n",
		"## Warnings\n\n- driver fell behind its schedule by up to 3.000 ms\n",
	} {
		assert.Contains(t, out, line)
	}
	assert.NotContains(t, out, "## Problems")
	assert.NotContains(t, out, "| other |", "the parts add up to busy time by definition")
	// Sections come in a fixed order.
	assertInOrder(t, out, "## Real vs sim", "## Paired per-request error", "## Distribution distance",
		"## Prediction breakdown", "## Real run-to-run spread", "## Warnings")
}

func TestWriteMarkdownPassAndProblems(t *testing.T) {
	real := evenRun(3, 2, 0.010, 0.010)
	var pass strings.Builder
	require.NoError(t, WriteMarkdown(&pass, Report{Scenario: "s", Target: "t", Comparison: Compare(real, real, DefaultCriteria())}))
	assert.Contains(t, pass.String(), "**Verdict: PASS** (worst: ttft mean, error +0.0% against bound 5.0%)\n")
	assert.NotContains(t, pass.String(), "## Prediction breakdown", "no breakdown given")
	assert.NotContains(t, pass.String(), "## Warnings")

	var fail strings.Builder
	require.NoError(t, WriteMarkdown(&fail, Report{Scenario: "s", Target: "t", Comparison: Compare(real, nil, DefaultCriteria())}))
	assert.Contains(t, fail.String(), "**Verdict: FAIL**\n")
	assert.Contains(t, fail.String(), "## Problems\n\n- sim: no records\n")
}

// A statistic reported for a reason is listed once, under "Reported, not judged",
// not again as its bound's warning; every other warning prints once.
func TestWriteMarkdownSaysEachWarningOnce(t *testing.T) {
	off := false
	c, err := DefaultCriteria().WithOverrides([]BoundOverride{{Metric: TTFT, Stat: P99, Gate: &off, Reason: "capture steps"}})
	require.NoError(t, err)
	recs := []Record{rec("a", 0, 0.010, 0.020), rec("b", 1, 1.010, 1.020)}
	cmp := Compare(recs, recs, c)
	require.Contains(t, cmp.Warnings, "ttft p99 is reported, not judged: capture steps", "the CLI still prints the reason")
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, Report{Scenario: "s", Target: "t", Comparison: cmp,
		Warnings: []string{"lateness 3 ms", "lateness 3 ms", ClientTimestampsWarning}}))
	out := b.String()
	assert.Equal(t, 1, strings.Count(out, "capture steps"), out)
	assert.Contains(t, out, "## Reported, not judged\n\n- ttft p99: capture steps\n")
	assert.Equal(t, 1, strings.Count(out, "lateness 3 ms"))
	assert.Equal(t, 1, strings.Count(out, ClientTimestampsWarning))
}

func TestWriteMarkdownDeterministic(t *testing.T) {
	real := evenRun(4, 5, 0.0173, 0.0136)
	r := Report{Scenario: "s", Target: "t", Comparison: Compare(real, scaled(real, 1.03), DefaultCriteria()),
		Breakdown: &Breakdown{KernelS: 1, CPUS: 2, BusyS: 3}}
	var a, b strings.Builder
	require.NoError(t, WriteMarkdown(&a, r))
	require.NoError(t, WriteMarkdown(&b, r))
	assert.Equal(t, a.String(), b.String())
}

func TestWriteMarkdownWriteError(t *testing.T) {
	err := WriteMarkdown(failingWriter{}, Report{})
	assert.ErrorIs(t, err, errWrite)
}

func TestWriteMarkdownZeroBusy(t *testing.T) {
	var b strings.Builder
	require.NoError(t, WriteMarkdown(&b, Report{Breakdown: &Breakdown{}}))
	assert.Contains(t, b.String(), "| GPU kernels | 0.000 | n/a |\n")
}

var errWrite = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func assertInOrder(t *testing.T, s string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if !assert.GreaterOrEqual(t, i, 0, "%q missing or out of order", p) {
			return
		}
		at += i + len(p)
	}
}

func TestScorecardGroupsByRegimeAndSaysWhy(t *testing.T) {
	real := evenRun(8, 4, 0.020, 0.010)
	good := Compare(real, scaled(real, 1.02), DefaultCriteria())
	bad := Compare(real, scaled(real, 1.50), DefaultCriteria())
	lines := Scorecard([]ScoreEntry{{"batched", "a", good}, {"cold", "c", bad}, {"batched", "b", good}})
	require.Len(t, lines, 2)
	assert.Equal(t, []string{"a", "b"}, lines[0].Scenarios)
	assert.True(t, lines[0].Trusted)
	assert.False(t, lines[1].Trusted)
	assert.Contains(t, lines[1].Why, "c fails its bounds")
	var b strings.Builder
	require.NoError(t, WriteScorecard(&b, "t1", lines))
	assert.Contains(t, b.String(), "| batched | a, b | ")
	assert.Contains(t, b.String(), "| no |")
}
