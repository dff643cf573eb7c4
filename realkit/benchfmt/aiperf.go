package benchfmt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// aiperfRecord is one line of AIPerf's profile_export.jsonl (MetricRecordInfo):
// request metadata, metrics as {value, unit}, and the error of a failed request.
type aiperfRecord struct {
	Metadata *struct {
		SessionNum     *int   `json:"session_num"`
		XRequestID     string `json:"x_request_id"`
		RequestStartNs *int64 `json:"request_start_ns"`
		BenchmarkPhase string `json:"benchmark_phase"`
	} `json:"metadata"`
	Metrics map[string]aiperfValue `json:"metrics"`
	Error   *struct {
		Code    *int   `json:"code"`
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type aiperfValue struct {
	Value json.RawMessage `json:"value"`
	Unit  string          `json:"unit"`
}

// aiperfLine is a successful record with its line number, before times are made
// relative (nanosecond epochs lose precision as float seconds).
type aiperfLine struct {
	line    int
	m       measured
	startNs int64
}

func parseAIPerf(data []byte, name string) (*parsed, error) {
	p := &parsed{tool: AIPerf, clock: "the client's clock, request_start_ns in ns", sentField: "metadata.request_start_ns",
		benchmark: -1, config: map[string]any{}}
	var lines []aiperfLine
	skipped := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		where := fmt.Sprintf("%s line %d", name, lineNo)
		var r aiperfRecord
		if err := json.Unmarshal(text, &r); err != nil {
			return nil, fmt.Errorf("%s: not an AIPerf profile_export.jsonl record: %w", where, err)
		}
		if r.Metadata == nil {
			return nil, fmt.Errorf("%s: field metadata missing", where)
		}
		if ph := r.Metadata.BenchmarkPhase; ph != "" && ph != "profiling" {
			skipped[ph]++
			continue
		}
		id := r.Metadata.XRequestID
		switch {
		case id != "":
		case r.Metadata.SessionNum != nil:
			id = fmt.Sprintf("session-%d", *r.Metadata.SessionNum)
		default:
			id = fmt.Sprintf("line-%d", lineNo)
		}
		if r.Error != nil {
			why := strings.TrimSpace(r.Error.Type + ": " + r.Error.Message)
			if r.Error.Code != nil {
				why = fmt.Sprintf("%d %s", *r.Error.Code, why)
			}
			p.failed = append(p.failed, failure{id, why})
			continue
		}
		if r.Metadata.RequestStartNs == nil {
			return nil, fmt.Errorf("%s (id %q): field metadata.request_start_ns missing", where, id)
		}
		get := func(key string, unitOK func(string) (float64, bool)) (float64, error) {
			v, ok := r.Metrics[key]
			if !ok {
				return 0, fmt.Errorf("%s (id %q): field metrics.%s missing", where, id, key)
			}
			var x float64
			if err := json.Unmarshal(v.Value, &x); err != nil {
				return 0, fmt.Errorf("%s (id %q): field metrics.%s.value: %w", where, id, key, err)
			}
			scale, ok := unitOK(v.Unit)
			if !ok {
				return 0, fmt.Errorf("%s (id %q): field metrics.%s: unit %q not understood", where, id, key, v.Unit)
			}
			return x * scale, nil
		}
		ttft, err := get("time_to_first_token", timeUnit)
		if err != nil {
			return nil, err
		}
		latency, err := get("request_latency", timeUnit)
		if err != nil {
			return nil, err
		}
		prompt, err := get("input_sequence_length", tokenUnit)
		if err != nil {
			return nil, err
		}
		outKey := "output_sequence_length"
		if _, ok := r.Metrics[outKey]; !ok {
			outKey = "output_token_count"
		}
		output, err := get(outKey, tokenUnit)
		if err != nil {
			return nil, fmt.Errorf("%w (nor metrics.output_sequence_length)", err)
		}
		if !wholeTokens(prompt) || !wholeTokens(output) {
			return nil, fmt.Errorf("%s (id %q): token counts %v and %v are not whole numbers", where, id, prompt, output)
		}
		m := measured{where: fmt.Sprintf("line %d", lineNo), id: id, prompt: int(prompt), output: int(output), firstS: ttft, lastS: latency}
		if v, ok := r.Metrics["inter_chunk_latency"]; ok {
			scale, ok := timeUnit(v.Unit)
			if !ok {
				return nil, fmt.Errorf("%s (id %q): field metrics.inter_chunk_latency: unit %q not understood", where, id, v.Unit)
			}
			if err := json.Unmarshal(v.Value, &m.gapsS); err != nil {
				return nil, fmt.Errorf("%s (id %q): field metrics.inter_chunk_latency.value: %w", where, id, err)
			}
			for k := range m.gapsS {
				m.gapsS[k] *= scale
			}
			if m.gapsS == nil {
				m.gapsS = []float64{}
			}
		}
		lines = append(lines, aiperfLine{line: lineNo, m: m, startNs: *r.Metadata.RequestStartNs})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(lines) > 0 {
		t0 := lines[0].startNs
		for _, l := range lines {
			t0 = min(t0, l.startNs)
		}
		for _, l := range lines {
			m := l.m
			m.startS = float64(l.startNs-t0) * 1e-9
			m.firstS += m.startS
			m.lastS += m.startS
			p.requests = append(p.requests, m)
		}
	}
	for _, ph := range slices.Sorted(maps.Keys(skipped)) {
		p.notes = append(p.notes, fmt.Sprintf("%d records of AIPerf's %s phase left out (only the profiling phase is measured)",
			skipped[ph], ph))
	}
	return p, nil
}

// timeUnit is the factor from an AIPerf time unit to seconds.
func timeUnit(u string) (float64, bool) {
	switch u {
	case "ms":
		return 1e-3, true
	case "s", "sec":
		return 1, true
	case "us":
		return 1e-6, true
	case "ns":
		return 1e-9, true
	}
	return 0, false
}

// tokenUnit accepts a token count (AIPerf writes "tokens").
func tokenUnit(u string) (float64, bool) { return 1, u == "tokens" || u == "" }

// wholeTokens reports whether x is a whole number of tokens.
func wholeTokens(x float64) bool { return x == math.Trunc(x) && x >= 0 }
