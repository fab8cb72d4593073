package analysis

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tkind\tw bits\tw SQNR dB\tw clip %\ta bits\ta SQNR dB\ta clip %\ta range\ta scale\tonly-this acc %\tdrop pts\t")
	for _, l := range r.Layers {
		row := []string{l.Name, l.Kind}
		row = append(row, tensorCols(l.Weight)...)
		a := tensorCols(l.Output)
		rng, sc := "-", "-"
		if o := l.Output; o != nil {
			rng = fmt.Sprintf("[%.3g, %.3g]", o.Min, o.Max)
			if len(o.Scale) == 1 {
				sc = fmt.Sprintf("%.3g z%d", o.Scale[0], o.ZeroPoint[0])
			}
		}
		row = append(row, a...)
		row = append(row, rng, sc)
		if l.OnlyAccuracy != nil {
			row = append(row, fmt.Sprintf("%.2f", 100**l.OnlyAccuracy), fmt.Sprintf("%+.2f", 100**l.AccuracyDrop))
		} else {
			row = append(row, "-", "-")
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.FloatAccuracy != nil {
		own := ""
		if r.OwnFloatAccuracy != nil {
			own = fmt.Sprintf(", its weights in float %.2f%% (drops against it)", 100**r.OwnFloatAccuracy)
		}
		_, err := fmt.Fprintf(w, "accuracy: float %.2f%%, quantized %.2f%%%s (%d calibration images; reference: %s)\n",
			100**r.FloatAccuracy, 100**r.QuantAccuracy, own, r.Images, r.Reference)
		return err
	}
	return nil
}

func tensorCols(t *TensorStats) []string {
	if t == nil {
		return []string{"-", "-", "-"}
	}
	b := "-"
	if t.Bits > 0 {
		b = fmt.Sprint(t.Bits)
	}
	return []string{b, fmt.Sprintf("%.1f", t.SQNR), fmt.Sprintf("%.3f", 100*t.ClipRate)}
}

// svgHist draws a histogram (counts on a log(1+n) scale, so that the tails
// a grid clips stay visible) with the grid's levels as ticks under the axis
// and its clipping range as two dashed lines.
func svgHist(t *TensorStats, title string) template.HTML {
	const W, H, pad = 420.0, 150.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" role="img"><title>%s</title>`,
		W, H, W, H, template.HTMLEscapeString(title))
	h := t.Hist
	if len(h.Counts) == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	peak := 0.0
	for _, c := range h.Counts {
		peak = math.Max(peak, math.Log1p(float64(c)))
	}
	if peak == 0 {
		peak = 1
	}
	x := func(v float64) float64 { return pad + (W-2*pad)*(v-h.Lo)/(h.Hi-h.Lo) }
	base := H - pad
	bw := (W - 2*pad) / float64(len(h.Counts))
	for i, c := range h.Counts {
		bh := (H - 2*pad) * math.Log1p(float64(c)) / peak
		fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="#4a7ab5"/>`, pad+float64(i)*bw, base-bh, math.Max(bw-0.5, 0.5), bh)
	}
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#333"/>`, pad, base, W-pad, base)
	for _, g := range t.Grid {
		gx := x(float64(g))
		fmt.Fprintf(&b, `<line x1="%.2f" y1="%g" x2="%.2f" y2="%g" stroke="#2a2" stroke-width="0.6"/>`, gx, base+1, gx, base+6)
	}
	if t.Bits > 0 {
		for _, g := range []float32{t.GridMin, t.GridMax} {
			gx := x(float64(g))
			fmt.Fprintf(&b, `<line x1="%.2f" y1="%g" x2="%.2f" y2="%g" stroke="#c22" stroke-dasharray="4 3"/>`, gx, pad/2, gx, base)
		}
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="10">%.3g</text><text x="%g" y="%g" font-size="10" text-anchor="end">%.3g</text>`,
		pad, H-4, h.Lo, W-pad, H-4, h.Hi)
	fmt.Fprintf(&b, `<text x="%g" y="12" font-size="11" text-anchor="middle">%s</text></svg>`, W/2, template.HTMLEscapeString(title))
	return template.HTML(b.String())
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", 100**p)
	},
	"db":   func(t *TensorStats) string { return tensorCols(t)[1] },
	"clip": func(t *TensorStats) string { return tensorCols(t)[2] },
	"bits": func(t *TensorStats) string { return tensorCols(t)[0] },
	"hist": svgHist,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>qatgo analysis{{with .Model}}: {{.}}{{end}}</title>
<style>
body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
td:first-child,th:first-child{text-align:left}
.layer{margin:1.2em 0;padding-top:.5em;border-top:1px solid #ddd}
.bad{background:#fdd}
</style></head><body>
<h1>Per-layer quantization analysis{{with .Model}}: {{.}}{{end}} {{.Quant}}</h1>
<p>Reference (float twin): {{.Reference}}. Calibration images: {{.Images}}.
{{if .FloatAccuracy}}Test accuracy: float {{pct .FloatAccuracy}}%, quantized {{pct .QuantAccuracy}}%{{with .OwnFloatAccuracy}}, the quantized model's weights in float {{pct .}}% (the drops are against it){{end}}.{{end}}</p>
<p>SQNR = 10·log10(Σ float² / Σ (float − quantized)²). Activation SQNR compares each layer's output in the
float model with its output in the fully quantized model (errors accumulate along the network).
Clip % is the share of float values outside the grid. "Only-this" accuracy quantizes one layer's weight and
output and leaves every other tensor float.</p>
<table id="summary"><tr><th>layer</th><th>kind</th><th>w bits</th><th>w SQNR dB</th><th>w clip %</th>
<th>a bits</th><th>a SQNR dB</th><th>a clip %</th><th>only-this acc %</th><th>drop pts</th></tr>
{{range .Layers}}<tr><td><a href="#{{.Name}}">{{.Name}}</a></td><td>{{.Kind}}</td>
<td>{{bits .Weight}}</td><td>{{db .Weight}}</td><td>{{clip .Weight}}</td>
<td>{{bits .Output}}</td><td>{{db .Output}}</td><td>{{clip .Output}}</td>
<td>{{pct .OnlyAccuracy}}</td><td>{{pct .AccuracyDrop}}</td></tr>
{{end}}</table>
<p>Histograms: counts on a log(1+n) scale; green ticks under the axis are the grid's levels (of the widest channel
for per-channel weights, drawn up to 256 levels), red dashed lines the clipping range.</p>
{{range .Layers}}<div class="layer" id="{{.Name}}"><h3>{{.Name}} ({{.Kind}})</h3>
{{with .Weight}}<div>weight {{.Scheme}}: range [{{printf "%.4g" .Min}}, {{printf "%.4g" .Max}}], grid [{{printf "%.4g" .GridMin}}, {{printf "%.4g" .GridMax}}] {{.Note}}</div>{{hist . "weight"}}{{end}}
{{with .Output}}<div>output {{.Scheme}}: range [{{printf "%.4g" .Min}}, {{printf "%.4g" .Max}}], grid [{{printf "%.4g" .GridMin}}, {{printf "%.4g" .GridMax}}] {{.Note}}</div>{{hist . "output activation"}}{{end}}
</div>
{{end}}
<p id="status">rendered</p>
</body></html>
`))

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	return page.Execute(w, r)
}
