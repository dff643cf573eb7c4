package validation

import (
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Plot size and series styles. Real is solid blue, sim dashed orange, so the two
// stay distinguishable in greyscale too.
const (
	plotWidth  = 6 * vg.Inch
	plotHeight = 4 * vg.Inch
)

var (
	realColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	simColor  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	simDashes = []vg.Length{vg.Points(6), vg.Points(3)}
)

// PlotCDF writes a PNG of the empirical CDFs of real and sim (seconds, any order)
// as two step lines, with milliseconds on the x axis. Either side may be empty (it
// is then left out), not both; NaN or infinite values are refused. Same inputs give
// the same bytes.
func PlotCDF(w io.Writer, title string, metric Metric, real, sim []float64) error {
	if len(real) == 0 && len(sim) == 0 {
		return fmt.Errorf("plot %s cdf: no samples on either side", metric)
	}
	p := newPlot(title, string(metric)+" (ms)", "fraction of samples ≤ x")
	for _, s := range []struct {
		name string
		xs   []float64
	}{{"real", real}, {"sim", sim}} {
		if len(s.xs) == 0 {
			continue
		}
		if err := checkFinite(s.xs); err != nil {
			return fmt.Errorf("plot %s cdf: %s: %w", metric, s.name, err)
		}
		if err := addLine(p, s.name, ecdf(s.xs), plotter.PostStep); err != nil {
			return fmt.Errorf("plot %s cdf: %w", metric, err)
		}
	}
	p.Y.Min, p.Y.Max = 0, 1
	return writePNG(w, p)
}

// PlotPerRequest writes a PNG of one per-request metric (ttft, tpot, e2e or
// sched_delay; ITL is pooled and refused) against the request's index in arrival
// order, one series per side, in milliseconds. Requests without the metric (TPOT
// with one output token, unknown scheduling delay) keep their index but get no
// point. Either side may be empty, not both. Same inputs give the same bytes.
func PlotPerRequest(w io.Writer, title string, metric Metric, real, sim []Record) error {
	if !slices.Contains(AllMetrics, metric) || !perRequest(metric) {
		return fmt.Errorf("plot per request: metric %q is not per request (want ttft, tpot, e2e or sched_delay)", metric)
	}
	if len(real) == 0 && len(sim) == 0 {
		return fmt.Errorf("plot %s per request: no records on either side", metric)
	}
	p := newPlot(title, "request (arrival order)", string(metric)+" (ms)")
	for _, s := range []struct {
		name string
		recs []Record
	}{{"real", real}, {"sim", sim}} {
		pts := perRequestPoints(metric, s.recs)
		if len(pts) == 0 {
			continue
		}
		for _, pt := range pts {
			if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
				return fmt.Errorf("plot %s per request: %s: value %v is not finite", metric, s.name, pt.Y)
			}
		}
		if err := addLine(p, s.name, pts, plotter.NoStep); err != nil {
			return fmt.Errorf("plot %s per request: %w", metric, err)
		}
	}
	return writePNG(w, p)
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false
	return p
}

// addLine adds one series styled by its side name.
func addLine(p *plot.Plot, name string, pts plotter.XYs, step plotter.StepKind) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.StepStyle = step
	l.Width = vg.Points(1.5)
	l.Color = realColor
	if name == "sim" {
		l.Color = simColor
		l.Dashes = simDashes
	}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// ecdf returns the empirical CDF of xs (seconds) as points in ms: it starts at 0 at
// the smallest value and climbs by 1/n at each sample.
func ecdf(xs []float64) plotter.XYs {
	s := slices.Clone(xs)
	slices.Sort(s)
	pts := make(plotter.XYs, 0, len(s)+1)
	pts = append(pts, plotter.XY{X: 1000 * s[0], Y: 0})
	for i, x := range s {
		pts = append(pts, plotter.XY{X: 1000 * x, Y: float64(i+1) / float64(len(s))})
	}
	return pts
}

// perRequestPoints orders recs by arrival (ties by ID) and returns (index, ms).
func perRequestPoints(metric Metric, recs []Record) plotter.XYs {
	byArrival := slices.Clone(recs)
	slices.SortStableFunc(byArrival, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.ArrivalS, b.ArrivalS), cmp.Compare(a.ID, b.ID))
	})
	var pts plotter.XYs
	for i, r := range byArrival {
		if v, ok := requestValue(metric, r); ok {
			pts = append(pts, plotter.XY{X: float64(i), Y: 1000 * v})
		}
	}
	return pts
}

func checkFinite(xs []float64) error {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("sample %d is %v", i, x)
		}
	}
	return nil
}

func writePNG(w io.Writer, p *plot.Plot) error {
	wt, err := p.WriterTo(plotWidth, plotHeight, "png")
	if err != nil {
		return fmt.Errorf("render png: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}
