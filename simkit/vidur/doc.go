// Package vidur connects simval to Vidur (microsoft/vidur), the simulator simval's
// execution model descends from, in two ways:
//
//   - Parity mode: ParityOptions turns a Vidur run's config.json and its predictor's
//     cached prediction tables into simkit.Options under which simkit reproduces that
//     Vidur run number for number (its look-up rules, memory planner, scheduler
//     defaults and trace_replay trimming); RunParity runs it and also returns Vidur's
//     request_metrics.csv rows. This is how simkit's event core and schedulers are
//     held to Vidur's semantics.
//   - External adapter: Install runs an installed Vidur (`python -m vidur.main`) on a
//     workload through trace replay and reads its request_metrics.csv back into
//     validation.Records, so Vidur can be judged against real engines like simkit.
//     Vidur reports per request only its first-token (prefill_e2e_time) and completion
//     times, so token times in between are reconstructed as evenly spaced: ITL from
//     these records is each request's mean decode gap, not Vidur's own TBT.
//
// It does not parse Vidur's files (vidurfmt does) or judge results (validation does).
// Nothing here runs unless a Vidur install is named (flags, or SIMVAL_VIDUR_PYTHON and
// SIMVAL_VIDUR_DIR); tests skip with the reason otherwise.
package vidur
