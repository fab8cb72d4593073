package gradcheck

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestCheck(t *testing.T) {
	// f(x) = Σ x_i^2 + |x_2|; x_2 = 0 is a kink and must be skipped.
	x := []float64{1.5, -2, 0}
	f := func() (float64, error) { return x[0]*x[0] + x[1]*x[1] + x[2]*x[2] + math.Abs(x[2]), nil }
	good := []float64{3, -4, 0}
	r, err := Check(f, []Param{{Name: "x", Value: x, Grad: good}}, Options{})
	if err != nil || !r.OK() || r.Checked != 2 || r.Skipped != 1 {
		t.Errorf("good gradient: %v %v", r, err)
	}
	if x[0] != 1.5 || x[1] != -2 || x[2] != 0 {
		t.Errorf("values not restored: %v", x)
	}
	bad := []float64{3, -4.01, 0}
	r, _ = Check(f, []Param{{Name: "x", Value: x, Grad: bad}}, Options{})
	if r.OK() || len(r.Mismatches) != 1 || r.Mismatches[0].Index != 1 {
		t.Errorf("bad gradient not caught: %v", r)
	}
}

func TestGraph(t *testing.T) {
	g := G.NewGraph()
	xv := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{0.5, -1, 2}))
	x := G.NewTensor(g, tensor.Float64, 1, G.WithShape(3), G.WithValue(xv), G.WithName("x"))
	loss := G.Must(G.Sum(G.Must(G.Mul(x, x))))
	r, err := Graph(loss, G.Nodes{x}, Options{})
	if err != nil || !r.OK() || r.Checked != 3 {
		t.Errorf("%v %v", r, err)
	}
}
