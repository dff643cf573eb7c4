// Package realkit runs real serving engines on a workload and records what they did,
// per request and per token, with the engine's resolved settings and provenance.
//
// It owns:
//   - the replay protocol (PROTOCOL.md): JSON lines (ready, meta, request, step,
//     summary, error) that every engine driver writes on stdout;
//   - the embedded Python drivers (drivers/): one shared replay loop (replay.py) with
//     thin engine adapters for transformers continuous batching (hfcb_driver.py) and
//     Sarathi-Serve (sarathi_driver.py), plus a fake engine for tests;
//   - RunDriver: starting a driver in its own process group, the ready timeout
//     (loading takes minutes), cancellation, strict parsing of its lines, and keeping
//     every finished request when a run dies;
//   - OpenAIClient: an open-loop streaming client for OpenAI-compatible servers
//     (vLLM, SGLang, …) that records client-side token times;
//   - baselines: a recorded run with its provenance, as indented JSON, read strictly
//     (a run imported from another benchmark tool carries an ImportSource; the
//     readers of those tools' files are in the sub-package benchfmt);
//   - FindPython and EnginePresent, so GPU tests can skip with a reason;
//   - VidurInstall: an installed microsoft/vidur run through the embedded launcher
//     (drivers/vidur_launch.py), the process side of simkit/vidur's Launcher.
//
// It does not judge: summaries, percentiles of latency metrics, preconditions and
// comparisons belong to package validation, which recomputes everything from the
// records. Times in records are seconds since the replay's t0 on the engine's clock
// (Meta.Timestamps says "engine" or "client").
//
// The GPU-gated helpers for tests live in the sub-package gputest.
package realkit
