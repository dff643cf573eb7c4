// Package validation owns the judgement of a simulator against a real run: the
// pinned metric definitions, summaries, comparison statistics, the Criteria a
// scenario is held to, the preconditions a run must meet before it may be compared
// (queue-free spacing, settings alignment), and the reports.
//
// It is pure: it starts no process, reads no file and knows no clock. Records come
// in, verdicts and warnings (as data) come out. It does not produce records (simkit
// and realkit do), measure driver lateness (realkit does), check profile provenance,
// or store goldens (package golden does).
//
// Metric definitions (design.md, pinned): for a request with arrival a and token times
// t1 … tD, TTFT = t1 − a; ITL is every gap t(k+1) − tk pooled over requests; TPOT =
// (tD − t1)/(D − 1) per request with D > 1; E2E = tD − a; scheduling delay = first
// scheduled − a where known. Values returns them in seconds; ValidateRecords checks
// that records are consistent enough for the definitions to hold.
//
// Percentiles use linear interpolation between order statistics (numpy's default,
// Hyndman–Fan type 7): h = (n−1)·p, i = floor(h), x[i] + (h−i)·(x[i+1]−x[i]).
// Summaries (count, mean, p50, p90, p99, max) are always recomputed from records.
//
// Judging (Compare): per judged metric (TTFT, ITL, TPOT, E2E) and statistic (mean,
// p50, p90, p99), the signed relative error (sim − real)/real is held to a bound on
// its magnitude. DefaultCriteria is the project goal (5% for mean and p50, 10% for
// p90 and p99); a scenario may override a bound with a BoundOverride, and loosening
// one past the default needs a written reason, which every comparison then repeats
// as a warning. Reported beside the verdict, not gating it: paired per-request error
// for TTFT and E2E (MAPE, MPE and bias direction), KS and Wasserstein-1 distances for
// TTFT and ITL (KS may be made a gate), and the real run-to-run Spread.
//
// Preconditions: CheckQueueFree lists overlapping requests in a run that claims to be
// queue-free; AlignSettings/CheckSettings list every engine setting on which the two
// sides differ or that one side does not know.
//
// Output: WriteMarkdown renders a Report as summary.md; Comparison.Rows gives the
// CLI's JSON rows; PlotCDF and PlotPerRequest draw 1200×800 PNGs with the legend
// outside the data, every real repetition light and the median one bold, ITL on a
// log axis (byte-for-byte deterministic, but not golden-compared: golden the numbers
// behind them).
//
// Step traces: a Step is one engine iteration (batch), real or simulated, classified
// by Kind (decode-only, prefill-only, mixed, capture). CompareSteps sets the timed
// steps of a simulation (warm-up steps left out) against those of the real
// repetitions: step-count error, the share of steps whose batch composition matches
// position by position, mean duration per kind, and BusyAttribution, which splits
// the error of the total busy time exactly into execution (same steps, other
// durations), scheduling (other numbers of steps of each kind) and capture parts;
// on several GPUs, CommAttribution splits the execution part further into the
// collectives between GPUs (Step.CommS) and compute, where the real steps measured it.
// WritePerfetto writes both sides as a Chrome trace-event JSON file for Perfetto;
// PlotSteps draws step durations over time as a PNG.
package validation
