package sweep

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/qatgo/qatgo/internal/atomicfile"
)

// Report joins a plan with its results for output.
type Report struct {
	Plan    *Plan
	Results map[string]PointResult // by point ID; missing points print as "-"
}

func (r Report) acc(p Point) (float64, bool) {
	res, ok := r.Results[p.ID]
	return res.Accuracy, ok
}

// WriteCSV writes one row per planned point, in plan order:
// id,kind,group,method,bits,epochs,layers,test_accuracy (empty when the
// point has no result). Wall times are left out so that reruns produce the
// same file.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "kind", "group", "method", "bits", "epochs", "layers", "test_accuracy"})
	for _, p := range r.Plan.Points {
		names := make([]string, len(p.Assign))
		for i, a := range p.Assign {
			names[i] = a.Layer
		}
		acc := ""
		if a, ok := r.acc(p); ok {
			acc = strconv.FormatFloat(a, 'f', 6, 64)
		}
		cw.Write([]string{p.ID, string(p.Kind), p.Group, string(p.Method), strconv.Itoa(p.Bits),
			strconv.Itoa(p.Epochs), strings.Join(names, " "), acc})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("sweep: csv: %w", err)
	}
	return nil
}

func pct(a float64, ok bool) string {
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(100*a, 'f', 2, 64)
}

// point finds the planned point with the given labels.
func (r Report) point(kind Kind, group string, m Method, bits, epochs int) (Point, bool) {
	for _, p := range r.Plan.Points {
		if p.Kind == kind && p.Group == group && p.Method == m && p.Bits == bits && p.Epochs == epochs {
			return p, true
		}
	}
	return Point{}, false
}

// fp32 returns the FP32 accuracy for a fine-tuning length: the baseline
// for 0, the control otherwise.
func (r Report) fp32(epochs int) (float64, bool) {
	k := Baseline
	if epochs > 0 {
		k = Control
	}
	p, ok := r.point(k, "", FP32, 32, epochs)
	if !ok {
		return 0, false
	}
	return r.acc(p)
}

// columns returns the widths that occur among points of the given kind and
// group, ascending.
func (r Report) columns(kind Kind, group string) []int {
	var bits []int
	for _, p := range r.Plan.Points {
		if p.Kind == kind && (group == "" || p.Group == group) && !slices.Contains(bits, p.Bits) {
			bits = append(bits, p.Bits)
		}
	}
	slices.Sort(bits)
	return bits
}

func epochLabel(e int) string {
	if e == 0 {
		return "no fine-tuning"
	}
	if e == 1 {
		return "1 epoch of fine-tuning"
	}
	return fmt.Sprintf("%d epochs of fine-tuning", e)
}

// WriteMarkdown writes the tables: per group and fine-tuning length,
// accuracy (%) by method (rows) and bits (columns), with the FP32 reference;
// then the per-layer sensitivity tables, one per method, layer × bits.
// Float formats appear in the column of their width.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Bit-width sweep\n\nTest accuracy (%%), weights quantized, activations FP32.\n\n")
	for _, e := range r.Plan.Options.Epochs {
		a, ok := r.fp32(e)
		if e == 0 {
			fmt.Fprintf(&b, "- FP32 baseline: %s\n", pct(a, ok))
		} else {
			fmt.Fprintf(&b, "- FP32 control, %s: %s\n", epochLabel(e), pct(a, ok))
		}
	}
	if len(r.Plan.Skipped) > 0 {
		fmt.Fprintf(&b, "- not representable, skipped: %s\n", strings.Join(r.Plan.Skipped, "; "))
	}
	for _, g := range r.Plan.Options.Groups {
		ls, _ := GroupLayers(r.Plan.Layers, g)
		names := make([]string, len(ls))
		for i, l := range ls {
			names[i] = l.Name
		}
		cols := r.columns(GroupPoint, g)
		for _, e := range r.Plan.Options.Epochs {
			a, ok := r.fp32(e)
			ref := "FP32 baseline"
			if e > 0 {
				ref = "FP32 control"
			}
			fmt.Fprintf(&b, "\n## Group %s (%s), %s (%s %s)\n\n", g, strings.Join(names, ", "), epochLabel(e), ref, pct(a, ok))
			writeHeader(&b, "method", cols)
			for _, m := range r.Plan.Options.Methods {
				fmt.Fprintf(&b, "| %s |", m)
				for _, bits := range cols {
					cell := ""
					if p, ok := r.point(GroupPoint, g, m, bits, e); ok {
						cell = pct(r.acc(p))
					}
					fmt.Fprintf(&b, " %s |", cell)
				}
				b.WriteString("\n")
			}
		}
	}
	if r.Plan.Options.Sensitivity {
		cols := r.columns(Sensitivity, "")
		a, ok := r.fp32(0)
		for _, m := range r.Plan.Options.Methods {
			fmt.Fprintf(&b, "\n## Per-layer sensitivity, %s, one layer quantized at a time, no fine-tuning (FP32 baseline %s)\n\n", m, pct(a, ok))
			writeHeader(&b, "layer", cols)
			for _, l := range r.Plan.Layers {
				fmt.Fprintf(&b, "| %s (%s) |", l.Name, l.Kind)
				for _, bits := range cols {
					cell := ""
					if p, ok := r.point(Sensitivity, "layer:"+l.Name, m, bits, 0); ok {
						cell = pct(r.acc(p))
					}
					fmt.Fprintf(&b, " %s |", cell)
				}
				b.WriteString("\n")
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeHeader(b *bytes.Buffer, first string, cols []int) {
	fmt.Fprintf(b, "| %s |", first)
	for _, c := range cols {
		fmt.Fprintf(b, " %d b |", c)
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
}

// Files lists the report files written by WriteFiles.
type Files struct {
	CSV      string   `json:"csv"`
	Markdown string   `json:"markdown"`
	Plots    []string `json:"plots"`
}

// PlotFileName returns the plot file name of a group: "plot-conv.png",
// "plot-layer-fc1.png".
func PlotFileName(group string) string {
	var sb strings.Builder
	for _, c := range group {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			sb.WriteRune(c)
		default:
			sb.WriteByte('-')
		}
	}
	return "plot-" + sb.String() + ".png"
}

// WriteFiles writes results.csv, results.md and a plot per group into dir,
// each atomically.
func (r Report) WriteFiles(dir string) (Files, error) {
	f := Files{CSV: filepath.Join(dir, "results.csv"), Markdown: filepath.Join(dir, "results.md")}
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		return f, err
	}
	if err := atomicfile.WriteFile(f.CSV, b.Bytes(), 0o644); err != nil {
		return f, err
	}
	b.Reset()
	if err := r.WriteMarkdown(&b); err != nil {
		return f, err
	}
	if err := atomicfile.WriteFile(f.Markdown, b.Bytes(), 0o644); err != nil {
		return f, err
	}
	for _, g := range r.Plan.Options.Groups {
		png, err := r.PlotPNG(g)
		if err != nil {
			return f, err
		}
		path := filepath.Join(dir, PlotFileName(g))
		if err := atomicfile.WriteFile(path, png, 0o644); err != nil {
			return f, err
		}
		f.Plots = append(f.Plots, path)
	}
	// The conv-vs-FC figure: every group on one set of axes, per
	// fine-tuning setting.
	if len(r.Plan.Options.Groups) > 1 {
		for _, e := range r.Plan.Options.Epochs {
			png, err := LossFigurePNG(r.Rows(), e, lossTitle(r.Plan.Options.Groups, e))
			if errors.Is(err, ErrOption) {
				continue // no results for it yet
			}
			if err != nil {
				return f, err
			}
			path := filepath.Join(dir, LossFigureName(e))
			if err := atomicfile.WriteFile(path, png, 0o644); err != nil {
				return f, err
			}
			f.Plots = append(f.Plots, path)
		}
	}
	return f, nil
}

// LossFigureName is the file of the all-groups loss figure at e epochs of
// fine-tuning.
func LossFigureName(e int) string { return fmt.Sprintf("plot-loss-e%d.png", e) }

func lossTitle(groups []string, e int) string {
	t := "Accuracy loss of " + strings.Join(groups, " vs ") + " weight quantization"
	if e > 0 {
		t += fmt.Sprintf(", +%d ep fine-tuning", e)
	}
	return t
}
