package validation

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Breakdown splits the simulator's predicted busy time into GPU kernel time and
// CPU/runtime overhead, so a report shows at a glance whether the prediction
// includes the overhead that dominates small-batch serving. Seconds.
type Breakdown struct {
	KernelS float64 `json:"kernel_s"`
	CPUS    float64 `json:"cpu_s"`
	// CaptureS is the time of CUDA-graph captures (steps that met a new graph key);
	// Captures counts them.
	CaptureS float64 `json:"capture_s,omitempty"`
	Captures int     `json:"captures,omitempty"`
	// BusyS is the total predicted busy time. The simulator defines a step's CPU time
	// as its wall time less kernels and capture, so the three parts add up to BusyS
	// (up to float rounding of the separate sums): there is no other part to show.
	BusyS float64 `json:"busy_s"`
}

// Report is everything summary.md shows for one scenario on one target.
type Report struct {
	Scenario   string
	Target     string
	Comparison Comparison
	// Breakdown is the prediction's kernel/CPU split, when the simulator reports one.
	Breakdown *Breakdown
	// Warnings from outside the comparison (preconditions, lateness, provenance).
	Warnings []string
	// Spread is the real run-to-run noise, when several repetitions exist.
	Spread *SpreadSummary
	// Steps compares the step traces, when both sides have one.
	Steps *StepComparison
}

// WriteMarkdown writes r as Markdown: header, verdict, the real-vs-sim table, paired
// per-request error, distribution distances, the prediction's kernel/CPU split, the
// real spread, problems and warnings. Times are in ms with three decimals, errors
// and bounds in percent with one; the output depends only on r.
func WriteMarkdown(w io.Writer, r Report) error {
	var b strings.Builder
	c := r.Comparison
	fmt.Fprintf(&b, "# %s on %s\n\n", r.Scenario, r.Target)
	verdict := "FAIL"
	switch {
	case c.Pass():
		verdict = "PASS"
	case c.Judged() == 0 && len(c.Problems) == 0:
		verdict = "NOTHING JUDGED"
	}
	fmt.Fprintf(&b, "**Verdict: %s**", verdict)
	if worst, ok := c.Worst(); ok {
		fmt.Fprintf(&b, " (worst: %s %s, error %s against bound %s)", worst.Metric, worst.Stat, errPct(worst.RelErr), pct(worst.Bound))
	}
	fmt.Fprintf(&b, "\n\nRequests: real %d, sim %d.\n", c.RealRequests, c.SimRequests)

	b.WriteString("\n## Real vs sim\n\nEach statistic is judged at the larger of its bound and its measured noise " +
		"(half the range over the real repetitions or over the simulator's arrival-phase realizations).\n\n" +
		"| metric | stat | real ms | sim ms | err % | bound % | noise % | judged at % | ok |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	var why, reportedWarnings []string
	for _, row := range c.Checks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", row.Metric, row.Stat,
			ms(row.Real), ms(row.Sim), errNum(row.RelErr), num1(100*row.Bound), num1(100*row.Noise),
			num1(100*row.Effective), OKText(row.Pass, row.Gated))
		if !row.Gated && row.Why != "" {
			why = append(why, fmt.Sprintf("%s %s: %s", row.Metric, row.Stat, row.Why))
			reportedWarnings = append(reportedWarnings, reportedWarning(row.Metric, row.Stat, row.Why))
		}
	}
	writeList(&b, "Reported, not judged", why)

	b.WriteString("\n## Paired per-request error\n\n| metric | pairs | MAPE % | MPE % | mean err ms | bias |\n|---|---:|---:|---:|---:|---|\n")
	for _, p := range c.Paired {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", p.Metric, p.N, num1(100*p.MAPE), errNum(p.MPE), signedMs(p.MeanErrS), p.Bias)
	}

	b.WriteString("\n## Distribution distance\n\n| metric | KS | KS crit (α=0.05) | W1 ms | KS gate |\n|---|---:|---:|---:|---|\n")
	for _, d := range c.Distances {
		gate := "off (info)"
		if d.Gated {
			gate = fmt.Sprintf("≤ %.3f %s", d.MaxKS, OKText(d.Pass, true))
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %s | %s |\n", d.Metric, d.KS, d.KSCrit05, ms(d.W1S), gate)
	}

	if bd := r.Breakdown; bd != nil {
		b.WriteString("\n## Prediction breakdown\n\n| part | ms | % of busy |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| GPU kernels | %s | %s |\n", ms(bd.KernelS), share(bd.KernelS, bd.BusyS))
		fmt.Fprintf(&b, "| CPU overhead | %s | %s |\n", ms(bd.CPUS), share(bd.CPUS, bd.BusyS))
		if bd.Captures > 0 {
			fmt.Fprintf(&b, "| graph captures (%d) | %s | %s |\n", bd.Captures, ms(bd.CaptureS), share(bd.CaptureS, bd.BusyS))
		}
		fmt.Fprintf(&b, "| busy | %s | %s |\n", ms(bd.BusyS), share(bd.BusyS, bd.BusyS))
	}

	if sp := r.Spread; sp != nil {
		fmt.Fprintf(&b, "\n## Real run-to-run spread (%d repetitions)\n\nmin–max over the repetitions is a %.1f%% confidence "+
			"interval for the statistic of the median repetition (order statistics: 1 − 2·0.5^n).\n\n"+
			"| metric | stat | min ms | max ms | range %% |\n|---|---|---:|---:|---:|\n", sp.Reps, 100*(1-2*math.Pow(0.5, float64(sp.Reps))))
		for _, row := range sp.Rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.Metric, row.Stat, ms(row.Min), ms(row.Max), num1(100*row.RelRange))
		}
	}

	if st := r.Steps; st != nil {
		writeSteps(&b, *st)
	}

	writeList(&b, "Problems", c.Problems)
	// A statistic reported with its reason is listed above; its bound's warning would
	// say the same again.
	var warnings []string
	for _, w := range slices.Concat(c.Warnings, r.Warnings) {
		if !slices.Contains(reportedWarnings, w) {
			warnings = append(warnings, w)
		}
	}
	writeList(&b, "Warnings", warnings)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSteps is the step-level section: counts, composition agreement, step time by
// kind and the attribution of the busy-time error.
func writeSteps(b *strings.Builder, st StepComparison) {
	fmt.Fprintf(b, "\n## Steps\n\nSteps per repetition: real %v, sim %d (error %s). Batch composition matches in %s of steps.\n\n",
		st.RealSteps, st.SimSteps, errPct(st.StepCountErr), pct(st.CompositionMatch))
	b.WriteString("| kind | real steps | sim steps | real mean ms | sim mean ms | err % |\n|---|---:|---:|---:|---:|---:|\n")
	for _, k := range st.ByKind {
		errText := errNum(k.RelErr)
		if k.Missing != "" {
			errText = "none on " + k.Missing
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s |\n", k.Kind, num1(k.RealCount), k.SimCount, ms(k.RealMeanS),
			ms(k.SimMeanS), errText)
	}
	a := st.Attribution
	fmt.Fprintf(b, "\nBusy time per repetition: real %s ms, sim %s ms (%s ms), of which execution %s, scheduling %s, "+
		"capture %s ms; dominant: %s.\n", ms(a.RealBusyS), ms(a.SimBusyS), signedMs(a.Total), signedMs(a.Execution),
		signedMs(a.Scheduling), signedMs(a.Capture), orNone(st.Dominant()))
	writeStatAttribution(b, st.ByStat)
	if c := a.Comm; c != nil {
		fmt.Fprintf(b, "\nCommunication between GPUs: sim %s ms per repetition (%s of sim busy)", ms(c.SimCommS), pct(c.SimShare))
		if c.Measured {
			fmt.Fprintf(b, ", real %s ms; execution error = communication %s ms + compute %s ms.\n", ms(c.RealCommS),
				signedMs(c.Communication), signedMs(c.Compute))
		} else {
			fmt.Fprintf(b, "; %s.\n", c.Unsplit)
		}
	}
}

func dedupe(items []string) []string {
	seen := map[string]bool{}
	out := items[:0:0]
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// writeList writes a titled list, each distinct item once, in first-seen order.
func writeList(b *strings.Builder, title string, items []string) {
	items = dedupe(items)
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## %s\n\n", title)
	for _, it := range items {
		fmt.Fprintf(b, "- %s\n", it)
	}
}

func ms(s float64) string { return fmt.Sprintf("%.3f", 1000*s) }

func signedMs(s float64) string { return fmt.Sprintf("%+.3f", 1000*s) }

func num1(f float64) string { return fmt.Sprintf("%.1f", f) }

func pct(f float64) string { return num1(100*f) + "%" }

// errNum is a signed percentage; ±Inf (real = 0) prints as "n/a".
func errNum(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f", 100*f)
}

func errPct(f float64) string {
	if s := errNum(f); s != "n/a" {
		return s + "%"
	}
	return "n/a"
}

func share(part, whole float64) string {
	if whole <= 0 {
		return "n/a"
	}
	return num1(100 * part / whole)
}

// OKText is the verdict word of one judged row: "ok", "FAIL", or, for a row reported
// without being judged, "ok (not gated)" / "out (not gated)".
func OKText(pass, gated bool) string {
	switch {
	case !gated && pass:
		return "ok (not gated)"
	case !gated:
		return "out (not gated)"
	case pass:
		return "ok"
	}
	return "FAIL"
}

// writeStatAttribution is the table of each metric's mean and p50 error (sim − real, ms)
// split into capture, execution and scheduling.
func writeStatAttribution(b *strings.Builder, rows []StatAttribution) {
	if len(rows) == 0 {
		return
	}
	b.WriteString("\nError by cause (sim − real, ms; a percentile by its own sample on each side):\n\n" +
		"| metric | stat | capture | execution | scheduling | dominant |\n|---|---|---:|---:|---:|---|\n")
	for _, a := range rows {
		if a.Stat != Mean && a.Stat != P50 {
			continue
		}
		d := a.Delta()
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", a.Metric, a.Stat, signedMs(d.CaptureS), signedMs(d.ExecutionS),
			signedMs(d.SchedulingS), a.Dominant)
	}
}
