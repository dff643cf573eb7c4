// Package suite is the scenario suite as a library: it runs any System (simval's own
// simulator, an external simulator through its adapter, or a live engine) on every
// catalog scenario for a target, checks the invariants every simulator must keep,
// compares the outcome with recorded real baselines within the scenario's bounds, and
// builds the golden summary and the report. It also decides which engine state each
// real repetition is judged from (a recorded run's process history, RecordedRuns) and
// replays the replay driver's warm-up policies and earlier passes for a prediction
// without a recording (Simulator.AfterHistory).
//
// The same code serves `go test` (through suite/suitetest, the harness that imports
// `testing` and goldie, which this package does not) and the CLI (Evaluate). It owns no
// data: scenarios, targets and baselines come from their packages; files are written
// only by callers.
package suite
