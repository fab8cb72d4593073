package nn

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/qatgo/qatgo/codebook"
)

// tinyShared is Flatten → Linear(2→2, no bias) with W = [[c0, c1], [c1, 0]]:
// indices [0 1 1 x], the last weight pruned.
func tinyShared(t *testing.T, rule codebook.Rule, lrMult float64) (*Net, *Linear, *codebook.Codebook) {
	t.Helper()
	fc := NewLinear("fc", 2, 2, false, rand.New(rand.NewSource(1)))
	m := &Model{ModelName: "tiny", Body: NewSequential("tiny", &Flatten{"f"}, fc)}
	cb, err := codebook.New("fc.weight", []int{2, 2}, []float32{1, -1}, []int32{0, 1, 1, 0},
		[]bool{true, true, true, false}, rule)
	if err != nil {
		t.Fatal(err)
	}
	cb.LRMult = lrMult
	if err := fc.Weight.Share(cb); err != nil {
		t.Fatal(err)
	}
	n, err := Compile(m, CompileConfig{Batch: 1, InputShape: [3]int{1, 1, 2}, Classes: 2})
	if err != nil {
		t.Fatal(err)
	}
	return n, fc, cb
}

// The centroids get the weight gradients grouped by cluster. By hand, for
// x = (1, 2), label 0: z = W·x = (1·1 − 1·2, −1·1 + 0·2) = (−1, −1),
// softmax (½, ½), dL/dz = (−½, ½), dL/dW = dL/dz·xᵀ = [[−½, −1], [½, 1]].
// Sum: c0 gets W00 = −½; c1 gets W01 + W10 = −1 + ½ = −½; the pruned W11
// (gradient 1) gives nothing. Mean: c0 −½/1, c1 −½/2 = −¼.
// An SGD step with lr 0.1 and the centroids' LRScale 2 (Sum): c0 = 1 −
// 0.1·2·(−½) = 1.1, c1 = −1 + 0.1 = −0.9; W = [[1.1, −0.9], [−0.9, 0]].
func TestSharedCentroidGradient(t *testing.T) {
	for _, test := range []struct {
		rule  codebook.Rule
		grad  []float32
		after []float32
	}{
		{codebook.Sum, []float32{-0.5, -0.5}, []float32{1.1, -0.9, -0.9, 0}},
		{codebook.Mean, []float32{-0.5, -0.25}, []float32{1.1, -0.95, -0.95, 0}},
	} {
		n, fc, _ := tinyShared(t, test.rule, 2)
		var cp *Param
		for _, p := range n.Params() {
			if p.Name == "fc.weight.centroids" {
				cp = p
			}
		}
		if cp == nil || !cp.Trainable || cp.Decay || cp.LRScale != 2 {
			t.Fatalf("%v: centroid param %+v, want trainable, no decay, LRScale 2", test.rule, cp)
		}
		if fc.Weight.Trainable {
			t.Fatalf("%v: shared weight still trainable", test.rule)
		}
		if _, _, err := n.Step([]float32{1, 2}, []int{0}); err != nil {
			t.Fatal(err)
		}
		g := data[float32](cp.Grad)
		for i := range g {
			if math.Abs(float64(g[i]-test.grad[i])) > 1e-6 {
				t.Errorf("%v: centroid gradient %v, want %v", test.rule, g, test.grad)
				break
			}
		}
		sgd(n, 0.1)
		if err := n.SyncShared(); err != nil {
			t.Fatal(err)
		}
		w := data[float32](fc.Weight.Value)
		for i := range w {
			if math.Abs(float64(w[i]-test.after[i])) > 1e-6 {
				t.Errorf("%v: weights after a step %v, want %v", test.rule, w, test.after)
				break
			}
		}
		if w[3] != 0 {
			t.Errorf("%v: pruned weight %v, want exactly 0", test.rule, w[3])
		}
		// The eval graph uses the updated centroids too: logits = W·x.
		logits := make([]float32, 2)
		if err := n.Predict([]float32{1, 2}, 1, logits); err != nil {
			t.Fatal(err)
		}
		want := []float32{test.after[0] + 2*test.after[1], test.after[2]}
		if math.Abs(float64(logits[0]-want[0])) > 1e-6 || math.Abs(float64(logits[1]-want[1])) > 1e-6 {
			t.Errorf("%v: eval logits %v, want %v", test.rule, logits, want)
		}
		n.Close()
	}
}

// A shared conv layer next to a linearly fake-quantized Linear layer: the
// model trains, and its predictions equal those of the same model with the
// decoded weights as ordinary parameters, bit for bit.
func TestSharedConvMixedWithQuantized(t *testing.T) {
	var err error
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	conv := NewConv2d("conv", 1, 3, 3, ConvOpts{}, rng)
	m, err := testPrepare(NewSequential("mix", conv, &Flatten{"f"}, NewLinear("fc", 3*4*4, 4, true, rng)), "w8a8")
	if err != nil {
		t.Fatal(err)
	}
	conv.WQ = nil // the shared weight is not linearly quantized; fc's is
	w := conv.Weight.Float32s()
	mask := make([]bool, len(w))
	for i := range mask {
		mask[i] = i%3 != 0
	}
	cb, err := codebook.FromWeights("conv.weight", []int{3, 1, 3, 3}, w, mask, 2, 0, nil, codebook.Sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := conv.Weight.Share(cb); err != nil {
		t.Fatal(err)
	}
	n, err := Compile(m, CompileConfig{Batch: 4, InputShape: [3]int{1, 6, 6}, Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for range 3 {
		x, y := randomBatch(rng, 4, 36, 4)
		if _, _, err := n.Step(x, y); err != nil {
			t.Fatal(err)
		}
		sgd(n, 0.05)
	}
	if err := n.SyncShared(); err != nil {
		t.Fatal(err)
	}
	decoded := conv.Weight.Float32s()
	for i, k := range mask {
		if !k && decoded[i] != 0 {
			t.Fatalf("pruned weight %d = %v", i, decoded[i])
		}
	}
	// The dense twin: the same module (so the same quantizer state) with
	// the decoded weights as an ordinary parameter.
	if err := conv.Weight.Unshare(); err != nil {
		t.Fatal(err)
	}
	if got := conv.Weight.Float32s(); !equalBits(got, decoded) || !conv.Weight.Trainable {
		t.Fatal("Unshare did not keep the decoded weights")
	}
	n2, err := Compile(m, CompileConfig{Batch: 4, InputShape: [3]int{1, 6, 6}, Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	x, _ := randomBatch(rng, 4, 36, 4)
	a, b := make([]float32, 16), make([]float32, 16)
	if err := n.Predict(x, 4, a); err != nil {
		t.Fatal(err)
	}
	if err := n2.Predict(x, 4, b); err != nil {
		t.Fatal(err)
	}
	if !equalBits(a, b) {
		t.Errorf("shared logits %v, dense %v", a, b)
	}
}

func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestApplyMaskAndShareErrors(t *testing.T) {
	p := newParam("w", true, true, 2, 2)
	copy(data[float32](p.Value), []float32{1, 2, 3, 4})
	p.Mask = []bool{true, false, false, true}
	if err := p.ApplyMask(); err != nil {
		t.Fatal(err)
	}
	if got := data[float32](p.Value); got[0] != 1 || got[1] != 0 || got[2] != 0 || got[3] != 4 {
		t.Errorf("masked %v, want [1 0 0 4]", got)
	}
	p.Mask = []bool{true}
	if err := p.ApplyMask(); err == nil {
		t.Error("short mask accepted")
	}
	p.Mask = nil
	cb, err := codebook.New("w", []int{4}, []float32{0}, []int32{0, 0, 0, 0}, nil, codebook.Sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Share(cb); !errors.Is(err, ErrShare) {
		t.Errorf("shape mismatch: got %v, want ErrShare", err)
	}
	if err := p.Share(nil); !errors.Is(err, ErrShare) {
		t.Errorf("nil codebook: got %v, want ErrShare", err)
	}
	if !p.Trainable || p.Shared() != nil {
		t.Error("failed Share changed the parameter")
	}
	cb2, _ := codebook.New("w", []int{2, 2}, []float32{5}, []int32{0, 0, 0, 0}, nil, codebook.Sum)
	if err := p.Share(cb2); err != nil || p.Trainable || data[float32](p.Value)[2] != 5 {
		t.Fatalf("Share: %v, trainable %v, value %v", err, p.Trainable, data[float32](p.Value))
	}
	if err := p.Unshare(); err != nil || !p.Trainable || p.Shared() != nil {
		t.Fatalf("Unshare: %v, trainable %v", err, p.Trainable)
	}
}
