package realkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/simval/simval/validation"
)

// ProtocolVersion is the replay protocol version this package speaks (PROTOCOL.md).
const ProtocolVersion = 1

// Meta is a run's provenance: what ran, where, with which resolved settings, on
// which clock, and how it was warmed up. It is the protocol's meta line (less its
// "type") and is stored verbatim in baselines.
type Meta struct {
	Protocol      int    `json:"protocol"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	// Driver is the driver script (or "go-openai-client").
	Driver string `json:"driver"`
	// Versions holds python, torch, transformers, sarathi, … as the driver found them.
	Versions map[string]string `json:"versions"`
	GPU      GPUInfo           `json:"gpu"`
	// Settings are the engine's resolved settings; SettingsUnknown names the fields
	// the driver could not read (their values are the zero "unknown").
	Settings        validation.EngineSettings `json:"settings"`
	SettingsUnknown []string                  `json:"settings_unknown"`
	// EngineConfig is the engine's own resolved configuration, free-form.
	EngineConfig json.RawMessage `json:"engine_config"`
	// Clock names the clock of every time ("perf_counter", "monotonic", "go-monotonic").
	Clock string `json:"clock"`
	// Timestamps is "engine" (the engine's own token times) or "client" (arrival of
	// streamed chunks at the client).
	Timestamps   string `json:"timestamps"`
	WarmupPolicy string `json:"warmup_policy"`
	// Model is the model configuration, free-form.
	Model json.RawMessage `json:"model"`
	Host  string          `json:"host"`
	// HostCPU is the host's CPU model and logical CPU count ("" in runs recorded
	// before it was kept).
	HostCPU     string `json:"host_cpu,omitempty"`
	Seed        int64  `json:"seed"`
	Repetitions int    `json:"repetitions"`
	// SettleS is the driver's quiet before each repetition and before writing its lines
	// (replay.py's settle(); 0 in runs recorded before it existed).
	SettleS float64 `json:"settle_s,omitempty"`
}

// GPUInfo identifies the accelerator a run used.
type GPUInfo struct {
	Name   string `json:"name"`
	Driver string `json:"driver"`
	CUDA   string `json:"cuda"`
	Count  int    `json:"count"`
}

// Ready is the driver's ready line: how long loading and warming up took.
type Ready struct {
	Protocol int     `json:"protocol"`
	LoadS    float64 `json:"load_s"`
	WarmupS  float64 `json:"warmup_s"`
}

// Step is one engine iteration, where the driver reports them (the step line less its
// "type" and "rep"): validation's step-trace record.
type Step = validation.Step

// Summary is the driver's end-of-repetition line. Only counts and the t0 anchor
// are taken from it; every statistic is recomputed from the records.
type Summary struct {
	Requests int `json:"requests"`
	Finished int `json:"finished"`
	// T0Unix is the wall-clock time of t0; T0Clock is t0 on the engine clock.
	T0Unix    float64 `json:"t0_unix"`
	T0Clock   float64 `json:"t0_clock"`
	DurationS float64 `json:"duration_s"`
}

// requestLine is one finished request on the wire.
type requestLine struct {
	Rep             int       `json:"rep"`
	ID              string    `json:"id"`
	ArrivalS        float64   `json:"arrival_s"`
	SubmittedS      float64   `json:"submitted_s"`
	PromptTokens    int       `json:"prompt_tokens"`
	OutputTokens    int       `json:"output_tokens"`
	FirstTokenS     float64   `json:"first_token_s"`
	TokenTimesS     []float64 `json:"token_times_s"`
	CompletionS     float64   `json:"completion_s"`
	FinishReason    string    `json:"finish_reason"`
	Restarts        int       `json:"restarts"`
	FirstScheduledS *float64  `json:"first_scheduled_s,omitempty"`
}

type errorLine struct {
	Message   string `json:"message"`
	Fatal     bool   `json:"fatal"`
	Rep       *int   `json:"rep,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// requiredKeys lists, per line type, the keys a line must carry (beyond "type").
var requiredKeys = map[string][]string{
	"ready": {"protocol", "load_s", "warmup_s"},
	"meta": {"protocol", "engine", "engine_version", "driver", "versions", "gpu", "settings",
		"settings_unknown", "engine_config", "clock", "timestamps", "warmup_policy", "model", "host", "seed",
		"repetitions"},
	"request": {"rep", "id", "arrival_s", "submitted_s", "prompt_tokens", "output_tokens", "first_token_s",
		"token_times_s", "completion_s", "finish_reason", "restarts"},
	"step":    {"rep", "index", "start_s", "duration_s"},
	"summary": {"rep", "requests", "finished", "t0_unix", "t0_clock", "duration_s"},
	"error":   {"message", "fatal"},
}

// splitLine checks a line's type and required keys and returns the type and the
// line with "type" removed, ready for a strict decode into the type's struct.
func splitLine(line []byte) (string, []byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return "", nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var kind string
	if err := json.Unmarshal(fields["type"], &kind); err != nil || kind == "" {
		return "", nil, errors.New(`missing or non-string "type"`)
	}
	want, ok := requiredKeys[kind]
	if !ok {
		return "", nil, fmt.Errorf("unknown line type %q", kind)
	}
	var missing []string
	for _, k := range want {
		if _, ok := fields[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", nil, fmt.Errorf("%s line: missing fields %q", kind, missing)
	}
	delete(fields, "type")
	rest, err := json.Marshal(fields)
	return kind, rest, err
}

// decodeStrict decodes exactly one JSON value, rejecting unknown fields.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// checkRecord checks the invariants every Record must meet (both from a driver and
// from a baseline file): one token time per output token, non-decreasing, and
// first-token and completion times equal to the first and last token time.
func checkRecord(r validation.Record) error {
	switch {
	case r.ID == "":
		return errors.New("empty id")
	case r.OutputTokens < 1 || r.PromptTokens < 1:
		return fmt.Errorf("request %s: prompt_tokens %d and output_tokens %d must be >= 1", r.ID, r.PromptTokens,
			r.OutputTokens)
	case len(r.TokenTimesS) != r.OutputTokens:
		return fmt.Errorf("request %s: %d token times for %d output tokens", r.ID, len(r.TokenTimesS),
			r.OutputTokens)
	case !slices.IsSorted(r.TokenTimesS):
		return fmt.Errorf("request %s: token times decrease", r.ID)
	case r.FirstTokenS != r.TokenTimesS[0]:
		return fmt.Errorf("request %s: first_token_s %v is not the first token time %v", r.ID, r.FirstTokenS,
			r.TokenTimesS[0])
	case r.CompletionS != r.TokenTimesS[len(r.TokenTimesS)-1]:
		return fmt.Errorf("request %s: completion_s %v is not the last token time %v", r.ID, r.CompletionS,
			r.TokenTimesS[len(r.TokenTimesS)-1])
	case r.Restarts < 0:
		return fmt.Errorf("request %s: negative restarts", r.ID)
	}
	return nil
}

func (l requestLine) record() validation.Record {
	return validation.Record{
		ID:              l.ID,
		ArrivalS:        l.ArrivalS,
		PromptTokens:    l.PromptTokens,
		OutputTokens:    l.OutputTokens,
		FirstTokenS:     l.FirstTokenS,
		TokenTimesS:     l.TokenTimesS,
		CompletionS:     l.CompletionS,
		FirstScheduledS: l.FirstScheduledS,
		Restarts:        l.Restarts,
	}
}
