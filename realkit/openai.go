package realkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/validation"
)

// sseMaxLine bounds one server-sent-events line (the 64 KiB default is too small
// for servers that put logprobs or long texts in a chunk).
const sseMaxLine = 4 << 20

// OpenAIClient replays a workload open-loop against an OpenAI-compatible completions
// endpoint (vLLM, SGLang, …) and records client-side times: each request is sent at
// its arrival time by its own goroutine, whatever happened to the others, and every
// streamed chunk that carries text is one token, stamped when its line is read.
type OpenAIClient struct {
	// BaseURL is the server root, e.g. "http://127.0.0.1:8000" (or ".../v1").
	BaseURL string
	Model   string
	// HTTP is the client to use; nil means one whose transport keeps enough idle
	// connections per host for open-loop load.
	HTTP *http.Client
	// Prompt returns the "prompt" field for a request; nil means DefaultPrompt.
	Prompt func(scenarios.Request) any
}

// DefaultPrompt returns PromptTokens token ids drawn deterministically from the
// request id, in [1000, 30000): ordinary tokens in any vocabulary of ≥ 32k entries.
func DefaultPrompt(r scenarios.Request) any {
	h := fnv.New64a()
	_, _ = h.Write([]byte(r.ID))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
	ids := make([]int, r.PromptTokens)
	for i := range ids {
		ids[i] = 1000 + rng.IntN(29000)
	}
	return ids
}

// completionRequest is the body sent for each request. ignore_eos and min_tokens
// are vLLM extensions that pin the output length at max_tokens.
type completionRequest struct {
	Model         string        `json:"model"`
	Prompt        any           `json:"prompt"`
	MaxTokens     int           `json:"max_tokens"`
	MinTokens     int           `json:"min_tokens"`
	IgnoreEOS     bool          `json:"ignore_eos"`
	Temperature   float64       `json:"temperature"`
	Stream        bool          `json:"stream"`
	StreamOptions streamOptions `json:"stream_options"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type streamChunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta *struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type clientResult struct {
	rec       validation.Record
	submitted float64
	warning   string
	err       error
}

// Replay sends every request at its arrival time and waits for all of them. It
// returns a one-repetition Run with client-side timestamps (Meta.Timestamps
// "client"); failed requests are left out of the records and joined into the error.
func (c *OpenAIClient) Replay(ctx context.Context, reqs []scenarios.Request) (*Run, error) {
	if err := CheckRequests(reqs); err != nil {
		return nil, err
	}
	t0 := time.Now()
	results := make([]clientResult, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { results[i] = c.send(ctx, t0, r) })
	}
	wg.Wait()

	run := &Run{Meta: c.meta(), Command: fmt.Sprintf("openai-client POST %s model=%s", c.url(), c.Model)}
	rep := Repetition{}
	var errs []error
	for i, res := range results {
		if res.err != nil {
			errs = append(errs, &requestError{id: reqs[i].ID, err: res.err})
			continue
		}
		if res.warning != "" {
			run.Warnings = append(run.Warnings, res.warning)
		}
		rep.Records = append(rep.Records, res.rec)
		rep.SubmittedS = append(rep.SubmittedS, res.submitted)
	}
	rep.Lateness = ComputeLateness(rep.Records, rep.SubmittedS)
	rep.Summary = &Summary{Requests: len(reqs), Finished: len(rep.Records),
		T0Unix: float64(t0.UnixNano()) / 1e9, DurationS: time.Since(t0).Seconds()}
	run.Repetitions = []Repetition{rep}
	if len(errs) > 0 {
		hint := ""
		if errors.Is(errs[0], syscall.ECONNREFUSED) {
			hint = fmt.Sprintf(" (nothing listens at %s: is the server up, and is --base-url right?)", c.url())
		}
		return run, fmt.Errorf("realkit: openai client: %d of %d requests failed%s: %w", len(errs), len(reqs), hint,
			groupRequestErrors(errs))
	}
	return run, nil
}

// requestError is one request's failure.
type requestError struct {
	id  string
	err error
}

func (e *requestError) Error() string { return fmt.Sprintf("request %q: %v", e.id, e.err) }

func (e *requestError) Unwrap() error { return e.err }

// groupRequestErrors joins request errors, one line per distinct cause with the ids
// it struck (a refused connection is one line, not one per request).
func groupRequestErrors(errs []error) error {
	var order []string
	ids := map[string][]string{}
	causes := map[string]error{}
	for _, e := range errs {
		re := e.(*requestError)
		msg := re.err.Error()
		if _, ok := ids[msg]; !ok {
			order = append(order, msg)
			causes[msg] = re.err
		}
		ids[msg] = append(ids[msg], re.id)
	}
	out := make([]error, 0, len(order))
	for _, msg := range order {
		list := ids[msg]
		if len(list) == 1 {
			out = append(out, &requestError{id: list[0], err: causes[msg]})
			continue
		}
		if len(list) > 5 {
			list = append(list[:4:4], fmt.Sprintf("… %d more", len(list)-4))
		}
		out = append(out, fmt.Errorf("%w (requests %s)", causes[msg], strings.Join(list, ", ")))
	}
	return errors.Join(out...)
}

func (c *OpenAIClient) url() string {
	base := strings.TrimSuffix(c.BaseURL, "/")
	if strings.HasSuffix(base, "/v1") {
		return base + "/completions"
	}
	return base + "/v1/completions"
}

func (c *OpenAIClient) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4096
	return &http.Client{Transport: tr}
}

var settingsFields = []string{"scheduler", "token_budget", "max_seqs", "block_size", "num_blocks", "tp", "pp",
	"attention_backend", "dtype", "cuda_graphs", "model"}

func (c *OpenAIClient) meta() Meta {
	host, _ := os.Hostname()
	config, _ := json.Marshal(map[string]string{"url": c.url(), "model": c.Model})
	model, _ := json.Marshal(map[string]string{"name": c.Model})
	return Meta{
		Protocol: ProtocolVersion, Engine: "openai", EngineVersion: "unknown", Driver: "go-openai-client",
		Versions: map[string]string{}, GPU: GPUInfo{Name: "unknown", Driver: "unknown", CUDA: "unknown"},
		SettingsUnknown: settingsFields, EngineConfig: config, Clock: "go-monotonic", Timestamps: "client",
		WarmupPolicy: "none by the client; the server's own", Model: model, Host: host, Repetitions: 1,
	}
}

// send waits for r's arrival, posts it and reads its stream.
func (c *OpenAIClient) send(ctx context.Context, t0 time.Time, r scenarios.Request) clientResult {
	timer := time.NewTimer(time.Until(t0.Add(time.Duration(r.ArrivalS * float64(time.Second)))))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return clientResult{err: context.Cause(ctx)}
	case <-timer.C:
	}
	prompt := DefaultPrompt
	if c.Prompt != nil {
		prompt = c.Prompt
	}
	body, err := json.Marshal(completionRequest{Model: c.Model, Prompt: prompt(r), MaxTokens: r.OutputTokens,
		MinTokens: r.OutputTokens, IgnoreEOS: true, Stream: true, StreamOptions: streamOptions{IncludeUsage: true}})
	if err != nil {
		return clientResult{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(), bytes.NewReader(body))
	if err != nil {
		return clientResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res := clientResult{submitted: time.Since(t0).Seconds()}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		res.err = err
		return res
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		res.err = fmt.Errorf("HTTP %s: %s", resp.Status, strings.TrimSpace(string(msg)))
		return res
	}
	times, usage, err := readStream(resp.Body, t0)
	if err != nil {
		res.err = err
		return res
	}
	switch {
	case usage.CompletionTokens != r.OutputTokens:
		res.err = fmt.Errorf("server generated %d tokens, %d were asked for", usage.CompletionTokens, r.OutputTokens)
	case len(times) != r.OutputTokens:
		res.err = fmt.Errorf("%d chunks carried text for %d tokens: per-token times unavailable", len(times),
			r.OutputTokens)
	default:
		res.rec = validation.Record{ID: r.ID, ArrivalS: r.ArrivalS, PromptTokens: r.PromptTokens,
			OutputTokens: r.OutputTokens, FirstTokenS: times[0], TokenTimesS: times, CompletionS: times[len(times)-1]}
		if usage.PromptTokens != r.PromptTokens {
			res.warning = fmt.Sprintf("request %s: server counted %d prompt tokens, the workload %d", r.ID,
				usage.PromptTokens, r.PromptTokens)
		}
	}
	return res
}

type usageCounts struct{ PromptTokens, CompletionTokens int }

// readStream reads server-sent events until [DONE]: the time (seconds since t0) of
// every chunk with text, stamped as soon as its line is read, and the usage chunk.
func readStream(body io.Reader, t0 time.Time) ([]float64, usageCounts, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), sseMaxLine)
	var times []float64
	var usage *usageCounts
	for sc.Scan() {
		at := time.Since(t0).Seconds()
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:"))
		if !ok {
			continue // blank separators, ": comments", "event:" and "id:" fields
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			if usage == nil {
				return nil, usageCounts{}, errors.New("no usage chunk before [DONE] (is stream_options.include_usage" +
					" supported?)")
			}
			return times, *usage, nil
		}
		var chunk streamChunk
		if err := json.Unmarshal(data, &chunk); err != nil {
			return nil, usageCounts{}, fmt.Errorf("bad stream chunk %q: %w", truncate(string(data), 200), err)
		}
		if chunk.Error != nil {
			return nil, usageCounts{}, fmt.Errorf("server error in stream: %s", chunk.Error.Message)
		}
		for _, ch := range chunk.Choices {
			if ch.Text != "" || (ch.Delta != nil && ch.Delta.Content != "") {
				times = append(times, at)
				break
			}
		}
		if chunk.Usage != nil {
			usage = &usageCounts{chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usageCounts{}, fmt.Errorf("reading the stream: %w", err)
	}
	return nil, usageCounts{}, errors.New("stream ended without [DONE]")
}
