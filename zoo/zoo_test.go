package zoo_test

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/qatgo/qatgo/nn"
	"github.com/qatgo/qatgo/qconfig"
	"github.com/qatgo/qatgo/zoo"
)

// Every built-in model builds for MNIST and for another input shape and
// class count, compiles, takes a training step with a finite loss and
// predicts, in FP32 and W8A8.
func TestBuiltinsAnyShape(t *testing.T) {
	r := zoo.Default()
	for _, name := range r.Names() {
		for _, sp := range []zoo.Spec{zoo.MNIST, {InputShape: [3]int{3, 20, 24}, Classes: 7}} {
			for _, spec := range []string{"fp32", "w8a8"} {
				q, err := qconfig.Parse(spec)
				if err != nil {
					t.Fatal(err)
				}
				m, err := r.New(name, sp, q, rand.New(rand.NewSource(1)))
				if err != nil {
					t.Fatalf("%s %v %s: %v", name, sp, spec, err)
				}
				net, err := nn.Compile(m, nn.CompileConfig{Batch: 2, InputShape: sp.InputShape, Classes: sp.Classes})
				if err != nil {
					t.Fatalf("%s %v %s: %v", name, sp, spec, err)
				}
				per := sp.InputShape[0] * sp.InputShape[1] * sp.InputShape[2]
				rng := rand.New(rand.NewSource(2))
				x := make([]float32, 2*per)
				for i := range x {
					x[i] = rng.Float32()
				}
				if _, _, err := net.Step(x, []int{0, sp.Classes - 1}); err != nil {
					t.Errorf("%s %v %s: step: %v", name, sp, spec, err)
				}
				logits := make([]float32, 2*sp.Classes)
				if err := net.Predict(x, 2, logits); err != nil {
					t.Errorf("%s %v %s: predict: %v", name, sp, spec, err)
				}
				if _, _, err := net.Graph(); err != nil {
					t.Errorf("%s %v %s: graph: %v", name, sp, spec, err)
				}
				net.Close()
			}
		}
	}
}

func TestRegistry(t *testing.T) {
	r := zoo.NewRegistry()
	tiny := func(sp zoo.Spec, rng *rand.Rand) (nn.Module, error) {
		return nn.NewSequential("tiny", &nn.Flatten{LayerName: "f"},
			nn.NewLinear("fc", sp.InputShape[0]*sp.InputShape[1]*sp.InputShape[2], sp.Classes, true, rng)), nil
	}
	if err := r.Register("tiny", "a linear classifier", tiny); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name string
		c    zoo.Constructor
		want string
	}{
		{"tiny", tiny, "already registered"},
		{"", tiny, "non-empty"},
		{"a b", tiny, "without spaces"},
		{"nil", nil, "nil constructor"},
	} {
		if err := r.Register(test.name, "", test.c); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("Register(%q): %v, want %q", test.name, err, test.want)
		}
	}
	if got := r.Names(); len(got) != 1 || got[0] != "tiny" {
		t.Errorf("Names %v", got)
	}
	if _, err := r.New("alexnet", zoo.MNIST, qconfig.FP32, rand.New(rand.NewSource(1))); !errors.Is(err, zoo.ErrUnknownModel) || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := r.New("tiny", zoo.Spec{Classes: 3}, qconfig.FP32, rand.New(rand.NewSource(1))); err == nil {
		t.Error("zero input shape accepted")
	}
	if _, err := zoo.Default().New("lenet5", zoo.Spec{InputShape: [3]int{1, 8, 8}, Classes: 10}, qconfig.FP32, rand.New(rand.NewSource(1))); err == nil || !strings.Contains(err.Error(), "16x16") {
		t.Errorf("lenet5 on 8x8: %v", err)
	}
}
