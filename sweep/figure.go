package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Row is one line of a sweep's results.csv.
type Row struct {
	Kind     Kind
	Group    string
	Method   Method
	Bits     int
	Epochs   int
	Accuracy float64
	HasAcc   bool
}

// ReadCSV reads the rows WriteCSV wrote, so that figures can be redrawn
// from a results table alone.
func ReadCSV(r io.Reader) ([]Row, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("sweep: csv: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) != 8 || recs[0][1] != "kind" || recs[0][7] != "test_accuracy" {
		return nil, fmt.Errorf("%w: not a sweep results.csv", ErrOption)
	}
	var out []Row
	for i, rec := range recs[1:] {
		row := Row{Kind: Kind(rec[1]), Group: rec[2], Method: Method(rec[3])}
		var e1, e2 error
		row.Bits, e1 = strconv.Atoi(rec[4])
		row.Epochs, e2 = strconv.Atoi(rec[5])
		if e1 != nil || e2 != nil {
			return nil, fmt.Errorf("%w: results.csv line %d: bits %q epochs %q", ErrOption, i+2, rec[4], rec[5])
		}
		if rec[7] != "" {
			if row.Accuracy, err = strconv.ParseFloat(rec[7], 64); err != nil {
				return nil, fmt.Errorf("%w: results.csv line %d: accuracy %q", ErrOption, i+2, rec[7])
			}
			row.HasAcc = true
		}
		out = append(out, row)
	}
	return out, nil
}

// Rows returns the report as the rows of its CSV.
func (r Report) Rows() []Row {
	out := make([]Row, 0, len(r.Plan.Points))
	for _, p := range r.Plan.Points {
		a, ok := r.acc(p)
		out = append(out, Row{Kind: p.Kind, Group: p.Group, Method: p.Method, Bits: p.Bits, Epochs: p.Epochs, Accuracy: a, HasAcc: ok})
	}
	return out
}

// LossFigurePNG draws the conv-vs-FC figure: the accuracy lost against the
// FP32 baseline (points) against bits, for every group on the same axes
// (conv solid, fc dashed; one colour per method), at the given fine-tuning
// epochs, with the FP32 control fine-tuned as long drawn as a grey band
// from 0 to its own loss (what the fine-tuning alone does). The y axis is
// zoomed to where the curves live: points far below (1-bit collapses)
// leave the chart rather than flatten the rest.
func LossFigurePNG(rows []Row, epochs int, title string) ([]byte, error) {
	var base, ctrl float64
	var haveBase, haveCtrl bool
	for _, r := range rows {
		switch {
		case r.Kind == Baseline && r.HasAcc:
			base, haveBase = r.Accuracy, true
		case r.Kind == Control && r.Epochs == epochs && r.HasAcc:
			ctrl, haveCtrl = r.Accuracy, true
		}
	}
	if !haveBase {
		return nil, fmt.Errorf("%w: no FP32 baseline result", ErrOption)
	}
	type key struct {
		g string
		m Method
	}
	lines := map[key]plotter.XYs{}
	var keys []key
	var groups []string
	var methods []Method
	var losses []float64
	bmin, bmax := math.MaxInt, 0
	for _, r := range rows {
		if r.Kind != GroupPoint || r.Epochs != epochs || !r.HasAcc {
			continue
		}
		if _, isFloat := r.Method.FloatWidth(); isFloat {
			continue
		}
		k := key{r.Group, r.Method}
		if _, ok := lines[k]; !ok {
			keys = append(keys, k)
		}
		if !slices.Contains(groups, r.Group) {
			groups = append(groups, r.Group)
		}
		if !slices.Contains(methods, r.Method) {
			methods = append(methods, r.Method)
		}
		loss := 100 * (base - r.Accuracy)
		lines[k] = append(lines[k], plotter.XY{X: float64(r.Bits), Y: loss})
		losses = append(losses, loss)
		bmin, bmax = min(bmin, r.Bits), max(bmax, r.Bits)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no group points at %d fine-tuning epochs", ErrOption, epochs)
	}
	slices.Sort(losses)
	// The zoom: up to the 90th percentile of the losses, with headroom,
	// at least 1 point; down to the lowest loss or the control's.
	top := max(1.2*losses[len(losses)*9/10], 1)
	bottom := min(losses[0], 0)
	if haveCtrl {
		bottom = min(bottom, 100*(base-ctrl))
		top = max(top, 100*(base-ctrl)*1.3)
	}
	pad := (top - bottom) * 0.05
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "bits per weight"
	p.Y.Label.Text = "accuracy loss vs FP32 (points)"
	p.X.Min, p.X.Max = float64(bmin)-0.3, float64(bmax)+0.3
	p.Y.Min, p.Y.Max = bottom-pad, top+pad
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	var ticks []plot.Tick
	for b := bmin; b <= bmax; b++ {
		ticks = append(ticks, plot.Tick{Value: float64(b), Label: strconv.Itoa(b)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	zero, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}})
	if err != nil {
		return nil, fmt.Errorf("sweep: plot: %w", err)
	}
	zero.Color = color.Gray{Y: 60}
	p.Add(zero)
	p.Legend.Add(fmt.Sprintf("FP32 %.2f%%", 100*base), zero)
	if haveCtrl {
		c := 100 * (base - ctrl)
		band, err := plotter.NewPolygon(plotter.XYs{{X: p.X.Min, Y: 0}, {X: p.X.Max, Y: 0}, {X: p.X.Max, Y: c}, {X: p.X.Min, Y: c}})
		if err != nil {
			return nil, fmt.Errorf("sweep: plot: %w", err)
		}
		band.Color = color.NRGBA{R: 120, G: 120, B: 120, A: 70}
		band.LineStyle.Width = 0
		p.Add(band)
		p.Legend.Add(fmt.Sprintf("FP32 control +%dep (%.2f%%)", epochs, 100*ctrl), band)
	}
	for _, k := range keys {
		xys := lines[k]
		slices.SortFunc(xys, func(a, b plotter.XY) int { return int(a.X - b.X) })
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("sweep: plot: %w", err)
		}
		mi, gi := slices.Index(methods, k.m), slices.Index(groups, k.g)
		l.Color, l.Width = plotutil.Color(mi), vg.Points(1.5)
		if gi > 0 {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		s.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(mi), Radius: vg.Points(3), Shape: plotutil.Shape(gi)}
		p.Add(l, s)
		p.Legend.Add(k.g+" "+string(k.m), l, s)
	}
	// After Add, which widens the axes to the data.
	p.X.Min, p.X.Max = float64(bmin)-0.3, float64(bmax)+0.3
	p.Y.Min, p.Y.Max = bottom-pad, top+pad
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(PlotWidth, PlotHeight), vgimg.UseDPI(PlotDPI))}
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("sweep: plot: %w", err)
	}
	return b.Bytes(), nil
}
