package suite

import (
	"slices"

	"github.com/simval/simval/validation"
)

// GoldenSummary is the checked-in form of a simulator's output for one scenario on
// one target: what a reviewer reads in a golden diff. Times are seconds.
type GoldenSummary struct {
	Scenario string `json:"scenario"`
	Target   string `json:"target"`
	System   string `json:"system"`
	Requests int    `json:"requests"`
	Steps    int    `json:"steps"`
	// Phases is the number of arrival-phase realizations the summary pools.
	Phases int `json:"phases,omitempty"`
	// Breakdown is the prediction's split into kernel and CPU time.
	Breakdown *validation.Breakdown `json:"breakdown,omitempty"`
	Summary   validation.RunSummary `json:"summary"`
	// PerRequest lists each request's TTFT and E2E in arrival order.
	PerRequest []RequestLine `json:"per_request"`
	Warnings   []string      `json:"warnings,omitempty"`
	// Inputs fingerprints what the prediction and its verdict rest on, so that a
	// changed golden says whether the profile or the baseline changed with it (neither:
	// the simulator did).
	Inputs GoldenInputs `json:"inputs"`
}

// GoldenInputs are short hashes of a golden's inputs ("" where there is none).
type GoldenInputs struct {
	Profile  string `json:"profile"`
	Baseline string `json:"baseline"`
}

// RequestLine is one request in a golden summary.
type RequestLine struct {
	ID       string  `json:"id"`
	ArrivalS float64 `json:"arrival_s"`
	Prompt   int     `json:"prompt_tokens"`
	Output   int     `json:"output_tokens"`
	TTFTS    float64 `json:"ttft_s"`
	E2ES     float64 `json:"e2e_s"`
}

// Golden builds the golden summary of an evaluation's outcome.
func (e *Evaluation) Golden() GoldenSummary {
	g := GoldenSummary{
		Scenario:  e.Scenario.Name,
		Target:    e.Target.Name,
		System:    e.System,
		Requests:  len(e.Outcome.Records),
		Steps:     e.Outcome.Steps,
		Breakdown: e.Outcome.Breakdown,
		Summary:   validation.SummarizeRun(slices.Concat(e.Outcome.allRealizations()...)),
		Warnings:  e.Outcome.Warnings,
	}
	g.Inputs.Profile = e.ProfileFingerprint
	if e.Real != nil {
		g.Inputs.Baseline = e.Real.Fingerprint
	}
	if n := len(e.Outcome.allRealizations()); n > 1 {
		g.Phases = n
	}
	for _, r := range e.Outcome.Records {
		g.PerRequest = append(g.PerRequest, RequestLine{
			ID: r.ID, ArrivalS: r.ArrivalS, Prompt: r.PromptTokens, Output: r.OutputTokens,
			TTFTS: r.FirstTokenS - r.ArrivalS, E2ES: r.CompletionS - r.ArrivalS,
		})
	}
	return g
}
