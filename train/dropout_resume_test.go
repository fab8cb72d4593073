package train

import (
	"bytes"
	"context"
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/datasets"
	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

func vggSmall(t *testing.T, d *datasets.Dataset) *nn.Net {
	t.Helper()
	m, err := zoo.New("vgg-small", qconfig.FP32, rand.New(rand.NewSource(3)))
	if err != nil {
		t.Fatal(err)
	}
	net, err := nn.Compile(m, nn.CompileConfig{Batch: 8, InputShape: [3]int{d.C, d.H, d.W}, Classes: d.NumClasses})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { net.Close() })
	return net
}

// A resumed VGG-small (which has dropout) ends with the weights of an
// uninterrupted run: the dropout generators' state is in the checkpoint.
// Before, the resumed process drew masks from the freshly seeded generator.
func TestResumeWithDropoutMatchesUninterrupted(t *testing.T) {
	tr, _, err := datasets.Load("synthetic", "")
	if err != nil {
		t.Fatal(err)
	}
	if tr, err = tr.Subset(64); err != nil {
		t.Fatal(err)
	}
	cfg := func(dir string, epochs int) Config {
		return Config{Epochs: epochs, LR: 0.01, Seed: 5, Dir: dir, Resume: true, MaxStepsPerEpoch: 3, EvalEvery: -1}
	}
	full := vggSmall(t, tr)
	if _, err := Fit(context.Background(), NetModel(full), FromDataset(tr), nil, cfg(t.TempDir(), 2)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Fit(context.Background(), NetModel(vggSmall(t, tr)), FromDataset(tr), nil, cfg(dir, 1)); err != nil {
		t.Fatal(err)
	}
	resumed := vggSmall(t, tr) // a new process
	if _, err := Fit(context.Background(), NetModel(resumed), FromDataset(tr), nil, cfg(dir, 2)); err != nil {
		t.Fatal(err)
	}
	a, _ := full.MarshalState()
	b, _ := resumed.MarshalState()
	if !bytes.Equal(a, b) {
		t.Fatal("resumed VGG-small differs from the uninterrupted run")
	}
}

// Library entry points return errors, not panics, on nil or mismatched
// inputs.
func TestNilAndMismatchedInputs(t *testing.T) {
	if _, err := Fit(context.Background(), nil, nil, nil, Config{Epochs: 1}); err == nil {
		t.Error("Fit(nil) accepted")
	}
	bad := NetModel(nil)
	if _, err := Evaluate(bad, newBlobs(8, 2, 2, 1)); err == nil {
		t.Error("Evaluate of NetModel(nil) accepted")
	}
	if _, err := Fit(context.Background(), bad, newBlobs(8, 2, 2, 1), nil, Config{Epochs: 1}); err == nil {
		t.Error("Fit of NetModel(nil) accepted")
	}
	if err := Calibrate(nil, nil, 1); err == nil {
		t.Error("Calibrate(nil) accepted")
	}
	if _, err := Evaluate(nil, nil); err == nil {
		t.Error("Evaluate(nil) accepted")
	}
}
