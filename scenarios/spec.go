package scenarios

import (
	"io/fs"

	"go.yaml.in/yaml/v3"

	"github.com/simval/simval/validation"
)

// Regimes the project names. Regime is a free string in a spec, but RegimeQueueFree
// carries a checked precondition: every request completes before the next arrives.
const (
	RegimeQueueFree  = "queue-free"
	RegimeBatched    = "batched"
	RegimePoisson    = "poisson"
	RegimeLongPrompt = "long-prompt"
	RegimeCold       = "cold"
	// RegimeRun is the regime of a scenario built from a recorded run's own requests
	// (simval validate --run), not from the catalog.
	RegimeRun = "run"
)

// Engine states a scenario may judge (Scenario.EngineState): what the engine has
// captured or compiled before the timed requests arrive.
const (
	EngineWarm        = "warm"         // everything the workload needs is captured (the default)
	EngineCold        = "cold"         // a freshly started engine process, no warm-up
	EngineAfterWarmup = "after-warmup" // what the driver's warm-up left, as recorded
	// EngineRestart: a freshly started engine process on a machine where the same engine
	// ran from the same place before (its compiled kernels cached), no warm-up.
	EngineRestart = "restart"
)

// EngineStates lists the accepted values of engine_state; "" means EngineWarm.
var EngineStates = []string{"", EngineWarm, EngineCold, EngineRestart, EngineAfterWarmup}

// Arrival process kinds (Arrivals.Kind).
const (
	ArrivalsExplicit = "explicit" // times_s: one absolute time per request
	ArrivalsConstant = "constant" // start_s + i·spacing_s
	ArrivalsBurst    = "burst"    // groups of size at at_s + g·spacing_s
	ArrivalsPoisson  = "poisson"  // exponential gaps at rate_per_s, first at start_s
	ArrivalsGamma    = "gamma"    // gamma gaps with mean 1/rate_per_s and CV cv
)

// Length distribution kinds (Lengths.Kind).
const (
	LengthsFixed   = "fixed"   // value
	LengthsUniform = "uniform" // integers in [min, max], both inclusive
	LengthsList    = "list"    // values, one per request, or cycled when cycle is set
)

// Limits that keep a typo (or a fuzzer) from asking for absurd workloads.
const (
	MaxRequests = 1_000_000
	MaxTokens   = 10_000_000
	// MaxArrivalS is the arrival-time horizon, 10⁶ s (11.6 days): times are float64
	// seconds, whose spacing at 10⁶ s is 1.2·10⁻¹⁰ s, so token times of millisecond steps
	// keep sub-nanosecond resolution. At 10¹² s the spacing is 0.12 ms, the size of the
	// latencies judged, and at 10²⁰ s it is 4.5 hours: every latency rounds to 0. No
	// trace a simulator is validated on spans days; a longer one is refused, not rounded.
	MaxArrivalS = 1e6
)

// Scenario is one workload plus its regime and any loosened accuracy bounds. Build one
// with Load, Parse or Lookup; a Scenario built in Go should be checked with Validate.
type Scenario struct {
	// Name is lower-case kebab (it names Go subtests and golden files); in the
	// catalog it equals the file's base name.
	Name string `yaml:"name" json:"name"`
	// Regime is what the scenario exercises, e.g. RegimeQueueFree.
	Regime string `yaml:"regime" json:"regime"`
	// Description says what the scenario exercises and why; required.
	Description string `yaml:"description" json:"description"`
	// Seed feeds every random stream of the workload.
	Seed     uint64   `yaml:"seed" json:"seed"`
	Workload Workload `yaml:"workload" json:"workload"`
	// Targets holds per-target workload overrides, keyed by target name
	// (e.g. "h200-hfcb-qwen3-0.6b"). Each set field replaces the base one.
	Targets map[string]Workload `yaml:"targets,omitempty" json:"targets,omitempty"`
	// EngineState is the engine state the scenario judges: warm (the default), cold or
	// after-warmup. Real runs of a cold scenario are fresh engine processes without
	// warm-up; a warm scenario does not judge a repetition whose timed window captured
	// a CUDA graph.
	EngineState string `yaml:"engine_state,omitempty" json:"engine_state,omitempty"`
	// Bounds changes validation's default bounds; one looser than the project
	// default needs a reason (validation.Criteria.WithOverrides holds the rules).
	Bounds []validation.BoundOverride `yaml:"bounds,omitempty" json:"bounds,omitempty"`

	// source is where the spec came from: the file name used in errors and the
	// directory trace paths are relative to. fsys is nil for the OS file system.
	source string
	fsys   fs.FS
	// traces caches trace files read while validating, by trace path as written.
	traces map[string][]Request
	// doc is the parsed document (nil when built in Go), for the lines of errors.
	doc *yaml.Node
	// userDir is the user catalog folder the spec came from ("" otherwise).
	userDir string
}

// Workload is either generated (count, arrivals, prompt_tokens, output_tokens) or
// read from a trace file (trace), never both.
type Workload struct {
	// Count is the number of requests; it may be left out when arrivals are explicit
	// (it is then len(times_s)) and must be left out with a trace.
	Count        int       `yaml:"count,omitempty" json:"count,omitempty"`
	Arrivals     *Arrivals `yaml:"arrivals,omitempty" json:"arrivals,omitempty"`
	PromptTokens *Lengths  `yaml:"prompt_tokens,omitempty" json:"prompt_tokens,omitempty"`
	OutputTokens *Lengths  `yaml:"output_tokens,omitempty" json:"output_tokens,omitempty"`
	// Trace is a Vidur CSV (.csv) or JSON-lines (.jsonl) file, relative to the
	// scenario file.
	Trace string `yaml:"trace,omitempty" json:"trace,omitempty"`
}

// Arrivals describes when requests arrive. Only the fields of its Kind may be set.
type Arrivals struct {
	Kind string `yaml:"kind" json:"kind"`
	// TimesS (explicit) are absolute arrival times in seconds, non-decreasing.
	TimesS []float64 `yaml:"times_s,omitempty" json:"times_s,omitempty"`
	// StartS (constant, poisson, gamma) is the first arrival; default 0.
	StartS float64 `yaml:"start_s,omitempty" json:"start_s,omitempty"`
	// SpacingS is the gap between arrivals (constant) or between bursts (burst).
	SpacingS float64 `yaml:"spacing_s,omitempty" json:"spacing_s,omitempty"`
	// AtS (burst) is when the first burst arrives.
	AtS float64 `yaml:"at_s,omitempty" json:"at_s,omitempty"`
	// Size (burst) is the number of requests per burst; default: all of them.
	Size int `yaml:"size,omitempty" json:"size,omitempty"`
	// RatePerS (poisson, gamma) is the mean arrival rate.
	RatePerS float64 `yaml:"rate_per_s,omitempty" json:"rate_per_s,omitempty"`
	// CV (gamma) is the coefficient of variation of the gaps (1 is Poisson).
	CV float64 `yaml:"cv,omitempty" json:"cv,omitempty"`
}

// Lengths describes a token count per request. Only the fields of its Kind may be set.
type Lengths struct {
	Kind  string `yaml:"kind" json:"kind"`
	Value int    `yaml:"value,omitempty" json:"value,omitempty"` // fixed
	Min   int    `yaml:"min,omitempty" json:"min,omitempty"`     // uniform, inclusive
	Max   int    `yaml:"max,omitempty" json:"max,omitempty"`     // uniform, inclusive
	// Values (list) gives one length per request, in request order; with Cycle set
	// it is repeated instead, and need not match the count.
	Values []int `yaml:"values,omitempty" json:"values,omitempty"`
	Cycle  bool  `yaml:"cycle,omitempty" json:"cycle,omitempty"`
}

// Source is the file the scenario was read from ("" when built in Go).
func (s *Scenario) Source() string { return s.source }

// State is the scenario's engine state, EngineWarm when unset.
func (s *Scenario) State() string {
	if s.EngineState == "" {
		return EngineWarm
	}
	return s.EngineState
}

// QueueFree reports whether the scenario's regime carries the queue-free
// precondition.
func (s *Scenario) QueueFree() bool { return s.Regime == RegimeQueueFree }
