package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

type validateFlags struct {
	scenarios, targets []string
	runs               []string
	format, reportDir  string
	noCPU, pool        bool
	system             string
}

func newValidateCmd() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "judge the simulator against recorded real baselines (exit 0 pass, 1 out of bounds, 2 error)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd, f)
		},
	}
	cmd.Flags().StringArrayVar(&f.scenarios, "scenario", nil, "catalog scenario (repeatable; default all)")
	cmd.Flags().StringArrayVar(&f.runs, "run", nil, "judge a recorded run instead (simval real output, of a catalog scenario or any trace; repeatable)")
	cmd.Flags().BoolVar(&f.pool, "pool", false, "judge the --run files as one run, their repetitions pooled: runs of one "+
		"workload on one target whose repetitions are separate engine processes (--fresh-process or --restart), e.g. from several leases")
	cmd.Flags().StringArrayVar(&f.targets, "target", nil, "target (repeatable; default every real target with a profile, fixtures only when named)")
	cmd.Flags().StringVar(&f.format, "format", "table", "output format: table, json or markdown")
	cmd.Flags().StringVar(&f.reportDir, "report-dir", "", "write summary.md and PNG plots per scenario and target here")
	cmd.Flags().BoolVar(&f.noCPU, "no-cpu-overhead", false, "judge the kernel-only prediction (no CPU overhead per step)")
	cmd.Flags().StringVar(&f.system, "system", "simval", "simulator judged: simval, or Vidur from its recorded runs: "+
		suite.SystemVidur+" (as released) or "+suite.SystemVidurCPU+" (CPU overhead modelled)")
	return cmd
}

// validateJSON is `simval validate --format json`: a contract scripts rely on.
type validateJSON struct {
	Pass    bool                   `json:"pass"`
	Results []validation.ResultRow `json:"results"`
	Steps   []stepsJSON            `json:"steps,omitempty"`
	// Decisions and Rankings judge the recorded decisions (scenarios/catalog/decisions).
	Decisions []decisionJSON       `json:"decisions,omitempty"`
	Rankings  []validation.Ranking `json:"rankings,omitempty"`
	Warnings  []string             `json:"warnings"`
}

// decisionJSON is one decision row; Judged is false for a decision reported only.
type decisionJSON struct {
	validation.DecisionRow
	Judged bool `json:"judged"`
}

// stepsJSON is one scenario × target's step-level agreement in validate's JSON.
type stepsJSON struct {
	Scenario string `json:"scenario"`
	Target   string `json:"target"`
	validation.StepComparison
	Dominant string `json:"dominant"`
}

func runValidate(cmd *cobra.Command, f validateFlags) error {
	switch f.format {
	case "table", "json", "markdown":
	default:
		return fmt.Errorf("--format: unknown format %q (table, json or markdown)", f.format)
	}
	work, scs, tgts, err := validateWork(f)
	if err != nil {
		return err
	}
	sys, err := validatedSystem(f)
	if err != nil {
		return err
	}
	doc := validateJSON{Pass: true, Results: []validation.ResultRow{}, Warnings: []string{}}
	var md bytes.Buffer
	judged, judgedRows := 0, 0
	cards := map[string][]validation.ScoreEntry{}
	var warns scopedWarnings
	for _, w := range work {
		sc, tgt, real, why := w.sc, w.tgt, w.real, w.why
		ev, err := suite.Evaluate(cmd.Context(), sc, tgt, sys, real)
		if err != nil {
			return err
		}
		for _, e := range ev.Invariants {
			doc.Pass = false
			warns.add(sc.Name, tgt.Name, fmt.Sprintf("invariant broken: %v", e))
		}
		if ev.Comparison == nil {
			warns.add(sc.Name, tgt.Name, "not judged: "+why)
			continue
		}
		judged++
		judgedRows += ev.Comparison.Judged()
		cards[tgt.Name] = append(cards[tgt.Name], validation.ScoreEntry{Regime: sc.Regime, Scenario: sc.Name,
			Comparison: *ev.Comparison})
		doc.Pass = doc.Pass && ev.Comparison.Pass()
		if ev.Steps != nil {
			doc.Steps = append(doc.Steps, stepsJSON{Scenario: sc.Name, Target: tgt.Name,
				StepComparison: *ev.Steps, Dominant: ev.Steps.Dominant()})
		}
		doc.Results = append(doc.Results, ev.Comparison.Rows(sc.Name, tgt.Name)...)
		for _, w := range slices.Concat(ev.Comparison.Problems, ev.Report.Warnings, ev.Comparison.Warnings) {
			warns.add(sc.Name, tgt.Name, w)
		}
		if f.format == "markdown" {
			if err := validation.WriteMarkdown(&md, *ev.Report); err != nil {
				return err
			}
			md.WriteString("\n")
		}
		if f.reportDir != "" {
			if err := writeReport(f.reportDir, ev); err != nil {
				return err
			}
		}
	}
	doc.Warnings = append(doc.Warnings, warns.lines()...)
	if len(f.runs) == 0 && f.system == "simval" {
		if err := judgeDecisions(cmd, scs, tgts, f.scenarios != nil || f.targets != nil, &doc); err != nil {
			return err
		}
	}
	if f.format == "markdown" {
		for _, tgt := range targetsOf(work, func(w workItem) *targets.Target { return w.tgt }) {
			if entries := cards[tgt.Name]; len(entries) > 0 {
				if err := validation.WriteScorecard(&md, tgt.Name, validation.Scorecard(entries)); err != nil {
					return err
				}
			}
		}
	}
	if judged == 0 {
		// Nothing compared is not a pass: say so and exit 2 after printing what was run.
		doc.Pass = false
		doc.Warnings = append(doc.Warnings, "no scenario × target pair has a recorded baseline: nothing was judged")
	} else if judgedRows == 0 {
		doc.Pass = false
		doc.Warnings = append(doc.Warnings, "every statistic is reported only: nothing was judged")
	}
	w := cmd.OutOrStdout()
	switch f.format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	case "markdown":
		if _, err := w.Write(md.Bytes()); err != nil {
			return err
		}
	default:
		writeValidateTable(w, doc)
	}
	if judged == 0 {
		return errors.New("nothing was judged: no selected scenario × target has a recorded baseline")
	}
	if judgedRows == 0 {
		return errors.New("nothing was judged: every compared statistic is reported only")
	}
	if !doc.Pass {
		return errOutOfBounds
	}
	return nil
}

// judgeDecisions judges every catalog decision whose scenario and target are selected
// (all of them when nothing was selected by name).
// workItem is one judgement validate makes: a scenario on a target against its real
// side (why says why there is none).
type workItem struct {
	sc   *scenarios.Scenario
	tgt  *targets.Target
	real *suite.Real
	why  string
}

// validateWork is what validate judges: the --run files (pooled with --pool), or the
// selected catalog scenarios × targets against their recorded baselines; scs and tgts are
// the selection (nil for --run).
func validateWork(f validateFlags) (work []workItem, scs []*scenarios.Scenario, tgts []*targets.Target, err error) {
	if len(f.runs) == 0 {
		if f.pool {
			return nil, nil, nil, fmt.Errorf("--pool pools the --run files; give at least one")
		}
		if scs, tgts, err = selectWork(f.scenarios, f.targets); err != nil {
			return nil, nil, nil, err
		}
		for _, sc := range scs {
			for _, tgt := range tgts {
				real, why, err := suite.RecordedBaselines(sc, tgt)
				if err != nil {
					return nil, nil, nil, err
				}
				work = append(work, workItem{sc, tgt, real, why})
			}
		}
		return work, scs, tgts, nil
	}
	if len(f.scenarios) > 0 || len(f.targets) > 0 {
		return nil, nil, nil, fmt.Errorf("--run judges the files given; it takes no --scenario or --target")
	}
	var parts []suite.RunPart
	if f.pool {
		if parts, err = suite.PooledRuns(f.runs); err != nil {
			return nil, nil, nil, err
		}
	} else {
		for _, path := range f.runs {
			more, err := suite.RecordedRuns(path)
			if err != nil {
				return nil, nil, nil, err
			}
			parts = append(parts, more...)
		}
	}
	for _, p := range parts {
		work = append(work, workItem{p.Scenario, p.Target, p.Real, ""})
	}
	return work, nil, nil, nil
}

func judgeDecisions(cmd *cobra.Command, scs []*scenarios.Scenario, tgts []*targets.Target, filtered bool,
	doc *validateJSON) error {
	ds, err := scenarios.Decisions()
	if err != nil {
		if err = neededDecisionErrors(err, filtered, scs, tgts); err != nil {
			return err
		}
	}
	for _, d := range ds {
		if filtered && (!slices.ContainsFunc(scs, func(s *scenarios.Scenario) bool { return s.Name == d.Scenario }) ||
			!slices.ContainsFunc(tgts, func(t *targets.Target) bool { return t.Name == d.Target })) {
			continue
		}
		res, err := suite.JudgeDecision(cmd.Context(), d, suite.Simulator{})
		if err != nil {
			return err
		}
		for _, r := range res.Rows {
			doc.Decisions = append(doc.Decisions, decisionJSON{DecisionRow: r, Judged: res.Judged})
		}
		doc.Rankings = append(doc.Rankings, res.Rankings...)
		for _, w := range res.Warnings {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("decision %s: %s", d.Name, w))
		}
		if res.Judged && !res.Pass() {
			doc.Pass = false
		}
	}
	return nil
}

// neededDecisionErrors keeps the broken decision files a validation needs: all of them
// when nothing was selected by name, else those naming a selected scenario and target
// (or whose names could not be read). A broken decision of another scenario does not
// stop a validation that does not judge it.
func neededDecisionErrors(err error, filtered bool, scs []*scenarios.Scenario, tgts []*targets.Target) error {
	if !filtered {
		return err
	}
	var needed []error
	for _, e := range unjoin(err) {
		var fe *scenarios.DecisionFileError
		if errors.As(e, &fe) && fe.Scenario != "" && fe.Target != "" &&
			(!slices.ContainsFunc(scs, func(s *scenarios.Scenario) bool { return s.Name == fe.Scenario }) ||
				!slices.ContainsFunc(tgts, func(t *targets.Target) bool { return t.Name == fe.Target })) {
			continue
		}
		needed = append(needed, e)
	}
	return errors.Join(needed...)
}

// unjoin lists the errors an errors.Join holds (err itself otherwise).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func selectWork(scNames, tgtNames []string) ([]*scenarios.Scenario, []*targets.Target, error) {
	var scs []*scenarios.Scenario
	if len(scNames) == 0 {
		all, err := scenarios.Catalog()
		if err != nil {
			return nil, nil, fmt.Errorf("validating every scenario needs every scenario file "+
				"(or name the ones to judge with --scenario): %w", err)
		}
		scs = all
	}
	for _, n := range scNames {
		sc, err := scenarios.Lookup(n)
		if err != nil {
			return nil, nil, err
		}
		scs = append(scs, sc)
	}
	var tgts []*targets.Target
	for _, n := range tgtNames {
		// A named target reads only its own folder (an unknown name lists the known).
		t, err := targets.Lookup(n)
		if err != nil {
			return nil, nil, err
		}
		tgts = append(tgts, t)
	}
	if len(tgtNames) == 0 {
		// By default every real target with a profile (so every target file must load);
		// a fixture target only when named.
		all, err := targets.All()
		if err != nil {
			return nil, nil, fmt.Errorf("validating every target needs every target file: %w", err)
		}
		for _, t := range all {
			if t.Profile != "" && !t.Fixture() {
				tgts = append(tgts, t)
			}
		}
	}
	return scs, tgts, nil
}

func writeValidateTable(w io.Writer, doc validateJSON) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTARGET\tMETRIC\tSTAT\tREAL ms\tSIM ms\tERR\tBOUND\tNOISE\tJUDGED AT\tOK")
	for _, r := range doc.Results {
		ok := validation.OKText(r.Pass, r.Gated)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%.1f%%\t%.1f%%\t%s\n", r.Scenario, r.Target, r.Metric,
			r.Stat, ms(r.Real), ms(r.Sim), pct(r.RelErr), 100*r.Bound, 100*r.Noise, 100*r.EffectiveBound, ok)
	}
	_ = tw.Flush()
	if len(doc.Decisions) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DECISION\tVALUE\tMETRIC\tSTAT\tREAL CHANGE\tSIM CHANGE\tBOUND\tOK")
		for _, d := range doc.Decisions {
			ok := validation.OKText(d.Pass, d.Judged)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%s\n", d.Name, d.Value, d.Metric, d.Stat,
				pct(d.RealChange), pct(d.SimChange), 100*d.Bound, ok)
		}
		for _, r := range doc.Rankings {
			fmt.Fprintf(tw, "%s\tranking\t%s\t%s\tτ = %.2f over %d resolved pairs\t\t\t%s\n", r.Name, r.Metric, r.Stat,
				r.Tau, r.Pairs, validation.OKText(r.Pass, true))
		}
		_ = tw.Flush()
	}
	for _, warn := range doc.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	verdict := "PASS"
	switch {
	case !slices.ContainsFunc(doc.Results, func(r validation.ResultRow) bool { return r.Gated }):
		verdict = "NOTHING JUDGED"
	case !doc.Pass:
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d comparisons\n", verdict, len(doc.Results))
}

// scopedWarnings collects each scenario × target's warnings so that a warning said of
// several pairs (the same client-side timestamps, the same loosened bound) prints
// once, naming every pair, in first-seen order.
type scopedWarnings struct {
	texts  []string
	scopes map[string][]string
}

func (s *scopedWarnings) add(scenario, target, text string) {
	if s.scopes == nil {
		s.scopes = map[string][]string{}
	}
	scope := scenario + " on " + target
	if _, seen := s.scopes[text]; !seen {
		s.texts = append(s.texts, text)
	}
	if !slices.Contains(s.scopes[text], scope) {
		s.scopes[text] = append(s.scopes[text], scope)
	}
}

// lines renders each warning once: "a on t, b on t: text".
func (s *scopedWarnings) lines() []string {
	out := make([]string, 0, len(s.texts))
	for _, t := range s.texts {
		out = append(out, strings.Join(s.scopes[t], ", ")+": "+t)
	}
	return out
}

func ms(v float64) string { return fmt.Sprintf("%.2f", 1e3*v) }

func pct(v float64) string { return fmt.Sprintf("%+.1f%%", 100*v) }

// targetsOf lists the distinct targets of a work list, in first-seen order.
func targetsOf[T any](items []T, target func(T) *targets.Target) []*targets.Target {
	var out []*targets.Target
	for _, it := range items {
		t := target(it)
		if !slices.ContainsFunc(out, func(o *targets.Target) bool { return o.Name == t.Name }) {
			out = append(out, t)
		}
	}
	return out
}
