package nn

import (
	"errors"
	"testing"
)

func TestLoadWeightsFP32IntoQAT(t *testing.T) {
	fp, err := testModel("lenet5", "fp32", 1)
	if err != nil {
		t.Fatal(err)
	}
	qm, err := testModel("lenet5", "w8a8", 2)
	if err != nil {
		t.Fatal(err)
	}
	cfg := CompileConfig{Batch: 4, InputShape: [3]int{1, 28, 28}, Classes: 10}
	a, err := Compile(fp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Compile(qm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := a.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.UnmarshalState(st); err == nil {
		t.Fatal("UnmarshalState accepted an FP32 state into a W8A8 model")
	}
	if err := b.LoadWeights(st); err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Params() {
		q := b.param(p.Name)
		if q == nil {
			t.Fatalf("%s missing in QAT model", p.Name)
		}
		av, bv := p.Float32s(), q.Float32s()
		for i := range av {
			if av[i] != bv[i] {
				t.Fatalf("%s[%d]: %v vs %v", p.Name, i, av[i], bv[i])
			}
		}
	}
	// Another architecture is refused.
	other, _ := testModel("lenet300", "fp32", 3)
	c, err := Compile(other, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.LoadWeights(st); !errors.Is(err, ErrState) {
		t.Fatalf("lenet5 weights into lenet300: %v", err)
	}
}
