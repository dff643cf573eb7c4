package benchfmt

import (
	"encoding/json"
	"fmt"
)

// guidellmReport is the part of GuideLLM's benchmarks.json (GenerativeBenchmarksReport)
// an import reads.
type guidellmReport struct {
	Metadata *struct {
		GuideLLMVersion string `json:"guidellm_version"`
	} `json:"metadata"`
	Args       *guidellmSampling `json:"args"`
	Benchmarks []struct {
		Args     *guidellmSampling `json:"args"`   // GuideLLM ≤ 0.3
		Config   *guidellmSampling `json:"config"` // later
		Requests *struct {
			Successful []json.RawMessage `json:"successful"`
			Errored    []json.RawMessage `json:"errored"`
			Incomplete []json.RawMessage `json:"incomplete"`
		} `json:"requests"`
	} `json:"benchmarks"`
}

// guidellmSampling holds sample_requests, wherever a version puts it: the number of
// requests of each status GuideLLM kept (null: all of them).
type guidellmSampling struct {
	SampleRequests *int `json:"sample_requests"`
}

// guidellmRequest is one request's statistics: GenerativeRequestStats (info.timings,
// times as Unix seconds) or, from GuideLLM ≤ 0.3, GenerativeTextResponseStats
// (start_time, first_token_time, last_token_time, end_time).
type guidellmRequest struct {
	RequestID    *string `json:"request_id"`
	PromptTokens *int    `json:"prompt_tokens"`
	OutputTokens *int    `json:"output_tokens"`
	Info         *struct {
		Error   *string `json:"error"`
		Timings *struct {
			RequestStart        *float64 `json:"request_start"`
			FirstTokenIteration *float64 `json:"first_token_iteration"`
			LastTokenIteration  *float64 `json:"last_token_iteration"`
		} `json:"timings"`
	} `json:"info"`
	StartTime      *float64 `json:"start_time"`
	FirstTokenTime *float64 `json:"first_token_time"`
	LastTokenTime  *float64 `json:"last_token_time"`
	Error          *string  `json:"error"`
}

func parseGuideLLM(data []byte, name string, pick int) (*parsed, error) {
	var r guidellmReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a GuideLLM benchmarks.json: %w", name, err)
	}
	switch n := len(r.Benchmarks); {
	case n == 0:
		return nil, fmt.Errorf("%s: field benchmarks missing or empty", name)
	case pick < 0 && n > 1:
		return nil, fmt.Errorf("%s: holds %d benchmarks (a sweep, one per load): choose one with --benchmark 0..%d", name, n, n-1)
	case pick >= n:
		return nil, fmt.Errorf("%s: --benchmark %d: the file holds benchmarks 0..%d", name, pick, n-1)
	}
	idx := max(pick, 0)
	bm := r.Benchmarks[idx]
	base := fmt.Sprintf("benchmarks[%d].requests", idx)
	if bm.Requests == nil {
		return nil, fmt.Errorf("%s: field %s missing", name, base)
	}
	p := &parsed{tool: GuideLLM, clock: "the client's Unix time, in s", sentField: "info.timings.request_start",
		benchmark: pick, config: map[string]any{"benchmark": idx}}
	if pick < 0 {
		p.benchmark = -1
	}
	if r.Metadata != nil {
		p.version = r.Metadata.GuideLLMVersion
	}
	// A sampled file holds a subset of the requests the server served: replaying it
	// would simulate a lighter load than the one measured.
	for _, s := range []*guidellmSampling{r.Args, bm.Args, bm.Config} {
		if s == nil || s.SampleRequests == nil {
			continue
		}
		n := *s.SampleRequests
		if len(bm.Requests.Successful) >= n || len(bm.Requests.Errored) >= n || len(bm.Requests.Incomplete) >= n {
			return nil, fmt.Errorf("%s: %s may be a sample (sample_requests %d): the simulator would replay a lighter "+
				"load than the server saw; re-run GuideLLM keeping every request (sample_requests null)", name, base, n)
		}
	}
	for i, raw := range bm.Requests.Successful {
		where := fmt.Sprintf("%s.successful[%d]", base, i)
		m, err := guidellmMeasured(raw, where)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		p.requests = append(p.requests, m)
	}
	for _, l := range []struct {
		status string
		reqs   []json.RawMessage
	}{{"errored", bm.Requests.Errored}, {"incomplete", bm.Requests.Incomplete}} {
		for i, raw := range l.reqs {
			var q guidellmRequest
			if err := json.Unmarshal(raw, &q); err != nil {
				return nil, fmt.Errorf("%s: %s.%s[%d]: %w", name, base, l.status, i, err)
			}
			id := fmt.Sprintf("%s[%d]", l.status, i)
			if q.RequestID != nil {
				id = *q.RequestID
			}
			why := l.status
			if q.Info != nil && q.Info.Error != nil {
				why += ": " + *q.Info.Error
			} else if q.Error != nil {
				why += ": " + *q.Error
			}
			p.failed = append(p.failed, failure{id, why})
		}
	}
	return p, nil
}

// guidellmMeasured reads one successful request.
func guidellmMeasured(raw json.RawMessage, where string) (measured, error) {
	var q guidellmRequest
	if err := json.Unmarshal(raw, &q); err != nil {
		return measured{}, fmt.Errorf("%s: %w", where, err)
	}
	missing := func(field string) error { return fmt.Errorf("%s: field %s missing (or null)", where, field) }
	if q.RequestID == nil {
		return measured{}, missing("request_id")
	}
	at := where
	where += fmt.Sprintf(" (id %q)", *q.RequestID)
	if q.PromptTokens == nil {
		return measured{}, missing("prompt_tokens")
	}
	if q.OutputTokens == nil {
		return measured{}, missing("output_tokens")
	}
	m := measured{where: at, id: *q.RequestID, prompt: *q.PromptTokens, output: *q.OutputTokens}
	var start, first, last *float64
	var names [3]string
	if q.Info != nil {
		if q.Info.Timings == nil {
			return measured{}, missing("info.timings")
		}
		t := q.Info.Timings
		start, first, last = t.RequestStart, t.FirstTokenIteration, t.LastTokenIteration
		names = [3]string{"info.timings.request_start", "info.timings.first_token_iteration", "info.timings.last_token_iteration"}
	} else {
		start, first, last = q.StartTime, q.FirstTokenTime, q.LastTokenTime
		names = [3]string{"start_time", "first_token_time", "last_token_time"}
	}
	for i, v := range []*float64{start, first, last} {
		if v == nil {
			return measured{}, missing(names[i])
		}
	}
	m.startS, m.firstS, m.lastS = *start, *first, *last
	return m, nil
}
