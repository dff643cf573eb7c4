package validation

import (
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot styles. Real is blue, sim dashed orange, so the two stay distinguishable in
// greyscale too. Every real repetition is a thin translucent line; the median
// repetition is drawn again on top, bold.
var (
	realColor      = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	realLightColor = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x48}
	simColor       = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	simDashes      = []vg.Length{vg.Points(6), vg.Points(3)}
)

// medianRepetitionRule is how the bold repetition is chosen; every plot says it.
const medianRepetitionRule = "median repetition: the one whose %s p50 is the median of the repetitions' p50s " +
	"(the lower middle one for an even count)"

// PlotCDF writes a PNG (1200×800 pixels, legend right of the data) of the empirical
// CDF of a metric (values in seconds, any order): every real repetition as a light
// step line, the median repetition bold (medianRepetitionRule, said in the subtitle),
// and sim dashed, with milliseconds on the x axis. ITL is drawn on a log x axis (its
// bulk of decode gaps and its tail of captures and prefills are decades apart); gaps
// of zero cannot be shown there and are counted in the subtitle. Either side may be
// empty, not both; NaN or infinite values are refused. Same inputs give the same
// bytes.
func PlotCDF(w io.Writer, title string, metric Metric, real [][]float64, sim []float64) error {
	if len(sim) == 0 && !slices.ContainsFunc(real, func(r []float64) bool { return len(r) > 0 }) {
		return fmt.Errorf("plot %s cdf: no samples on either side", metric)
	}
	for i, xs := range real {
		if err := checkFinite(xs); err != nil {
			return fmt.Errorf("plot %s cdf: real repetition %d: %w", metric, i+1, err)
		}
	}
	if err := checkFinite(sim); err != nil {
		return fmt.Errorf("plot %s cdf: sim: %w", metric, err)
	}
	logX := metric == ITL
	dropped := 0
	keep := func(xs []float64) []float64 {
		if !logX {
			return xs
		}
		out := make([]float64, 0, len(xs))
		for _, x := range xs {
			if x > 0 {
				out = append(out, x)
			} else {
				dropped++
			}
		}
		return out
	}
	realKept := make([][]float64, len(real))
	for i, xs := range real {
		realKept[i] = keep(xs)
	}
	simKept := keep(sim)
	xLabel := string(metric) + " (ms)"
	if logX {
		xLabel = string(metric) + " (ms, log scale)"
	}
	p := newPlot(title, xLabel, "fraction of samples ≤ x")
	legend := newOutsideLegend()
	median := medianRepetition(realKept)
	err := addRealLines(p, &legend, len(realKept), median, plotter.PostStep, func(i int) (plotter.XYs, error) {
		if len(realKept[i]) == 0 {
			return nil, nil
		}
		return ecdf(realKept[i]), nil
	})
	if err != nil {
		return fmt.Errorf("plot %s cdf: %w", metric, err)
	}
	if len(simKept) > 0 {
		if err := addSimLine(p, &legend, ecdf(simKept), plotter.PostStep); err != nil {
			return fmt.Errorf("plot %s cdf: %w", metric, err)
		}
	}
	p.Title.Text += "\n" + subtitle(metric, len(real), median)
	if logX {
		if dropped > 0 {
			p.Title.Text += fmt.Sprintf("; %d gaps of 0 ms not shown on the log axis", dropped)
		}
		if err := logXAxis(p, realKept, simKept); err != nil {
			return fmt.Errorf("plot %s cdf: %w", metric, err)
		}
	}
	p.Y.Min, p.Y.Max = 0, 1
	return writeLegendPNG(w, p, &legend)
}

// PlotPerRequest writes a PNG (1200×800 pixels, legend right of the data) of one
// per-request metric (ttft, tpot, e2e or sched_delay; ITL is pooled and refused)
// against the request's index in arrival order, in milliseconds: every real
// repetition as a light line, the median repetition bold, sim dashed. Requests
// without the metric (TPOT with one output token, unknown scheduling delay) keep
// their index but get no point. Either side may be empty, not both. Same inputs give
// the same bytes.
func PlotPerRequest(w io.Writer, title string, metric Metric, real [][]Record, sim []Record) error {
	if !slices.Contains(AllMetrics, metric) || !perRequest(metric) {
		return fmt.Errorf("plot per request: metric %q is not per request (want ttft, tpot, e2e or sched_delay)", metric)
	}
	if len(sim) == 0 && !slices.ContainsFunc(real, func(r []Record) bool { return len(r) > 0 }) {
		return fmt.Errorf("plot %s per request: no records on either side", metric)
	}
	pts := make([]plotter.XYs, len(real))
	values := make([][]float64, len(real))
	for i, recs := range real {
		pts[i] = perRequestPoints(metric, recs)
		for _, pt := range pts[i] {
			if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
				return fmt.Errorf("plot %s per request: real repetition %d: value %v is not finite", metric, i+1, pt.Y)
			}
			values[i] = append(values[i], pt.Y)
		}
	}
	p := newPlot(title, "request (arrival order)", string(metric)+" (ms)")
	legend := newOutsideLegend()
	median := medianRepetition(values)
	err := addRealLines(p, &legend, len(real), median, plotter.NoStep, func(i int) (plotter.XYs, error) {
		if len(pts[i]) == 0 {
			return nil, nil
		}
		return pts[i], nil
	})
	if err != nil {
		return fmt.Errorf("plot %s per request: %w", metric, err)
	}
	if simPts := perRequestPoints(metric, sim); len(simPts) > 0 {
		for _, pt := range simPts {
			if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
				return fmt.Errorf("plot %s per request: sim: value %v is not finite", metric, pt.Y)
			}
		}
		if err := addSimLine(p, &legend, simPts, plotter.NoStep); err != nil {
			return fmt.Errorf("plot %s per request: %w", metric, err)
		}
	}
	p.Title.Text += "\n" + subtitle(metric, len(real), median)
	return writeLegendPNG(w, p, &legend)
}

// medianRepetition is the index of the median repetition (medianRepetitionRule):
// repetitions are ordered by their p50 (ties by index) and the lower middle one is
// taken. Repetitions without values are left out; -1 when none has any.
func medianRepetition(reps [][]float64) int {
	type rep struct {
		i   int
		p50 float64
	}
	var rs []rep
	for i, xs := range reps {
		if len(xs) == 0 {
			continue
		}
		s := slices.Clone(xs)
		slices.Sort(s)
		rs = append(rs, rep{i, Quantile(s, 0.5)})
	}
	if len(rs) == 0 {
		return -1
	}
	slices.SortStableFunc(rs, func(a, b rep) int { return cmp.Compare(a.p50, b.p50) })
	return rs[(len(rs)-1)/2].i
}

// subtitle says what the lines are.
func subtitle(metric Metric, reps, median int) string {
	switch {
	case reps == 0 || median < 0:
		return "sim only (no real values)"
	case reps == 1:
		return "real: the one repetition"
	}
	return fmt.Sprintf("light: each of %d real repetitions; bold: repetition %d, the median repetition\n(%s)", reps,
		median+1, fmt.Sprintf(medianRepetitionRule, metric))
}

// addRealLines adds repetition i's points (from pts; nil for none) as a light line
// and the median repetition's again as a bold one, with their legend entries.
func addRealLines(p *plot.Plot, legend *plot.Legend, reps, median int, step plotter.StepKind,
	pts func(int) (plotter.XYs, error)) error {
	light := false
	for i := range reps {
		xy, err := pts(i)
		if err != nil || xy == nil {
			continue
		}
		if reps == 1 {
			break
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("real repetition %d: %w", i+1, err)
		}
		l.StepStyle = step
		l.Width, l.Color = vg.Points(1), realLightColor
		p.Add(l)
		if !light {
			legend.Add("real, each repetition", l)
			light = true
		}
	}
	if median < 0 {
		return nil
	}
	xy, _ := pts(median)
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("real repetition %d: %w", median+1, err)
	}
	l.StepStyle = step
	l.Width, l.Color = vg.Points(2.5), realColor
	p.Add(l)
	name := "real"
	if reps > 1 {
		name = fmt.Sprintf("real, median repetition (%d)", median+1)
	}
	legend.Add(name, l)
	return nil
}

func addSimLine(p *plot.Plot, legend *plot.Legend, pts plotter.XYs, step plotter.StepKind) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	l.StepStyle = step
	l.Width, l.Color, l.Dashes = vg.Points(2), simColor, simDashes
	p.Add(l)
	legend.Add("sim", l)
	return nil
}

// logXAxis puts p's x axis on a log scale spanning whole decades around every
// (positive) value, so that the ticker labels both ends.
func logXAxis(p *plot.Plot, real [][]float64, sim []float64) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, xs := range append(slices.Clone(real), sim) {
		for _, x := range xs {
			lo, hi = math.Min(lo, 1000*x), math.Max(hi, 1000*x)
		}
	}
	if math.IsInf(lo, 1) {
		return fmt.Errorf("no positive value to draw on a log axis")
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks125{}
	p.X.Min, p.X.Max = math.Pow10(int(math.Floor(math.Log10(lo)))), math.Pow10(int(math.Ceil(math.Log10(hi))))
	if p.X.Max <= p.X.Min {
		p.X.Max = 10 * p.X.Min
	}
	return nil
}

// logTicks125 labels 1, 2 and 5 of every decade of a log axis (gonum's LogTicks labels
// the powers of ten only, two labels for a one-decade axis), with unlabelled minor
// ticks at the other integers.
type logTicks125 struct{}

func (logTicks125) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow10(e)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	return p
}

// newOutsideLegend is a legend for writeLegendPNG's strip right of the data area.
func newOutsideLegend() plot.Legend {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	return l
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

// Every plot is 900×600 points: 1200×800 pixels at vgimg's default 96 dpi. The
// legend sits in a strip right of the plot, outside the data area.
var (
	plotWidth  = vg.Points(900)
	plotHeight = vg.Points(600)
	legendPad  = vg.Points(8)
)

// writeLegendPNG draws p with legend in a strip to its right, level with the top of
// the data area.
func writeLegendPNG(w io.Writer, p *plot.Plot, legend *plot.Legend) error {
	c, err := draw.NewFormattedCanvas(plotWidth, plotHeight, "png")
	if err != nil {
		return fmt.Errorf("render png: %w", err)
	}
	dc := draw.New(c)
	strip := legend.Rectangle(dc).Size().X + 2*legendPad
	p.Draw(draw.Crop(dc, 0, -strip, 0, 0))
	top := legendPad
	if p.Title.Text != "" {
		top += p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding
	}
	legend.Draw(draw.Crop(dc, plotWidth-strip+legendPad, -legendPad, 0, -top))
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}
