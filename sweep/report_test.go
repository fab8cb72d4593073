package sweep

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// handResults is a small hand-made sweep on LeNet-300-100's layers.
func handResults(t *testing.T) Report {
	t.Helper()
	layers := []Layer{{"fc1", FC}, {"fc2", FC}}
	p, err := NewPlan(layers, Options{Groups: []string{"fc"}, Methods: []Method{LinearPC, FP8E4M3},
		Bits: []int{2, 4}, Epochs: []int{0, 1}, Sensitivity: true, Fingerprint: "hand"})
	if err != nil {
		t.Fatal(err)
	}
	// Accuracy by describe(point); the fc2 sensitivity points have none.
	acc := map[string]float64{
		"fp32": 0.98, "fp32 +1ep": 0.9812,
		"fc linear-pc 2b": 0.5, "fc linear-pc 4b": 0.97, "fc fp8-e4m3 8b": 0.9799,
		"fc linear-pc 2b +1ep": 0.95, "fc fp8-e4m3 8b +1ep": 0.98,
		"fc linear-pc 4b +1ep":   0.98125, // 100·0.98125 is 98.12499… in binary: prints 98.12
		"layer:fc1 linear-pc 2b": 0.6, "layer:fc1 linear-pc 4b": 0.975, "layer:fc1 fp8-e4m3 8b": 0.98,
	}
	res := map[string]PointResult{}
	for _, pt := range p.Points {
		if a, ok := acc[describe(pt)]; ok {
			res[pt.ID] = PointResult{Version: resultVersion, Point: pt, Accuracy: a}
		}
	}
	return Report{Plan: p, Results: res}
}

func TestReportMarkdown(t *testing.T) {
	r := handResults(t)
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	want := `# Bit-width sweep

Test accuracy (%), weights quantized, activations FP32.

- FP32 baseline: 98.00
- FP32 control, 1 epoch of fine-tuning: 98.12

## Group fc (fc1, fc2), no fine-tuning (FP32 baseline 98.00)

| method | 2 b | 4 b | 8 b |
|---|---:|---:|---:|
| linear-pc | 50.00 | 97.00 |  |
| fp8-e4m3 |  |  | 97.99 |

## Group fc (fc1, fc2), 1 epoch of fine-tuning (FP32 control 98.12)

| method | 2 b | 4 b | 8 b |
|---|---:|---:|---:|
| linear-pc | 95.00 | 98.12 |  |
| fp8-e4m3 |  |  | 98.00 |

## Per-layer sensitivity, linear-pc, one layer quantized at a time, no fine-tuning (FP32 baseline 98.00)

| layer | 2 b | 4 b | 8 b |
|---|---:|---:|---:|
| fc1 (fc) | 60.00 | 97.50 |  |
| fc2 (fc) | - | - |  |

## Per-layer sensitivity, fp8-e4m3, one layer quantized at a time, no fine-tuning (FP32 baseline 98.00)

| layer | 2 b | 4 b | 8 b |
|---|---:|---:|---:|
| fc1 (fc) |  |  | 98.00 |
| fc2 (fc) |  |  | - |
`
	if b.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestReportCSV(t *testing.T) {
	r := handResults(t)
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1+len(r.Plan.Points) {
		t.Fatalf("%d lines for %d points", len(lines), len(r.Plan.Points))
	}
	id := func(i int) string { return r.Plan.Points[i].ID }
	for i, want := range []string{
		"id,kind,group,method,bits,epochs,layers,test_accuracy",
		id(0) + ",baseline,,fp32,32,0,,0.980000",
		id(1) + ",control,,fp32,32,1,,0.981200",
		id(2) + ",group,fc,linear-pc,2,0,fc1 fc2,0.500000",
	} {
		if lines[i] != want {
			t.Errorf("line %d: %q, want %q", i, lines[i], want)
		}
	}
	if last := lines[len(lines)-1]; last != id(len(r.Plan.Points)-1)+",sensitivity,layer:fc2,fp8-e4m3,8,0,fc2," {
		t.Errorf("last line %q: want an empty accuracy", last)
	}
}

func TestReportFiles(t *testing.T) {
	r := handResults(t)
	dir := t.TempDir()
	f, err := r.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Plots) != 1 || f.Plots[0] != filepath.Join(dir, "plot-fc.png") {
		t.Fatalf("plots %v", f.Plots)
	}
	fh, err := os.Open(f.Plots[0])
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 600 || b.Dy() != 400 {
		t.Errorf("plot is %d×%d, want 600×400", b.Dx(), b.Dy())
	}
	for _, p := range []string{f.CSV, f.Markdown} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := r.PlotPNG("conv"); err == nil {
		t.Error("plot of a group not in the plan: no error")
	}
	if PlotFileName("layer:conv1") != "plot-layer-conv1.png" {
		t.Errorf("PlotFileName(layer:conv1) = %s", PlotFileName("layer:conv1"))
	}
}
