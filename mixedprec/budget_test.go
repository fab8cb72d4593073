package mixedprec

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
)

func TestParseBudgets(t *testing.T) {
	counts := []int64{500, 25000, 400000, 5000} // LeNet-5's layers: 430500 weights
	got, err := ParseBudgets("w3, 35%,1000", counts)
	if err != nil {
		t.Fatal(err)
	}
	want := []Budget{{"w3", 430500 * 3}, {"35%", 430500 * 8 * 35 / 100}, {"1000", 8000}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("budget %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "w0", "wx", "0%", "-3", "12kb"} {
		if _, err := ParseBudgets(bad, counts); !errors.Is(err, ErrInput) {
			t.Errorf("ParseBudgets(%q): %v, want ErrInput", bad, err)
		}
	}
}

func TestCurveFiles(t *testing.T) {
	a, b, c := 0.9, 0.95, 0.97
	pts := []CurvePoint{
		{Curve: "uniform", Label: "w2", WeightBytes: 2048, PTQAccuracy: &a, QATAccuracy: &b, Bits: "fc1:2"},
		{Curve: "uniform", Label: "w4", WeightBytes: 4096, PTQAccuracy: &b, QATAccuracy: &c, Bits: "fc1:4"},
		{Curve: "mixed", Label: "w2", WeightBytes: 2000, PredictedLoss: 0.01, QATAccuracy: &c, Bits: "fc1:2"},
	}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, pts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 4 || lines[3] != "mixed,w2,2000,0.010000,,0.970000,fc1:2" {
		t.Errorf("CSV:\n%s", csv.String())
	}
	img, err := PlotPNG(pts, 0.98, "test")
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(img)); err != nil || cfg.Width != 600 {
		t.Errorf("PNG: %+v %v", cfg, err)
	}
}
