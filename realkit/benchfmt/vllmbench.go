package benchfmt

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/simval/simval/validation"
)

// vllmRequired are the keys of a detailed vLLM bench-serve result that an import
// needs: without start_times (written by vLLM since it kept send times) arrivals
// cannot be known, and nothing is guessed.
var vllmRequired = []string{"input_lens", "output_lens", "ttfts", "itls", "start_times"}

// vllmResult is the part of `vllm bench serve --save-result --save-detailed`'s JSON
// that is read and written: scalar provenance and per-request parallel lists, one
// entry per request sent (failed ones included), times in seconds.
type vllmResult struct {
	Date       string      `json:"date,omitempty"`
	Backend    string      `json:"backend"`
	Label      string      `json:"label,omitempty"`
	ModelID    string      `json:"model_id"`
	NumPrompts int         `json:"num_prompts"`
	Duration   float64     `json:"duration"`
	Completed  int         `json:"completed"`
	Failed     int         `json:"failed"`
	TotalIn    int         `json:"total_input_tokens"`
	TotalOut   int         `json:"total_output_tokens"`
	InputLens  []int       `json:"input_lens"`
	OutputLens []int       `json:"output_lens"`
	TTFTs      []float64   `json:"ttfts"`
	ITLs       [][]float64 `json:"itls"`
	Latencies  []float64   `json:"latencies"`
	StartTimes []float64   `json:"start_times"`
	QueueTimes []float64   `json:"queue_times,omitempty"`
	Texts      []string    `json:"generated_texts"`
	Errors     []string    `json:"errors"`
	// Summary statistics in ms, as vLLM names them (numpy's default percentiles).
	MeanTTFTms   float64 `json:"mean_ttft_ms"`
	MedianTTFTms float64 `json:"median_ttft_ms"`
	P99TTFTms    float64 `json:"p99_ttft_ms"`
	MeanTPOTms   float64 `json:"mean_tpot_ms"`
	MedianTPOTms float64 `json:"median_tpot_ms"`
	P99TPOTms    float64 `json:"p99_tpot_ms"`
	MeanITLms    float64 `json:"mean_itl_ms"`
	MedianITLms  float64 `json:"median_itl_ms"`
	P99ITLms     float64 `json:"p99_itl_ms"`
	MeanE2ELms   float64 `json:"mean_e2el_ms"`
	MedianE2ELms float64 `json:"median_e2el_ms"`
	P99E2ELms    float64 `json:"p99_e2el_ms"`
}

func parseVLLMBench(data []byte, name string) (*parsed, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: not a vLLM bench-serve result JSON object: %w", name, err)
	}
	for _, k := range vllmRequired {
		if raw, ok := keys[k]; !ok || string(raw) == "null" {
			return nil, fmt.Errorf("%s: field %s missing: import needs a result saved with `vllm bench serve "+
				"--save-result --save-detailed` (fields %v)", name, k, vllmRequired)
		}
	}
	var r vllmResult
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := len(r.InputLens)
	for _, f := range []struct {
		name    string
		n       int
		present bool
	}{
		{"output_lens", len(r.OutputLens), true}, {"ttfts", len(r.TTFTs), true}, {"itls", len(r.ITLs), true},
		{"start_times", len(r.StartTimes), true}, {"latencies", len(r.Latencies), keys["latencies"] != nil},
		{"errors", len(r.Errors), keys["errors"] != nil}, {"queue_times", len(r.QueueTimes), keys["queue_times"] != nil},
	} {
		if f.present && f.n != n {
			return nil, fmt.Errorf("%s: field %s has %d entries, input_lens %d: one per request is needed", name, f.name, f.n, n)
		}
	}
	p := &parsed{tool: VLLMBench, model: r.ModelID, clock: "the client's perf_counter", sentField: "start_times",
		benchmark: -1, config: map[string]any{"backend": r.Backend, "label": r.Label, "date": r.Date, "model_id": r.ModelID}}
	maxQueue := 0.0
	for i := range n {
		id := fmt.Sprintf("req-%d", i)
		if len(r.Errors) > 0 && r.Errors[i] != "" {
			p.failed = append(p.failed, failure{id, r.Errors[i]})
			continue
		}
		if r.OutputLens[i] == 0 && r.TTFTs[i] == 0 {
			p.failed = append(p.failed, failure{id, "no output (output_lens 0, ttfts 0) and no error recorded"})
			continue
		}
		m := measured{where: fmt.Sprintf("record %d", i), id: id, prompt: r.InputLens[i], output: r.OutputLens[i], startS: r.StartTimes[i],
			firstS: r.StartTimes[i] + r.TTFTs[i], gapsS: r.ITLs[i]}
		if m.gapsS == nil {
			m.gapsS = []float64{}
		}
		if len(r.Latencies) > 0 {
			m.lastS = r.StartTimes[i] + r.Latencies[i]
		} else {
			m.lastS = m.firstS
			for _, g := range m.gapsS {
				m.lastS += g
			}
		}
		if len(r.QueueTimes) > 0 {
			maxQueue = max(maxQueue, r.QueueTimes[i])
		}
		p.requests = append(p.requests, m)
	}
	if maxQueue > 0 {
		p.notes = append(p.notes, fmt.Sprintf("the client held requests for up to %.1f ms behind --max-concurrency "+
			"(queue_times): arrivals are when they were sent, so a load the client throttled is replayed as "+
			"if open-loop", 1e3*maxQueue))
	}
	return p, nil
}

// VLLMInfo is what a vLLM-shaped result says besides the records.
type VLLMInfo struct {
	Backend, Label, ModelID string
}

// WriteVLLMBench writes recs (any order; written in arrival order, ties by id) in
// the shape of vLLM's detailed bench-serve result: the per-request lists the import
// reads (start_times are the arrivals, itls every gap between token times, errors
// empty) and vLLM's summary scalars recomputed by validation. Same records give the
// same bytes.
func WriteVLLMBench(w io.Writer, recs []validation.Record, info VLLMInfo) error {
	if len(recs) == 0 {
		return fmt.Errorf("vllm-bench: no records to write")
	}
	if err := validation.ValidateRecords(recs); err != nil {
		return fmt.Errorf("vllm-bench: %w", err)
	}
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b validation.Record) int {
		return cmp.Or(cmp.Compare(a.ArrivalS, b.ArrivalS), cmp.Compare(a.ID, b.ID))
	})
	r := vllmResult{Backend: info.Backend, Label: info.Label, ModelID: info.ModelID, NumPrompts: len(recs),
		Completed: len(recs)}
	end := 0.0
	for _, rec := range recs {
		gaps := make([]float64, 0, len(rec.TokenTimesS)-1)
		for k := 1; k < len(rec.TokenTimesS); k++ {
			gaps = append(gaps, rec.TokenTimesS[k]-rec.TokenTimesS[k-1])
		}
		r.InputLens = append(r.InputLens, rec.PromptTokens)
		r.OutputLens = append(r.OutputLens, rec.OutputTokens)
		r.TTFTs = append(r.TTFTs, rec.FirstTokenS-rec.ArrivalS)
		r.ITLs = append(r.ITLs, gaps)
		r.Latencies = append(r.Latencies, rec.CompletionS-rec.ArrivalS)
		r.StartTimes = append(r.StartTimes, rec.ArrivalS)
		r.Texts = append(r.Texts, "")
		r.Errors = append(r.Errors, "")
		r.TotalIn += rec.PromptTokens
		r.TotalOut += rec.OutputTokens
		end = max(end, rec.CompletionS)
	}
	r.Duration = end - recs[0].ArrivalS
	s := validation.SummarizeRun(recs)
	r.MeanTTFTms, r.MedianTTFTms, r.P99TTFTms = 1e3*s.TTFT.Mean, 1e3*s.TTFT.P50, 1e3*s.TTFT.P99
	r.MeanTPOTms, r.MedianTPOTms, r.P99TPOTms = 1e3*s.TPOT.Mean, 1e3*s.TPOT.P50, 1e3*s.TPOT.P99
	r.MeanITLms, r.MedianITLms, r.P99ITLms = 1e3*s.ITL.Mean, 1e3*s.ITL.P50, 1e3*s.ITL.P99
	r.MeanE2ELms, r.MedianE2ELms, r.P99E2ELms = 1e3*s.E2E.Mean, 1e3*s.E2E.P50, 1e3*s.E2E.P99
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("vllm-bench: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
