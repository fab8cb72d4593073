package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

// quantLeNet5 is a calibrated w<bits>a8 LeNet-5 on synthetic data, with
// random (untrained) weights: analysis needs a quantized net, not a good one.
func quantLeNet5(t *testing.T, spec string) (*nn.Net, *datasets.Dataset, *datasets.Dataset) {
	t.Helper()
	cfg := datasets.DefaultSyntheticConfig()
	cfg.NTrain, cfg.NTest = 256, 128
	tr, te, err := datasets.Load("synthetic", "", datasets.WithSynthetic(cfg))
	if err != nil {
		t.Fatal(err)
	}
	q, err := qconfig.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := zoo.New("lenet5", q, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 32, InputShape: [3]int{tr.C, tr.H, tr.W}, Classes: tr.NumClasses, KeepActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	if err := train.Calibrate(train.NetModel(net), train.FromDataset(tr), 64); err != nil {
		t.Fatal(err)
	}
	return net, tr, te
}

func TestAnalyzeLeNet5(t *testing.T) {
	net, tr, te := quantLeNet5(t, "w4a8")
	acc := func(n *nn.Net) (float64, error) { return train.Evaluate(train.NetModel(n), train.FromDataset(te)) }
	calib := tr.X[:40*tr.SampleSize()] // 40: a full batch and a partial one
	rep, err := Analyze(net, Options{Images: calib, Accuracy: acc})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 40 {
		t.Errorf("Images = %d, want 40", rep.Images)
	}
	names := []string{}
	for _, l := range rep.Layers {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "conv1") || !strings.Contains(got, "fc2") {
		t.Fatalf("layers %s: want conv1 … fc2", got)
	}
	infos, _, _ := net.Graph()
	byName := map[string]nn.LayerInfo{}
	for _, li := range infos {
		byName[li.Name] = li
	}
	for _, l := range rep.Layers {
		if w := l.Weight; w != nil {
			if w.Bits != 4 {
				t.Errorf("%s: weight bits %d, want 4", l.Name, w.Bits)
			}
			// An independent computation of the weight SQNR: quantize
			// each weight by hand with the reported per-channel grid.
			li := byName[l.Name]
			per := len(li.Weight) / li.WeightShape[0]
			var sig, noise float64
			for i, v := range li.Weight {
				c := i / per
				s, z := w.Scale[c], w.ZeroPoint[c]
				q := math.RoundToEven(float64(v/s)) + float64(z)
				q = math.Max(-8, math.Min(7, q))
				d := float64(v) - float64(s)*(q-float64(z))
				sig += float64(v) * float64(v)
				noise += d * d
			}
			if want := 10 * math.Log10(sig/noise); math.Abs(want-w.SQNR) > 0.01 {
				t.Errorf("%s: weight SQNR %.3f dB, by hand %.3f", l.Name, w.SQNR, want)
			}
			// A min-max symmetric 4-bit grid [-8, 7]·S with S = max|w|/8:
			// 10..30 dB, and at most the largest positive weight of each
			// channel clipped (to 7·S).
			if w.SQNR < 10 || w.SQNR > 30 || w.ClipRate > float64(li.WeightShape[0])/float64(len(li.Weight)) {
				t.Errorf("%s: weight SQNR %.1f dB clip %.4f: want 10..30 dB, ≤ 1 clipped per channel", l.Name, w.SQNR, w.ClipRate)
			}
		}
		if o := l.Output; o == nil || o.Bits != 8 || o.SQNR < 5 || len(o.Scale) != 1 {
			t.Errorf("%s: output %+v: want an 8-bit per-tensor grid with SQNR ≥ 5 dB", l.Name, o)
		}
		if l.AccuracyDrop == nil || math.Abs(*rep.FloatAccuracy-*l.OnlyAccuracy-*l.AccuracyDrop) > 1e-12 {
			t.Errorf("%s: accuracy drop missing or inconsistent", l.Name)
		}
	}
	// Analyze leaves the quantizers on: the net still evaluates quantized.
	if a, _ := acc(net); a != *rep.QuantAccuracy {
		t.Errorf("accuracy after Analyze %.4f, want the quantized %.4f", a, *rep.QuantAccuracy)
	}
	var tab, js, page bytes.Buffer
	if err := rep.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tab.String(), "conv1") {
		t.Errorf("table:\n%s", tab.String())
	}
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if s := page.String(); !strings.Contains(s, "<svg") || strings.Contains(s, "http://") && strings.Count(s, "http://www.w3.org/2000/svg") != strings.Count(s, "http://") {
		t.Errorf("HTML: want inline SVG and no external references")
	}
}

// With the weight grid as fine as float32 allows, weights match: a 16-bit
// grid gives a weight SQNR far above an 8-bit one's.
func TestAnalyzeWidthOrdersSQNR(t *testing.T) {
	sq := map[string]float64{}
	for _, spec := range []string{"w2a8", "w8a8"} {
		net, _, _ := quantLeNet5(t, spec)
		rep, err := Analyze(net, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sq[spec] = rep.Layers[0].Weight.SQNR
	}
	// Each bit adds about 6 dB.
	if d := sq["w8a8"] - sq["w2a8"]; d < 25 || d > 45 {
		t.Errorf("SQNR w8 − w2 = %.1f dB, want about 36", d)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	if _, err := Analyze(nil, Options{}); err == nil {
		t.Error("nil net: no error")
	}
	_ = fakequant.PerChannel
}
