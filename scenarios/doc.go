// Package scenarios owns what a validation run is asked to do: scenario specs (strict
// YAML whose errors name the file, line and dotted field), the embedded catalog of
// scenarios joined by those of a user's catalog folders (package catalogdirs),
// the deterministic workload generators that turn a spec into []Request, and trace
// files (Vidur's CSV `arrived_at,num_prefill_tokens,num_decode_tokens` and JSON lines).
//
// It does not simulate (simkit), run engines (realkit) or judge (validation): a
// scenario only says which requests arrive when, under which regime, and which
// accuracy bounds it loosens, each with a written reason.
//
// Determinism: a scenario's seed feeds one math/rand/v2 PCG stream per purpose
// (arrivals, prompt tokens, output tokens), each seeded from (seed, FNV-64a of the
// stream name), so adding draws to one stream never shifts another, and a target that
// overrides only arrivals sees the same prompt and output lengths as every other.
//
// Arrival processes start at start_s (default 0): the first Poisson or gamma arrival
// is at start_s, not one interval after it, and intervals are not capped. Vidur's
// synthetic generator differs on both counts (first arrival after one interval,
// Poisson intervals capped at 3/qps), so parity with Vidur goes through trace files,
// never through regenerating its workloads.
package scenarios
