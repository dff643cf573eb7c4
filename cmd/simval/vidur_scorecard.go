package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/simval/simval/scenarios"
	"github.com/simval/simval/suite"
	"github.com/simval/simval/targets"
	"github.com/simval/simval/validation"
)

func newVidurScorecardCmd() *cobra.Command {
	var target, stat string
	cmd := &cobra.Command{
		Use:   "scorecard --target T",
		Short: "Vidur (as released, and with CPU overhead) beside simval on every catalog scenario with a baseline, as a Markdown table",
		Long: "Judges Vidur from its recorded runs (simval vidur record) and simval's own simulator against the target's " +
			"real baselines, and prints per scenario and metric each one's error at one statistic, then each one's " +
			"wall time on the scenario's trace (Vidur's as recorded, with its predictors cached; simval's measured now).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tgt, err := targets.Lookup(target)
			if err != nil {
				return err
			}
			return writeVidurScorecard(cmd, tgt, validation.Stat(stat))
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "target with recorded Vidur runs")
	cmd.Flags().StringVar(&stat, "stat", "p50", "statistic compared: mean, p50, p90 or p99")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

// scoreColumn is one system of the scorecard.
type scoreColumn struct {
	title string
	sys   suite.System
}

func writeVidurScorecard(cmd *cobra.Command, tgt *targets.Target, stat validation.Stat) error {
	scs, _, err := selectWork(nil, []string{tgt.Name})
	if err != nil {
		return err
	}
	cols := []scoreColumn{
		{"Vidur", suite.RecordedSimulator{System: suite.SystemVidur}},
		{"Vidur + CPU", suite.RecordedSimulator{System: suite.SystemVidurCPU}},
		{"simval", suite.Simulator{}},
	}
	w := cmd.OutOrStdout()
	type wallRow struct {
		scenario string
		walls    []string
	}
	var walls []wallRow
	fmt.Fprintf(w, "| scenario | metric | real %s ms | %s | %s | %s |\n|---|---|---:|---:|---:|---:|\n", stat,
		cols[0].title, cols[1].title, cols[2].title)
	for _, sc := range scs {
		real, _, err := suite.RecordedBaselines(sc, tgt)
		if err != nil {
			return err
		}
		if real == nil {
			continue
		}
		errs := map[validation.Metric][]string{}
		reals := map[validation.Metric]float64{}
		wr := wallRow{scenario: sc.Name}
		for _, c := range cols {
			ev, err := suite.Evaluate(cmd.Context(), sc, tgt, c.sys, real)
			if err != nil {
				return err
			}
			if rec, ok := c.sys.(suite.RecordedSimulator); ok {
				wr.walls = append(wr.walls, recordedWall(tgt, rec.System, sc.Name))
			} else {
				wall, err := simvalWall(cmd, sc, tgt, real)
				if err != nil {
					return err
				}
				wr.walls = append(wr.walls, fmt.Sprintf("%.3f s", wall.Seconds()))
			}
			if ev.Comparison == nil {
				continue
			}
			for _, r := range ev.Comparison.Rows(sc.Name, tgt.Name) {
				if r.Stat != stat {
					continue
				}
				reals[r.Metric] = r.Real
				mark := ""
				if r.Gated && math.Abs(r.RelErr) <= r.EffectiveBound {
					mark = " ✓"
				}
				errs[r.Metric] = append(errs[r.Metric], fmt.Sprintf("%+.1f%%%s", 100*r.RelErr, mark))
			}
		}
		for _, m := range []validation.Metric{validation.TTFT, validation.ITL, validation.TPOT, validation.E2E} {
			if e := errs[m]; len(e) == len(cols) {
				fmt.Fprintf(w, "| %s | %s | %.2f | %s | %s | %s |\n", sc.Name, m, 1e3*reals[m], e[0], e[1], e[2])
			}
		}
		walls = append(walls, wr)
	}
	fmt.Fprintf(w, "\nWall time on the scenario's trace (Vidur: process start to exit, predictors cached; simval: "+
		"loading the target's profile and simulating the trace once, in process, measured now):\n\n| scenario | %s | %s | %s |\n|---|---:|---:|---:|\n",
		cols[0].title, cols[1].title, cols[2].title)
	for _, r := range walls {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.scenario, r.walls[0], r.walls[1], r.walls[2])
	}
	return printProvenance(w, tgt)
}

// simvalWall times one simval simulation of the scenario on tgt as `simval sim` runs
// it: the profile loaded, the trace simulated once (no extra arrival phases).
func simvalWall(cmd *cobra.Command, sc *scenarios.Scenario, tgt *targets.Target, real *suite.Real) (time.Duration, error) {
	reqs, err := sc.Requests(tgt.Name)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	sys, err := suite.Simulator{Phases: 1}.ForScenario(sc, real)
	if err != nil {
		return 0, err
	}
	if _, err := sys.Run(cmd.Context(), tgt, reqs); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// recordedWall is a recorded Vidur run's wall time, or "—" without one.
func recordedWall(tgt *targets.Target, system, scenario string) string {
	data, name, err := tgt.SimRunData(system, scenario)
	if err != nil {
		return "—"
	}
	run, err := suite.ReadVidurRun(data, name)
	if err != nil {
		return "—"
	}
	return fmt.Sprintf("%.1f s", run.Provenance.WallS)
}

// printProvenance says which Vidur runs the scorecard read.
func printProvenance(w io.Writer, tgt *targets.Target) error {
	data, name, err := tgt.SimRunData(suite.SystemVidur, "queue-free-spaced")
	if err != nil {
		return nil
	}
	run, err := suite.ReadVidurRun(data, name)
	if err != nil {
		return err
	}
	p := run.Provenance
	_, err = fmt.Fprintf(w, "\nVidur: %s %s through %s, profile %s exported as %s, recorded %s on %s. "+
		"✓: within the bound the scenario judges that statistic at.\n",
		p.Simulator, p.Commit, p.Launcher, p.ProfileFingerprint, p.ExportFingerprint, p.RecordedAt, p.Host)
	return err
}
