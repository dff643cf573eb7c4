// Package vidur connects simval to Vidur (microsoft/vidur), the simulator simval's
// execution model descends from, in three ways:
//
//   - Parity mode: ParityOptions turns a Vidur run's config.json and its predictor's
//     cached prediction tables into simkit.Options under which simkit reproduces that
//     Vidur run number for number (its look-up rules, memory planner, scheduler
//     defaults and trace_replay trimming); RunParity runs it and also returns Vidur's
//     request_metrics.csv rows. This is how simkit's event core and schedulers are
//     held to Vidur's semantics.
//   - External adapter: Simulate runs Vidur itself on a workload through a Launcher
//     (realkit.VidurInstall starts the process; this package only decides the flags
//     and reads the outputs) and turns its request_metrics.csv into
//     validation.Records, so Vidur can be judged against real engines like simkit.
//     Vidur reports per request only its first-token (prefill_e2e_time) and completion
//     times, so token times in between are reconstructed as evenly spaced: ITL from
//     these records is each request's mean decode gap, not Vidur's own TBT.
//   - Profile export: ExportProfile restates a simval profile bundle as the profile
//     files Vidur reads (mlp.csv, attention.csv, cpu_overheads.csv).
//
// It does not parse Vidur's files (vidurfmt does), start processes or write files
// (realkit does), or judge results (validation does).
package vidur
