package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qatgo/qatgo/internal/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLogSoftmaxRows: hand-worked rows, and rows far below the first
// element of the tensor, where gorgonia's LogSoftMax (max started at x[0]
// for every row) underflows to ±Inf.
//
//	[0, ln 3]          → [−ln 4, ln 3 − ln 4] = [−1.386294, −0.287682]
//	[−200, −200]       → [−ln 2, −ln 2]        (gorgonia: Σ exp(−200) = 0 in float32 → +Inf)
//	[1000, 1000 + ln 3] → as the first row
func TestLogSoftmaxRows(t *testing.T) {
	x := []float64{0, math.Log(3), -200, -200, 1000, 1000 + math.Log(3)}
	want := []float64{-math.Log(4), math.Log(3) - math.Log(4), -math.Log(2), -math.Log(2), -math.Log(4), math.Log(3) - math.Log(4)}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		in := tensor.New(tensor.Of(dt), tensor.WithShape(3, 2))
		for i, v := range x {
			if dt == tensor.Float32 {
				in.Data().([]float32)[i] = float32(v)
			} else {
				in.Data().([]float64)[i] = v
			}
		}
		got := run(t, []*tensor.Dense{in}, func(n []*G.Node) (*G.Node, error) { return LogSoftmax(n[0]) })
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-4 // 1000 + ln 3 is rounded to float32
		}
		closeTo(t, "LogSoftmax "+dt.String(), got, want, []int{3, 2}, tol)
	}
}

// TestLogSoftmaxGradCheck: float64 central differences of Σ w·log_softmax(x).
func TestLogSoftmaxGradCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := G.NewGraph()
	x := G.NodeFromAny(g, randTensor(r, tensor.Float64, 4, 5), G.WithName("x"))
	w := G.NodeFromAny(g, randTensor(r, tensor.Float64, 4, 5), G.WithName("w"))
	y, err := LogSoftmax(x)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, w))))
	res, err := gradcheck.Graph(loss, G.Nodes{x}, gradcheck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Checked != 20 {
		t.Errorf("%v", res)
	}
}
