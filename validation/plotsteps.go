package validation

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Step plot styles: real repetitions as small translucent blue dots (many
// repetitions overlap), sim as opaque orange dots on top, capture steps as bold
// crosses in the side's colour.
var (
	stepRealStyle = draw.GlyphStyle{
		Color:  color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x50},
		Radius: vg.Points(2.5),
		Shape:  draw.CircleGlyph{},
	}
	stepSimStyle = draw.GlyphStyle{Color: simColor, Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}

	stepRealCaptureStyle = draw.GlyphStyle{
		Color:  color.RGBA{R: 0x08, G: 0x30, B: 0x6b, A: 0xff},
		Radius: vg.Points(5),
		Shape:  boldCross{},
	}
	stepSimCaptureStyle = draw.GlyphStyle{
		Color:  color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		Radius: vg.Points(5),
		Shape:  boldCross{},
	}
)

// PlotSteps writes a PNG (1200×800 pixels) of every timed step's duration (ms, log
// scale) against its start (seconds since the repetition's t0): all real
// repetitions as one series of translucent dots, sim as orange dots, and the
// capture steps of each side as crosses with their own legend entries. Warm-up
// steps are left out, and so are steps of zero duration (a log axis cannot show
// them). Either side may be empty, not both; a step with a non-finite start or a
// non-finite or negative duration is refused. Same inputs give the same bytes.
func PlotSteps(w io.Writer, title string, real [][]Step, sim []Step) error {
	if err := checkStepTraces(real, sim); err != nil {
		return fmt.Errorf("plot steps: %w", err)
	}
	var realPts, realCap, simPts, simCap plotter.XYs
	for _, rep := range real {
		addStepPoints(&realPts, &realCap, rep)
	}
	addStepPoints(&simPts, &simCap, sim)
	all := [][]plotter.XY{realPts, realCap, simPts, simCap}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, pts := range all {
		for _, pt := range pts {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
	}
	if math.IsInf(lo, 1) {
		return fmt.Errorf("plot steps: no timed step with a positive duration on either side")
	}

	p := newPlot(title, "step start (s since t0)", "step duration (ms, log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	// Whole decades, so that the log ticker labels both ends.
	p.Y.Min, p.Y.Max = math.Pow10(int(math.Floor(math.Log10(lo)))), math.Pow10(int(math.Ceil(math.Log10(hi))))
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = 10 * p.Y.Min
	}

	legend := newOutsideLegend()
	for _, s := range []struct {
		name  string
		pts   plotter.XYs
		style draw.GlyphStyle
	}{
		{"real", realPts, stepRealStyle},
		{"sim", simPts, stepSimStyle},
		{"real capture", realCap, stepRealCaptureStyle},
		{"sim capture", simCap, stepSimCaptureStyle},
	} {
		if len(s.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.pts)
		if err != nil {
			return fmt.Errorf("plot steps: %s: %w", s.name, err)
		}
		sc.GlyphStyle = s.style
		p.Add(sc)
		legend.Add(s.name, sc)
	}
	return writeLegendPNG(w, p, &legend)
}

// addStepPoints appends (start s, duration ms) of the timed steps with a positive
// duration to pts, or to capture for capture steps.
func addStepPoints(pts, capture *plotter.XYs, steps []Step) {
	for _, s := range steps {
		if s.Warmup || s.DurationS <= 0 {
			continue
		}
		pt := plotter.XY{X: s.StartS, Y: 1000 * s.DurationS}
		if s.Kind() == StepCapture {
			*capture = append(*capture, pt)
		} else {
			*pts = append(*pts, pt)
		}
	}
}

// boldCross is draw.CrossGlyph with a 1.5 pt stroke, visible among many dots.
type boldCross struct{}

func (boldCross) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.5)})
	r := sty.Radius * math.Sqrt2 / 2
	for _, d := range []vg.Length{r, -r} {
		var path vg.Path
		path.Move(vg.Point{X: pt.X - r, Y: pt.Y - d})
		path.Line(vg.Point{X: pt.X + r, Y: pt.Y + d})
		c.Stroke(path)
	}
}
