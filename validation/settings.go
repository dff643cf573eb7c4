package validation

import (
	"fmt"
	"strconv"
	"strings"
)

// Unknown is how a Mismatch shows a setting one side did not report (its zero value).
const Unknown = "unknown"

// Mismatch is one engine setting on which the real and simulated sides disagree or
// which one of them does not know.
type Mismatch struct {
	Field string `json:"field"`
	Real  string `json:"real"`
	Sim   string `json:"sim"`
}

// AlignSettings lists every setting that differs between the real engine's resolved
// settings and the simulator's, in EngineSettings field order (scheduler,
// token_budget, max_seqs, block_size, num_blocks, tp, pp, attention_backend, dtype,
// cuda_graphs, model). A zero value means "not known" and is never silently matched:
// a field unknown on either side is a mismatch, shown as "unknown". CUDAGraphs is a
// plain bool, so it cannot say "unknown"; false is taken as known. Strings are
// compared exactly ("bf16" and "bfloat16" differ; the sides must use one spelling).
// It returns nil when the settings are aligned.
func AlignSettings(real, sim EngineSettings) []Mismatch {
	fields := []struct {
		name      string
		real, sim string
	}{
		{"scheduler", str(real.Scheduler), str(sim.Scheduler)},
		{"token_budget", num(real.TokenBudget), num(sim.TokenBudget)},
		{"max_seqs", num(real.MaxSeqs), num(sim.MaxSeqs)},
		{"block_size", num(real.BlockSize), num(sim.BlockSize)},
		{"num_blocks", num(real.NumBlocks), num(sim.NumBlocks)},
		{"tp", num(real.TP), num(sim.TP)},
		{"pp", num(real.PP), num(sim.PP)},
		{"attention_backend", str(real.AttentionBackend), str(sim.AttentionBackend)},
		{"dtype", str(real.DType), str(sim.DType)},
		{"cuda_graphs", strconv.FormatBool(real.CUDAGraphs), strconv.FormatBool(sim.CUDAGraphs)},
		{"model", str(real.Model), str(sim.Model)},
	}
	var out []Mismatch
	for _, f := range fields {
		if f.real != f.sim || f.real == Unknown {
			out = append(out, Mismatch{Field: f.name, Real: f.real, Sim: f.sim})
		}
	}
	return out
}

func str(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

func num(n int) string {
	if n == 0 {
		return Unknown
	}
	return strconv.Itoa(n)
}

// ErrMisaligned refuses a comparison whose two sides ran under different settings.
type ErrMisaligned struct {
	Mismatches []Mismatch
}

func (e *ErrMisaligned) Error() string {
	parts := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		parts[i] = fmt.Sprintf("%s: real %s, sim %s", m.Field, m.Real, m.Sim)
	}
	return fmt.Sprintf("engine settings misaligned (%d): %s", len(parts), strings.Join(parts, "; "))
}

// CheckSettings returns an *ErrMisaligned listing every mismatch, or nil when the
// settings are aligned.
func CheckSettings(real, sim EngineSettings) error {
	if ms := AlignSettings(real, sim); len(ms) > 0 {
		return &ErrMisaligned{Mismatches: ms}
	}
	return nil
}
