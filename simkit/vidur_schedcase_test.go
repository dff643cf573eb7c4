package simkit

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Scheduler cases (testdata/vidur-sched/*.txt) are small traces whose batches were
// worked out by hand from Vidur's scheduler code (reference §3). Each file holds:
//
//	# comments
//	settings scheduler=vllm token_budget=32 max_seqs=4 block_size=4 num_blocks=50
//	options max_request_tokens=16
//	request a arrival=0 prompt=7 output=3
//	----
//	1 t=0 a:p7 b:p8      one line per batch: its number, formation time, and per
//	2 t=1 a:d b:d        request a prefill of n tokens (p<n>) or a decode (d)
//	----
//	a first=1 done=4 restarts=0    per request: first token, completion, restarts
//
// Every step takes 1 s, so batch k of a busy replica runs over [k−1, k].
type schedCase struct {
	name     string
	opts     Options
	reqs     []scenarios.Request
	steps    []string
	requests []string
}

// batchRecorder is a predictor that writes each batch down, in the case file's
// notation, and charges 1 s per step.
type batchRecorder struct{ lines []string }

func (p *batchRecorder) Predict(b Batch) (StepTime, error) {
	if b.Stage == 0 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%d t=%g", len(p.lines)+1, b.Items[0].Req.LatestIterationScheduledS)
		for _, it := range b.Items {
			if it.Req.PrefillComplete {
				fmt.Fprintf(&sb, " %s:d", it.Req.Request.ID)
			} else {
				fmt.Fprintf(&sb, " %s:p%d", it.Req.Request.ID, it.Tokens)
			}
		}
		p.lines = append(p.lines, sb.String())
	}
	return StepTime{KernelS: 1, TotalS: 1}, nil
}

func loadSchedCases(t *testing.T, scheduler string) []schedCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "vidur-sched", scheduler+"-*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no cases for %s", scheduler)
	var out []schedCase
	for _, p := range paths {
		out = append(out, parseSchedCase(t, p))
	}
	return out
}

func parseSchedCase(t *testing.T, path string) schedCase {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	c := schedCase{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	section := 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if text == "----" {
			section++
			continue
		}
		where := fmt.Sprintf("%s:%d", path, line)
		switch section {
		case 0:
			parseSchedHeader(t, &c, text, where)
		case 1:
			c.steps = append(c.steps, strings.Join(strings.Fields(text), " "))
		default:
			c.requests = append(c.requests, strings.Join(strings.Fields(text), " "))
		}
	}
	require.NoError(t, sc.Err())
	return c
}

func parseSchedHeader(t *testing.T, c *schedCase, text, where string) {
	t.Helper()
	fields := strings.Fields(text)
	kv := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if ok {
			kv[k] = v
		}
	}
	num := func(k string) int {
		if kv[k] == "" {
			return 0
		}
		n, err := strconv.Atoi(kv[k])
		require.NoError(t, err, "%s: %s", where, k)
		return n
	}
	switch fields[0] {
	case "settings":
		c.opts.Settings = validation.EngineSettings{Scheduler: kv["scheduler"], TokenBudget: num("token_budget"),
			MaxSeqs: num("max_seqs"), BlockSize: num("block_size"), NumBlocks: num("num_blocks"), TP: 1, PP: max(num("pp"), 1)}
	case "options":
		c.opts.MaxRequestTokens = num("max_request_tokens")
	case "request":
		arrival, err := strconv.ParseFloat(kv["arrival"], 64)
		require.NoError(t, err, where)
		c.reqs = append(c.reqs, scenarios.Request{ID: fields[1], ArrivalS: arrival,
			PromptTokens: num("prompt"), OutputTokens: num("output")})
	default:
		t.Fatalf("%s: unknown line %q", where, text)
	}
}

// runSchedCases simulates every case of scheduler and compares batches and request
// outcomes with the hand-worked expectations.
func runSchedCases(t *testing.T, scheduler string) {
	for _, c := range loadSchedCases(t, scheduler) {
		t.Run(c.name, func(t *testing.T) {
			rec := &batchRecorder{}
			opts := c.opts
			opts.Predictor = rec
			res, err := Simulate(opts, c.reqs)
			require.NoError(t, err)
			assert.Equal(t, strings.Join(c.steps, "\n"), strings.Join(rec.lines, "\n"), "batches")
			var got []string
			for _, r := range res.Records {
				got = append(got, fmt.Sprintf("%s first=%g done=%g restarts=%d", r.ID, r.FirstTokenS, r.CompletionS, r.Restarts))
			}
			assert.Equal(t, strings.Join(c.requests, "\n"), strings.Join(got, "\n"), "requests")
		})
	}
}
