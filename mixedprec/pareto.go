package mixedprec

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// CurvePoint is one configuration on an accuracy-vs-size curve.
type CurvePoint struct {
	Curve       string  `json:"curve"` // "uniform" or "mixed"
	Label       string  `json:"label"` // "w3", or the budget's label
	WeightBytes float64 `json:"weight_bytes"`
	// Bits are the per-layer widths, "conv1:8 conv2:4 …".
	Bits string `json:"bits"`
	// PredictedLoss is the summed per-layer loss estimate.
	PredictedLoss float64 `json:"predicted_loss"`
	// PTQAccuracy is measured with the weights quantized and nothing
	// trained; QATAccuracy after QAT fine-tuning. Nil when not measured.
	PTQAccuracy *float64 `json:"ptq_accuracy,omitempty"`
	QATAccuracy *float64 `json:"qat_accuracy,omitempty"`
}

// WriteCSV writes the points as
// curve,label,weight_bytes,predicted_loss,ptq_accuracy,qat_accuracy,bits.
func WriteCSV(w io.Writer, pts []CurvePoint) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"curve", "label", "weight_bytes", "predicted_loss", "ptq_accuracy", "qat_accuracy", "bits"})
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', 6, 64)
	}
	for _, p := range pts {
		cw.Write([]string{p.Curve, p.Label, strconv.FormatFloat(p.WeightBytes, 'f', 0, 64),
			strconv.FormatFloat(p.PredictedLoss, 'f', 6, 64), opt(p.PTQAccuracy), opt(p.QATAccuracy), p.Bits})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("mixedprec: csv: %w", err)
	}
	return nil
}

// PlotPNG draws accuracy (%) against weight KiB: a line per curve and
// measurement (QAT solid, PTQ dashed), and the FP32 accuracy as a grey
// dashed line. The y axis is zoomed to the measured range.
func PlotPNG(pts []CurvePoint, fp32 float64, title string) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "weight size (KiB)"
	p.Y.Label.Text = "test accuracy (%)"
	p.Legend.Top, p.Legend.Left = false, false
	p.Add(plotter.NewGrid())
	lo, hi := 100*fp32, 100*fp32
	xmin, xmax := -1.0, 0.0
	for _, pt := range pts {
		for _, a := range []*float64{pt.PTQAccuracy, pt.QATAccuracy} {
			if a != nil {
				lo, hi = min(lo, 100**a), max(hi, 100**a)
			}
		}
		kib := pt.WeightBytes / 1024
		if xmin < 0 || kib < xmin {
			xmin = kib
		}
		xmax = max(xmax, kib)
	}
	pad := max((hi-lo)*0.08, 0.5)
	p.Y.Min, p.Y.Max = max(lo-pad, 0), min(hi+pad, 100)
	xpad := max((xmax-xmin)*0.05, 0.01)
	p.X.Min, p.X.Max = max(xmin-xpad, 0), xmax+xpad
	base, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 100 * fp32}, {X: p.X.Max, Y: 100 * fp32}})
	if err != nil {
		return nil, fmt.Errorf("mixedprec: plot: %w", err)
	}
	base.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	base.Color = color.Gray{Y: 100}
	p.Add(base)
	p.Legend.Add("FP32", base)
	var curves []string
	for _, pt := range pts {
		if !slices.Contains(curves, pt.Curve) {
			curves = append(curves, pt.Curve)
		}
	}
	for ci, c := range curves {
		for mi, m := range []string{"QAT", "PTQ"} {
			var xys plotter.XYs
			for _, pt := range pts {
				a := pt.QATAccuracy
				if m == "PTQ" {
					a = pt.PTQAccuracy
				}
				if pt.Curve == c && a != nil {
					xys = append(xys, plotter.XY{X: pt.WeightBytes / 1024, Y: 100 * *a})
				}
			}
			if len(xys) == 0 {
				continue
			}
			slices.SortFunc(xys, func(a, b plotter.XY) int {
				if a.X < b.X {
					return -1
				}
				if a.X > b.X {
					return 1
				}
				return 0
			})
			l, s, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("mixedprec: plot: %w", err)
			}
			l.Color, l.Width = plotutil.Color(ci), vg.Points(1.5)
			if mi > 0 {
				l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
			}
			s.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(ci), Radius: vg.Points(3), Shape: plotutil.Shape(ci)}
			p.Add(l, s)
			p.Legend.Add(c+" "+m, l, s)
		}
	}
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(6*vg.Inch, 4*vg.Inch), vgimg.UseDPI(100))}
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("mixedprec: plot: %w", err)
	}
	return b.Bytes(), nil
}
