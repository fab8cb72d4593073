package sweep

import (
	"bytes"
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot size: 6 × 4 inches at 100 dpi, a 600 × 400 pixel PNG.
const (
	PlotWidth  = 6 * vg.Inch
	PlotHeight = 4 * vg.Inch
	PlotDPI    = 100
)

// PlotPNG draws group's accuracy (%) against bits: one line per method and
// fine-tuning length, float formats as single markers at their width, and
// the FP32 baseline (and fine-tuning controls) as dashed horizontal lines.
// Points without results are left out.
func (r Report) PlotPNG(group string) ([]byte, error) {
	if !slices.Contains(r.Plan.Options.Groups, group) {
		return nil, fmt.Errorf("%w: group %q is not in the plan", ErrOption, group)
	}
	p := plot.New()
	p.Title.Text = "Weight quantization of " + group
	p.X.Label.Text = "bits per weight"
	p.Y.Label.Text = "test accuracy (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Legend.Top = false
	p.Legend.Left = false
	p.Add(plotter.NewGrid())

	cols := r.columns(GroupPoint, group)
	xmin, xmax := 0.5, 8.5
	if len(cols) > 0 {
		xmin, xmax = float64(cols[0])-0.5, float64(cols[len(cols)-1])+0.5
	}
	p.X.Min, p.X.Max = xmin, xmax
	var ticks []plot.Tick
	for _, c := range cols {
		ticks = append(ticks, plot.Tick{Value: float64(c), Label: fmt.Sprint(c)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)

	epochs := r.Plan.Options.Epochs
	for ei, e := range epochs {
		a, ok := r.fp32(e)
		if !ok {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 100 * a}, {X: xmax, Y: 100 * a}})
		if err != nil {
			return nil, fmt.Errorf("sweep: plot: %w", err)
		}
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		l.Width = vg.Points(1.5)
		l.Color = color.Gray{Y: uint8(80 * ei)}
		p.Add(l)
		name := "FP32"
		if e > 0 {
			name = fmt.Sprintf("FP32 +%dep", e)
		}
		p.Legend.Add(name, l)
	}
	for mi, m := range r.Plan.Options.Methods {
		_, isFloat := m.FloatWidth()
		for ei, e := range epochs {
			var xys plotter.XYs
			for _, bits := range cols {
				pt, ok := r.point(GroupPoint, group, m, bits, e)
				if !ok {
					continue
				}
				if a, ok := r.acc(pt); ok {
					xys = append(xys, plotter.XY{X: float64(bits), Y: 100 * a})
				}
			}
			if len(xys) == 0 {
				continue
			}
			name := string(m)
			if e > 0 {
				name += fmt.Sprintf(" +%dep", e)
			}
			glyph := draw.GlyphStyle{Color: plotutil.Color(mi), Radius: vg.Points(3), Shape: plotutil.Shape(ei)}
			if isFloat {
				s, err := plotter.NewScatter(xys)
				if err != nil {
					return nil, fmt.Errorf("sweep: plot: %w", err)
				}
				s.GlyphStyle = glyph
				s.GlyphStyle.Radius = vg.Points(4)
				p.Add(s)
				p.Legend.Add(name, s)
				continue
			}
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("sweep: plot: %w", err)
			}
			l.Color = plotutil.Color(mi)
			l.Width = vg.Points(1.5)
			if ei > 0 {
				l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
			}
			s.GlyphStyle = glyph
			p.Add(l, s)
			p.Legend.Add(name, l, s)
		}
	}
	c := vgimg.NewWith(vgimg.UseWH(PlotWidth, PlotHeight), vgimg.UseDPI(PlotDPI), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("sweep: plot %s: %w", group, err)
	}
	return buf.Bytes(), nil
}
