package analysis

import (
	"math"
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
	"github.com/qatgo/qatgo/zoo"
)

// Two independent routes to the same float twin: the quantized net with its
// quantizers off, and a separately built FP32 net with the same weights.
// Both analyses must agree.
func TestAnalyzeRefMatchesDisabledQuantizers(t *testing.T) {
	net, tr, te := quantLeNet5(t, "w4a8")
	acc := func(n *nn.Net) (float64, error) { return train.Evaluate(train.NetModel(n), train.FromDataset(te)) }
	m, err := zoo.New("lenet5", qconfig.FP32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := nn.Compile(m, nn.CompileConfig{Batch: 32, InputShape: [3]int{tr.C, tr.H, tr.W}, Classes: tr.NumClasses, KeepActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if err := ref.LoadWeights(mustState(t, net)); err != nil {
		t.Fatal(err)
	}
	calib := tr.X[:40*tr.SampleSize()]
	a, err := Analyze(net, Options{Images: calib, Accuracy: acc})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Analyze(net, Options{Images: calib, Ref: ref, Accuracy: acc})
	if err != nil {
		t.Fatal(err)
	}
	if *b.FloatAccuracy != *b.OwnFloatAccuracy || *a.FloatAccuracy != *b.FloatAccuracy || a.OwnFloatAccuracy != nil {
		t.Errorf("float accuracies: %v, %v (own %v)", *a.FloatAccuracy, *b.FloatAccuracy, b.OwnFloatAccuracy)
	}
	for i := range a.Layers {
		la, lb := a.Layers[i], b.Layers[i]
		if math.Abs(la.Weight.SQNR-lb.Weight.SQNR) > 1e-9 || math.Abs(la.Output.SQNR-lb.Output.SQNR) > 1e-3 {
			t.Errorf("%s: weight SQNR %.4f vs %.4f, output %.4f vs %.4f", la.Name, la.Weight.SQNR, lb.Weight.SQNR, la.Output.SQNR, lb.Output.SQNR)
		}
		if *la.AccuracyDrop != *lb.AccuracyDrop {
			t.Errorf("%s: drop %v vs %v", la.Name, *la.AccuracyDrop, *lb.AccuracyDrop)
		}
	}
}

func mustState(t *testing.T, n *nn.Net) []byte {
	t.Helper()
	b, err := n.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
