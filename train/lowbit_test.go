package train

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// TestLowBitTrainingStaysFinite: LeNet-5 at W2A2 (2-bit weights and
// activations, logits included) trains on a small synthetic set for 40
// steps at a high learning rate without any non-finite loss, gradient or
// parameter (the guard would stop Fit), and learns something (training
// accuracy above chance), for the LSQ method and for the observers.
func TestLowBitTrainingStaysFinite(t *testing.T) {
	cfg := datasets.DefaultSyntheticConfig()
	cfg.NTrain, cfg.NTest = 640, 64
	tr, te, err := datasets.NewSynthetic(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"w2a2,method=lsq", "w2a2"} {
		q, err := qconfig.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		m, err := zoo.New("lenet5", q, rand.New(rand.NewSource(1)))
		if err != nil {
			t.Fatal(err)
		}
		net, err := nn.Compile(m, nn.CompileConfig{Batch: 32, InputShape: [3]int{1, 28, 28}, Classes: 10})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Fit(context.Background(), NetModel(net), FromDataset(tr), FromDataset(te),
			Config{Epochs: 2, LR: 0.05, Schedule: Cosine{}})
		net.Close()
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		last := res.History[len(res.History)-1]
		if math.IsNaN(last.TrainLoss) || last.TrainAcc < 0.2 {
			t.Errorf("%s: %+v", spec, last)
		}
	}
}
