package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/simval/simval/suite"
	"github.com/simval/simval/validation"
)

// writeReport writes <dir>/<scenario>/<target>/summary.md and its plots.
func writeReport(dir string, ev *suite.Evaluation) error {
	out := filepath.Join(dir, ev.Scenario.Name, ev.Target.Name)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := validation.WriteMarkdown(&md, *ev.Report); err != nil {
		return err
	}
	md.WriteString("\n![TTFT CDF](ttft_cdf.png)\n![ITL CDF](itl_cdf.png)\n![TTFT per request](ttft_per_request.png)\n![E2E per request](e2e_per_request.png)\n")
	if ev.Steps != nil {
		md.WriteString("![Step times](steps.png)\n\nBoth step timelines as a Chrome trace-event file (open in https://ui.perfetto.dev): [steps.perfetto.json](steps.perfetto.json)\n")
	}
	if err := os.WriteFile(filepath.Join(out, "summary.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	runs, sim := ev.Real.Runs, ev.Outcome.Records
	title := ev.Scenario.Name + " on " + ev.Target.Name
	plots := []struct {
		file string
		draw func(io.Writer) error
	}{
		{"ttft_cdf.png", func(w io.Writer) error {
			return validation.PlotCDF(w, title+": TTFT", validation.TTFT, valuesPerRun(validation.TTFT, runs), validation.Values(validation.TTFT, sim))
		}},
		{"itl_cdf.png", func(w io.Writer) error {
			return validation.PlotCDF(w, title+": ITL", validation.ITL, valuesPerRun(validation.ITL, runs), validation.Values(validation.ITL, sim))
		}},
		{"ttft_per_request.png", func(w io.Writer) error {
			return validation.PlotPerRequest(w, title+": TTFT per request", validation.TTFT, runs, sim)
		}},
		{"e2e_per_request.png", func(w io.Writer) error {
			return validation.PlotPerRequest(w, title+": E2E per request", validation.E2E, runs, sim)
		}},
	}
	if ev.Steps != nil {
		plots = append(plots, struct {
			file string
			draw func(io.Writer) error
		}{"steps.png", func(w io.Writer) error {
			return validation.PlotSteps(w, title+": step times", ev.Real.Steps, ev.Outcome.StepTrace)
		}}, struct {
			file string
			draw func(io.Writer) error
		}{"steps.perfetto.json", func(w io.Writer) error {
			return validation.WritePerfetto(w, title, ev.Real.Steps, ev.Outcome.StepTrace)
		}})
	}
	for _, p := range plots {
		var buf bytes.Buffer
		if err := p.draw(&buf); err != nil {
			return fmt.Errorf("%s: %w", p.file, err)
		}
		if err := os.WriteFile(filepath.Join(out, p.file), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// valuesPerRun is a metric's values per real repetition.
func valuesPerRun(m validation.Metric, runs [][]validation.Record) [][]float64 {
	out := make([][]float64, len(runs))
	for i, r := range runs {
		out[i] = validation.Values(m, r)
	}
	return out
}
