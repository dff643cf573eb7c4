package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/simkit"
	"github.com/simval/simval/simkit/vidur"
	"github.com/simval/simval/simkit/vidurfmt"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

// The Vidur systems `simval validate --system` judges from recorded runs.
const (
	// SystemVidur is Vidur as released: CPU overhead skipped (its default).
	SystemVidur = "vidur"
	// SystemVidurCPU is Vidur with its CPU-overhead modelling switched on, fed the
	// target's exported cpu_overheads.csv.
	SystemVidurCPU = "vidur-cpu"
)

// VidurMaxTokens is Vidur's max_tokens for a target's runs, and the top of its
// predictor's token grid: the catalog's longest request has 12,032 tokens, and Vidur
// predicts the whole grid up front (16,384 × an 8,192-token chunk is 2.1 M prefill
// predictions), so the grid is not sized to the model's 40,960-token context. One
// value for every scenario keeps one trained predictor per target.
const VidurMaxTokens = 16384

// VidurSettings are the settings Vidur runs a target with: its scheduler as Vidur's
// closest one (transformers' continuous batching, "hfcb", runs as Sarathi: chunked
// prefill under the same token budget), the engine's token budget, batch cap, block
// size, block count and parallelism, and no CUDA graphs (Vidur has none). The
// attention backend and dtype are the profile's, which Vidur's predictions come from.
func VidurSettings(tgt *targets.Target) (validation.EngineSettings, error) {
	s := tgt.Settings
	name, _ := simkit.ParseSchedulerName(s.Scheduler)
	switch name {
	case "hfcb":
		s.Scheduler = "sarathi"
	case "sarathi", "vllm", "orca", "fastertransformer", "lightllm":
	default:
		return s, fmt.Errorf("target %s: scheduler %q has no Vidur counterpart", tgt.Name, s.Scheduler)
	}
	s.CUDAGraphs = false
	return s, nil
}

// VidurScenario is the Vidur run of reqs on tgt: the target's model and GPU in
// Vidur's names (the launcher supplies Qwen3-0.6B and the H200), VidurSettings,
// max_tokens VidurMaxTokens, and CPU-overhead modelling when cpu.
func VidurScenario(tgt *targets.Target, reqs []scenarios.Request, cpu bool) (vidur.Scenario, error) {
	settings, err := VidurSettings(tgt)
	if err != nil {
		return vidur.Scenario{}, err
	}
	if _, err := vidurfmt.LookupModel(tgt.Model.Name); err != nil {
		return vidur.Scenario{}, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	dev, err := vidur.DeviceFor(tgt.GPU)
	if err != nil {
		return vidur.Scenario{}, fmt.Errorf("target %s: %w", tgt.Name, err)
	}
	return vidur.Scenario{
		Requests: reqs, Model: tgt.Model.Name, Device: dev.Device, NetworkDevice: dev.Network,
		Settings: settings, MaxTokens: VidurMaxTokens, CPUOverhead: cpu,
	}, nil
}

// VidurRun is a recorded run of Vidur on a catalog scenario for a target
// (targets/catalog/<target>/simruns/<system>/<scenario>.json): its per-request records,
// Vidur's own request_metrics.csv, and how it was produced.
type VidurRun struct {
	System     string          `json:"system"`
	Target     string          `json:"target"`
	Scenario   string          `json:"scenario"`
	Provenance VidurProvenance `json:"provenance"`
	// Records are one per request, in the scenario's order (vidur.RecordsFromMetrics).
	Records []validation.Record `json:"records"`
	// RequestMetricsCSV is Vidur's output, byte for byte.
	RequestMetricsCSV string `json:"request_metrics_csv"`
}

// VidurProvenance says how a Vidur run was produced, enough to reproduce it.
type VidurProvenance struct {
	Simulator string `json:"simulator"` // "microsoft/vidur"
	Commit    string `json:"commit"`
	// Launcher is simval's launcher (realkit/drivers/vidur_launch.py) and the SHA-256
	// of the copy that ran.
	Launcher       string `json:"launcher"`
	LauncherSHA256 string `json:"launcher_sha256"`
	// ProfileFingerprint is the target's profile bundle's; ExportFingerprint the
	// exported Vidur profile folder's (`simval profile export --vidur`), which also
	// names the predictor cache folder.
	ProfileFingerprint string `json:"profile_fingerprint"`
	ExportFingerprint  string `json:"export_fingerprint"`
	// Args are the vidur.main flags simval chose; the launcher adds the trace, output
	// and cache folders. Config is the config.json Vidur wrote: its whole resolved
	// configuration (paths as on the recording machine).
	Args   []string        `json:"args"`
	Config json.RawMessage `json:"config"`
	// PredictorCacheKeys are the prediction tables the run used, op → hash
	// (<cache>/<op>_<hash>_predictions.csv): Vidur's random forests are not seeded, so
	// only the same tables reproduce a run exactly.
	PredictorCacheKeys map[string]string `json:"predictor_cache_keys"`
	// WallS is the run's wall time (process start to exit, predictors cached).
	WallS      float64 `json:"wall_s"`
	RecordedAt string  `json:"recorded_at"`
	Host       string  `json:"host"`
}

// WriteVidurRun writes r as indented JSON.
func WriteVidurRun(w io.Writer, r *VidurRun) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(r)
}

// ReadVidurRun reads a recorded Vidur run strictly; name is what errors call it.
func ReadVidurRun(data []byte, name string) (*VidurRun, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r VidurRun
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if r.System != SystemVidur && r.System != SystemVidurCPU {
		return nil, fmt.Errorf("%s: system %q is not %s or %s", name, r.System, SystemVidur, SystemVidurCPU)
	}
	if err := validation.ValidateRecords(r.Records); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &r, nil
}

// RecordedSimulator is a simulator judged from its recorded runs on each target
// (simruns/<System>/<scenario>.json): Vidur, in sim-only CI where it is not installed.
type RecordedSimulator struct {
	System   string
	scenario string
}

// ForScenario implements StateAware: the record is the scenario's.
func (s RecordedSimulator) ForScenario(sc *scenarios.Scenario, _ *Real) (System, error) {
	s.scenario = sc.Name
	return s, nil
}

// Name implements System.
func (s RecordedSimulator) Name() string { return s.System + " (recorded)" }

// Run implements System: the recorded run of the scenario on tgt, checked to be of
// the same requests.
func (s RecordedSimulator) Run(_ context.Context, tgt *targets.Target, reqs []scenarios.Request) (*Outcome, error) {
	if s.scenario == "" {
		return nil, errors.New("recorded simulator: no scenario (use it through Evaluate)")
	}
	data, name, err := tgt.SimRunData(s.System, s.scenario)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no recorded %s run of %s on %s at %s (record one with `simval vidur record`)",
			s.System, s.scenario, tgt.Name, name)
	}
	if err != nil {
		return nil, err
	}
	run, err := ReadVidurRun(data, name)
	if err != nil {
		return nil, err
	}
	if run.System != s.System || run.Scenario != s.scenario || run.Target != tgt.Name {
		return nil, fmt.Errorf("%s: a %s run of %s on %s, want %s of %s on %s", name, run.System, run.Scenario,
			run.Target, s.System, s.scenario, tgt.Name)
	}
	if err := sameRequests(run.Records, reqs); err != nil {
		return nil, fmt.Errorf("%s: %w (the scenario changed since it was recorded: record it again)", name, err)
	}
	settings, err := VidurSettings(tgt)
	if err != nil {
		return nil, err
	}
	p := run.Provenance
	return &Outcome{
		Records:  run.Records,
		Settings: settings,
		Warnings: []string{fmt.Sprintf("%s: recorded run of %s %s (predictor %d tables, %.1f s wall, %s)",
			s.System, p.Simulator, p.Commit, len(p.PredictorCacheKeys), p.WallS, p.RecordedAt)},
	}, nil
}

// sameRequests checks that recs are reqs' records, in order: ids, arrivals and
// token counts.
func sameRequests(recs []validation.Record, reqs []scenarios.Request) error {
	if len(recs) != len(reqs) {
		return fmt.Errorf("%d records for %d requests", len(recs), len(reqs))
	}
	for i, r := range reqs {
		g := recs[i]
		if g.ID != r.ID || g.ArrivalS != r.ArrivalS || g.PromptTokens != r.PromptTokens || g.OutputTokens != r.OutputTokens {
			return fmt.Errorf("record %d is %q at %gs with %d+%d tokens, the scenario's request is %q at %gs with %d+%d",
				i, g.ID, g.ArrivalS, g.PromptTokens, g.OutputTokens, r.ID, r.ArrivalS, r.PromptTokens, r.OutputTokens)
		}
	}
	return nil
}
