// Package simkit is simval's simulator: a deterministic discrete-event core that
// predicts, request by request and token by token, what a serving engine does with a
// workload.
//
// It owns:
//   - the event core (Simulate, SimulateStream): Vidur's flow and event order —
//     arrivals, global scheduling over replicas (round_robin, lor, random), replica
//     scheduling, pipeline stages (FIFO, up to PP micro-batches in flight), batch end
//     and rescheduling at the same instant — on a logical clock, ordered by
//     (time, creation sequence) with no type priority;
//   - request lifecycle and token accounting as Vidur defines them (SimRequest);
//   - the replica-scheduler registry and the Sarathi scheduler, with the KV-block
//     counting (BlockManager) that the other schedulers reuse and Vidur's memory
//     planner as a fallback for an unknown block count;
//   - profile bundles (LoadProfile, Provenance, CheckFor) and the profile predictor
//     (NewProfilePredictor): piecewise-linear interpolation over the profiled grid, an
//     error naming the table and key outside it unless extrapolation is asked for, and
//     CPU overhead per step.
//
// It does not own: other schedulers (their own files in this package), Vidur parity
// prediction (random-forest tables, rounding to 8), workload generation (scenarios),
// metric definitions and comparison (validation), or running real engines (realkit).
// It does no I/O beyond reading a profile through an fs.FS, starts no goroutines and
// reads no clock: the same inputs give the same records, bit for bit.
//
// # Token accounting
//
// A request with P prompt tokens and D output tokens runs prefill chunks until P
// tokens are processed; the batch that completes the prefill yields output token 1,
// and each of the D−1 following decode steps yields one more (D = 1 ends with the
// prefill). A request preempted by restart (Vidur's recompute) keeps the token times
// it already emitted; recomputation yields no token until it passes them, so records
// always carry D token times. FirstTokenS is t1, CompletionS is tD.
//
// # Profile bundles
//
// A bundle is a directory with provenance.yaml, mlp.csv, attention.csv and optionally
// cpu_overheads.csv, all_reduce.csv and send_recv.csv in Vidur's layouts plus simval's
// extensions; NewProfilePredictor documents how a step's time is put together.
package simkit
