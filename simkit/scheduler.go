package simkit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/simval/simval/validation"
)

// BatchItem is one request's share of a step: Tokens prompt tokens of a prefill chunk,
// or 1 for a decode.
type BatchItem struct {
	Req    *SimRequest
	Tokens int
}

// Batch is what a replica scheduler hands to the execution-time predictor for one
// step. Items is owned by the scheduler and may be reused after OnBatchEnd; with
// pipeline parallelism several batches of a replica are in flight at once, so a
// scheduler reuses a batch's Items only after that batch's own OnBatchEnd.
type Batch struct {
	Items []BatchItem
	// Replica and Stage are filled in by the simulator core before each prediction:
	// a pipeline-parallel batch is predicted once per stage.
	Replica int
	Stage   int
}

// NumTokens is Σ Tokens over the items.
func (b Batch) NumTokens() int {
	n := 0
	for _, it := range b.Items {
		n += it.Tokens
	}
	return n
}

// Scheduler is a replica scheduler: it owns the waiting and running queues and the KV
// blocks of one replica, and forms one batch whenever the replica is free. It is
// deterministic and knows no clock beyond the times it is handed.
//
// The core counts the replica's batches in flight and calls NextBatch while there are
// fewer than the pipeline's stage count (Vidur's on_schedule loop), after every
// arrival the global scheduler routes here and after every batch end.
type Scheduler interface {
	// Add hands a newly arrived request to the replica.
	Add(r *SimRequest)
	// NextBatch forms the next batch at time now, or returns false when nothing can run.
	NextBatch(now float64) (Batch, bool)
	// OnBatchEnd is called after every item's request has had its token accounting
	// updated (SimRequest.OnBatchEnd); it frees finished requests and requeues the rest.
	OnBatchEnd(b Batch, now float64)
	// Pending reports the requests waiting to be admitted (Vidur's
	// num_pending_requests: the request queue, running requests excluded); the "lor"
	// global scheduler routes to the replica with the fewest.
	Pending() int
}

// SchedulerConfig is what a scheduler factory gets.
type SchedulerConfig struct {
	// Name and SubPolicy split Settings.Scheduler at its first colon
	// ("hfcb:fifo" → "hfcb", "fifo").
	Name      string
	SubPolicy string
	// Settings are the engine settings as resolved by the real engine. Zero values
	// mean unknown; a scheduler applies its documented default and warns.
	Settings validation.EngineSettings
	Model    ModelSpec
	// NumStages is the pipeline depth (Settings.PP, at least 1).
	NumStages int
	// Replica is the replica's id, from 0.
	Replica int
	// GPUMemoryGB and MaxRequestTokens feed Vidur's memory planner when
	// Settings.NumBlocks is 0 (see ResolveNumBlocks).
	GPUMemoryGB      float64
	MaxRequestTokens int
	// Warn records a warning in Result.Warnings (deduplicated); nil drops it.
	Warn func(string)
}

// Warnf records a formatted warning.
func (c SchedulerConfig) Warnf(format string, args ...any) {
	if c.Warn != nil {
		c.Warn(fmt.Sprintf(format, args...))
	}
}

// ResolveNumBlocks returns Settings.NumBlocks, the KV block count the real engine
// resolved. When that is 0 it falls back to Vidur's memory planner (with the model's
// explicit head dimension) and warns, since a planned count rarely matches an engine.
func (c SchedulerConfig) ResolveNumBlocks(blockSize int) (int, error) {
	if c.Settings.NumBlocks > 0 {
		return c.Settings.NumBlocks, nil
	}
	plan, err := PlanMemory(c.Model, max(c.Settings.TP, 1), max(c.NumStages, 1),
		c.GPUMemoryGB, c.MaxRequestTokens, blockSize)
	if err != nil {
		return 0, fmt.Errorf("settings.num_blocks is 0 and the memory planner failed: %w", err)
	}
	c.Warnf("%s: settings.num_blocks is 0; using %d blocks from Vidur's memory planner "+
		"(%.0f GB, max %d tokens per request) instead of the engine's resolved count",
		c.Name, plan.NumBlocks, plan.GPUMemoryGB, plan.MaxRequestTokens)
	return plan.NumBlocks, nil
}

// SchedulerFactory builds one replica's scheduler.
type SchedulerFactory func(SchedulerConfig) (Scheduler, error)

var schedulerRegistry = map[string]SchedulerFactory{}

// RegisterScheduler makes a scheduler available under name (the part of
// EngineSettings.Scheduler before any colon). It is meant for init functions and
// panics on a duplicate or empty name.
func RegisterScheduler(name string, f func(SchedulerConfig) (Scheduler, error)) {
	if name == "" || strings.Contains(name, ":") || f == nil {
		panic(fmt.Sprintf("simkit: bad scheduler registration %q", name))
	}
	if _, dup := schedulerRegistry[name]; dup {
		panic(fmt.Sprintf("simkit: scheduler %q registered twice", name))
	}
	schedulerRegistry[name] = f
}

// SchedulerNames lists the registered schedulers, sorted.
func SchedulerNames() []string {
	names := make([]string, 0, len(schedulerRegistry))
	for n := range schedulerRegistry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ParseSchedulerName splits "name:subpolicy".
func ParseSchedulerName(s string) (name, sub string) {
	name, sub, _ = strings.Cut(strings.TrimSpace(s), ":")
	return name, sub
}

// NewScheduler builds the scheduler that cfg.Settings.Scheduler names, filling in
// cfg.Name and cfg.SubPolicy.
func NewScheduler(cfg SchedulerConfig) (Scheduler, error) {
	cfg.Name, cfg.SubPolicy = ParseSchedulerName(cfg.Settings.Scheduler)
	if cfg.Name == "" {
		return nil, fmt.Errorf("settings.scheduler is empty; one of %s",
			strings.Join(SchedulerNames(), ", "))
	}
	f, ok := schedulerRegistry[cfg.Name]
	if !ok {
		return nil, fmt.Errorf("settings.scheduler %q is not a known scheduler; one of %s",
			cfg.Settings.Scheduler, strings.Join(SchedulerNames(), ", "))
	}
	cfg.NumStages = max(cfg.NumStages, 1)
	s, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("scheduler %q: %w", cfg.Settings.Scheduler, err)
	}
	return s, nil
}
