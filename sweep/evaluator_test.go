package sweep

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"sync"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func TestQuantizeWeights(t *testing.T) {
	// shape (2, 2): channel 0 is {1.5, -0.4}, channel 1 is {0.2, -0.1}.
	// Symmetric grids put max|w| at a half-integer code; it is positive here,
	// so it clamps to qmax whichever way float32 rounding breaks the tie.
	w := []float32{1.5, -0.4, 0.2, -0.1}
	for _, test := range []struct {
		m    Method
		bits int
		want []float32
	}{
		// 2-bit signed symmetric grid {-2..1}: per channel S = max|w|/1.5 =
		// 1 and 2/15; -0.4 → 0; -0.1/S = -0.75 → -1.
		{LinearPC, 2, []float32{1, 0, float32(2.0 / 15), -float32(2.0 / 15)}},
		// per tensor S = 1: everything but 1.5 rounds to 0.
		{LinearPT, 2, []float32{1, 0, 0, 0}},
		// 3 bits: grid {-4..3}, S = 1.5/3.5; -0.4/S = -0.93 → -1, 0.2/S = 0.47 → 0.
		{LinearPT, 3, []float32{1.5 / 3.5 * 3, -1.5 / 3.5, 0, 0}},
		// pow2 at 3 bits: 2 exponent bits, MaxExp = round(log2 1.5) = 1 (1.5 ≥ √2),
		// exponents -1..1; 0.4 → 2^-1 (log2 0.4 = -1.32); 0.2 and 0.1 flush to 0 (< 2^-1.5).
		{Pow2, 3, []float32{2, -0.5, 0, 0}},
		// k-means with 2 centroids, linear init at -0.4 and 1.5: {-0.4, 0.2, -0.1} (mean -0.1) and {1.5}.
		{KMeans, 1, []float32{1.5, -0.1, -0.1, -0.1}},
		// bf16 keeps 8 significant bits: 0.4 = 1.6·2^-2 → 205/128·2^-2 = 0.40039062.
		{BF16, 16, []float32{1.5, -0.40039062, 0.20019531, -0.10009766}},
	} {
		got := make([]float32, len(w))
		if err := QuantizeWeights(got, w, []int{2, 2}, test.m, test.bits); err != nil {
			t.Fatalf("%s %d: %v", test.m, test.bits, err)
		}
		for i := range got {
			if d := got[i] - test.want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s %d bits: got %v, want %v", test.m, test.bits, got, test.want)
				break
			}
		}
	}
	if err := QuantizeWeights(make([]float32, 4), w, []int{2, 2}, Pow2, 1); err == nil {
		t.Error("pow2 at 1 bit: no error")
	}
}

// tinyRun is an untrained-but-fixed LeNet-300-100 on a small synthetic set,
// standing in for a trained FP32 run.
func tinyRun(t *testing.T) (*NetEvaluator, []Layer, *[]*nn.Net) {
	t.Helper()
	cfg := datasets.DefaultSyntheticConfig()
	cfg.NTrain, cfg.NTest = 64, 48
	tr, te, err := datasets.NewSynthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	build := func(seed uint64) (*nn.Net, error) {
		m, err := zoo.New("lenet300", qconfig.FP32, rand.New(rand.NewSource(1)))
		if err != nil {
			return nil, err
		}
		return nn.Compile(m, nn.CompileConfig{Batch: 16, InputShape: [3]int{1, 28, 28}, Classes: 10})
	}
	var mu sync.Mutex
	var nets []*nn.Net
	ev := &NetEvaluator{Train: tr, Test: te, Finetune: Finetune{LR: 0.05, Momentum: 0.9, MaxStepsPerEpoch: 2},
		NewNet: func(seed uint64) (*nn.Net, error) {
			n, err := build(seed)
			mu.Lock()
			nets = append(nets, n)
			mu.Unlock()
			return n, err
		}}
	n, err := build(0)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	layers, err := ModelLayers(n)
	if err != nil {
		t.Fatal(err)
	}
	return ev, layers, &nets
}

func distinct(v []float32) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return len(slices.Compact(s))
}

func TestNetEvaluator(t *testing.T) {
	ev, layers, nets := tinyRun(t)
	if !slices.Equal(layers, []Layer{{"fc1", FC}, {"fc2", FC}, {"fc3", FC}}) {
		t.Fatalf("layers %v", layers)
	}
	p, err := NewPlan(layers, Options{Groups: []string{"layer:fc2"}, Methods: []Method{LinearPT, KMeans}, Bits: []int{2}, Epochs: []int{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, pt := range p.Points {
		r1, err := ev.Evaluate(ctx, pt)
		if err != nil {
			t.Fatalf("%s: %v", describe(pt), err)
		}
		net := (*nets)[len(*nets)-1]
		r2, err := ev.Evaluate(ctx, pt)
		if r1.TestLoss == nil || !(*r1.TestLoss > 0) {
			t.Fatalf("%s: test loss %v", describe(pt), r1.TestLoss)
		}
		if err != nil || r1.Accuracy != r2.Accuracy || r1.TrainLoss != r2.TrainLoss || *r1.TestLoss != *r2.TestLoss {
			t.Errorf("%s: %+v then %+v, %v: not deterministic", describe(pt), r1, r2, err)
		}
		for _, prm := range net.Params() {
			if prm.Name != "fc2.weight" {
				continue
			}
			// 2 bits: at most 4 distinct weights (3 used by a symmetric grid
			// of a layer whose range is not dominated by one side), before
			// and after fine-tuning; FP32 keeps all 30000.
			n := distinct(prm.Float32s())
			switch {
			case pt.Method == FP32 && n < 1000:
				t.Errorf("%s: fc2 has %d distinct weights", describe(pt), n)
			case pt.Method != FP32 && n > 4:
				t.Errorf("%s: fc2 has %d distinct weights, want ≤ 4", describe(pt), n)
			}
		}
		t.Logf("%s: accuracy %.4f loss %.4f", describe(pt), r1.Accuracy, r1.TrainLoss)
	}
}

// TestNetEvaluatorSweep runs a small sweep end to end on the real
// evaluator, twice: the second run does no work and the tables agree.
func TestNetEvaluatorSweep(t *testing.T) {
	ev, layers, nets := tinyRun(t)
	p, err := NewPlan(layers, Options{Groups: []string{"all"}, Methods: []Method{LinearPC, Pow2, FP8E5M2}, Bits: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, st, err := (&Runner{Dir: dir, Workers: 2}).Run(context.Background(), p.Points, ev)
	if err != nil || st.Computed != 4 {
		t.Fatalf("%+v, %v", st, err)
	}
	built := len(*nets)
	res2, st, err := (&Runner{Dir: dir, Workers: 2}).Run(context.Background(), p.Points, ev)
	if err != nil || st.Computed != 0 || len(*nets) != built {
		t.Fatalf("rerun: %+v, %v, %d nets built", st, err, len(*nets)-built)
	}
	if markdown(t, p, res) != markdown(t, p, res2) {
		t.Error("tables differ")
	}
	if _, err := (Report{Plan: p, Results: res}).WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
}

// WeightNoise is Σ(w − Q(w))² per layer: it matches QuantizeWeights, falls
// with every added bit, and fails at widths the method lacks.
func TestWeightNoise(t *testing.T) {
	ev, layers, _ := tinyRun(t)
	net, err := ev.NewNet(0)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	prev := map[string]float64{}
	for _, b := range []int{2, 3, 4, 8} {
		noise, err := WeightNoise(net, LinearPC, b)
		if err != nil || len(noise) != len(layers) {
			t.Fatalf("%d bits: %v, %v", b, noise, err)
		}
		for _, l := range layers {
			if p, ok := prev[l.Name]; ok && !(noise[l.Name] < p) || !(noise[l.Name] > 0) {
				t.Errorf("%s at %d bits: noise %g (%g at fewer bits)", l.Name, b, noise[l.Name], p)
			}
		}
		prev = noise
	}
	for _, prm := range net.Params() {
		if prm.Name != "fc2.weight" {
			continue
		}
		w := prm.Float32s()
		q := make([]float32, len(w))
		if err := QuantizeWeights(q, w, prm.Value.Shape(), LinearPC, 3); err != nil {
			t.Fatal(err)
		}
		var want float64
		for i := range w {
			want += float64(w[i]-q[i]) * float64(w[i]-q[i])
		}
		noise, _ := WeightNoise(net, LinearPC, 3)
		if math.Abs(noise["fc2"]-want) > 1e-9*want {
			t.Errorf("fc2 at 3 bits: %g, want %g", noise["fc2"], want)
		}
	}
	if _, err := WeightNoise(net, Pow2, 1); err == nil {
		t.Error("pow2 at 1 bit: no error")
	}
}
