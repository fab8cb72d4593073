package deepcompress

import (
	"bytes"
	"context"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/compress"
	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/prune"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/train"
)

// small is Flatten → fc1(64→32) → ReLU → fc2(32→4) for 1×8×8 inputs, or,
// with conv, conv1(1→4, 3×3) → Flatten → fc(144→4): Linear and Conv2d.
func small(conv bool, seed int64) nn.Module {
	rng := rand.New(rand.NewSource(seed))
	var body *nn.Sequential
	if conv {
		body = nn.NewSequential("s", nn.NewConv2d("conv1", 1, 4, 3, nn.ConvOpts{}, rng), &nn.Flatten{LayerName: "f"},
			nn.NewLinear("fc", 4*6*6, 4, true, rng))
	} else {
		body = nn.NewSequential("s", &nn.Flatten{LayerName: "f"}, nn.NewLinear("fc1", 64, 32, true, rng),
			&nn.ReLU{LayerName: "r"}, nn.NewLinear("fc2", 32, 4, true, rng))
	}
	q, _ := qconfig.Parse("fp32")
	m, err := qconfig.Prepare(body, q)
	if err != nil {
		panic(err)
	}
	return m
}

func synth(t *testing.T) (train.Dataset, train.Dataset) {
	t.Helper()
	tr, te, err := datasets.NewSynthetic(datasets.SyntheticConfig{NTrain: 512, NTest: 128, C: 1, H: 8, W: 8,
		NumClasses: 4, Noise: 0.2, MaxShift: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return train.FromDataset(tr), train.FromDataset(te)
}

func compile(t *testing.T, m nn.Module) *nn.Net {
	t.Helper()
	n, err := nn.Compile(m, nn.CompileConfig{Batch: 32, InputShape: [3]int{1, 8, 8}, Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func zeroOutside(t *testing.T, name string, w []float32, mask []bool) {
	t.Helper()
	for i, k := range mask {
		if !k && w[i] != 0 {
			t.Fatalf("%s: pruned weight %d is %v, want exactly 0", name, i, w[i])
		}
	}
}

// The whole pipeline on a tiny model: pruned weights stay exactly zero
// through retraining, clustering and fine-tuning; the file decodes to
// bit-identical weights and the same logits.
func TestRunSmall(t *testing.T) {
	for _, conv := range []bool{false, true} {
		trainSet, testSet := synth(t)
		net := compile(t, small(conv, 1))
		// Base training, so that pruning has something to keep.
		if _, err := train.Fit(context.Background(), train.NetModel(net), trainSet, nil, train.Config{Epochs: 2, LR: 0.05, EvalEvery: -1}); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		cfg := Config{Keep: map[string]float64{"fc1": 0.25, "conv1": 0.5}, DefaultKeep: 0.5, PruneStages: 2, RetrainEpochs: 1,
			ConvBits: 3, FCBits: 2, FineTuneEpochs: 1, CentroidLRScale: 0.1, LR: 0.02, Seed: 3, Progress: &log,
			NewModule: func() (nn.Module, error) { return small(conv, 99), nil }}
		res, err := Run(context.Background(), net, trainSet, testSet, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Net.Close()
		if !res.DecodedExact || res.DecodedAcc != res.TestAcc {
			t.Errorf("conv %v: decoded accuracy %v (exact %v), fine-tuned %v", conv, res.DecodedAcc, res.DecodedExact, res.TestAcc)
		}
		for _, s := range []string{"base:", "prune 1/2", "prune 2/2", "k-means", "fine-tuned", "decoded"} {
			if !strings.Contains(log.String(), s) {
				t.Errorf("conv %v: progress lacks %q:\n%s", conv, s, log.String())
			}
		}
		decoded, err := compress.Unmarshal(res.File)
		if err != nil {
			t.Fatal(err)
		}
		for i, tg := range Targets(res.Net.Module()) {
			cb := tg.Weight.Shared()
			k := cfg.keep(tg.Name)
			if got, want := prune.Mask(cb.Mask).Kept(), int(math.Round(k*float64(len(cb.Indices)))); k < 1 && got != want {
				t.Errorf("%s keeps %d, want %d", tg.Name, got, want)
			}
			w := tg.Weight.Float32s() // synced with the fine-tuned centroids
			if cb.Mask != nil {
				zeroOutside(t, tg.Name, w, cb.Mask)
			}
			if wantK := 1 << cfg.bits(tg); cb.K() != wantK {
				t.Errorf("%s: %d centroids, want %d", tg.Name, cb.K(), wantK)
			}
			dw := decoded[i].Weights()
			for j := range w {
				if math.Float32bits(w[j]) != math.Float32bits(dw[j]) {
					t.Fatalf("%s: decoded weight %d is %v, model %v", tg.Name, j, dw[j], w[j])
				}
			}
		}
		if r := res.Report.Total.Ratio(compress.Huffman); !(r > 1) {
			t.Errorf("conv %v: compression ratio %v", conv, r)
		}
	}
}
