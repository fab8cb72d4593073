package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestAddAct: the fused sum and clamp equals Add followed by ReLU or ReLU6,
// output and both gradients bit for bit, float32 and float64, on sizes
// around the 8-lane step and above the parallel split, with sums at 0, at
// 6 and beyond.
func TestAddAct(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	for _, xs := range [][]int{{1, 1, 1, 7}, {2, 3, 4, 5}, {4, 16, 32, 33}} {
		n := xs[0] * xs[1] * xs[2] * xs[3]
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i], b[i] = 4*r.NormFloat64(), 4*r.NormFloat64()
			switch r.IntN(8) {
			case 0:
				b[i] = -a[i] // a sum of exactly 0
			case 1:
				a[i], b[i] = 4, 2 // exactly 6
			}
		}
		ins := []*tensor.Dense{tensor.New(tensor.WithShape(xs...), tensor.WithBacking(a)), tensor.New(tensor.WithShape(xs...), tensor.WithBacking(b))}
		for _, hi := range []float64{math.Inf(1), 6} {
			for _, in := range [][]*tensor.Dense{ins, to32(ins)} {
				name := fmt.Sprint(xs, " hi=", hi, " ", in[0].Dtype())
				fused := func(n []*G.Node) (*G.Node, error) { return AddAct(n[0], n[1], hi, nil) }
				plain := func(n []*G.Node) (*G.Node, error) {
					y, err := Add(n[0], n[1])
					if err != nil {
						return nil, err
					}
					if math.IsInf(hi, 1) {
						return ReLU(y)
					}
					return ReLU6(y)
				}
				yf, yp := run1(t, in, fused), run1(t, in, plain)
				closeTo(t, name+" y", yf, asF64(yp), xs, 0)
				gf, gp := grads(t, in, fused), grads(t, in, plain)
				for i := range gp {
					closeTo(t, fmt.Sprint(name, " d/d input ", i), gf[i], asF64(gp[i]), xs, 0)
				}
			}
		}
	}
}

// TestFoldWithoutQuantizer: an op built with a Fold whose quantizer never
// runs fails its backward with ErrOrder instead of using a stale window.
func TestFoldWithoutQuantizer(t *testing.T) {
	x := tensor.New(tensor.WithShape(2, 3, 4, 4), tensor.WithBacking(make([]float32, 96)))
	for i, v := range x.Data().([]float32) {
		x.Data().([]float32)[i] = v + float32(i%11) - 5
	}
	gm := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, 2, 3}))
	bt := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{0, 1, -1}))
	for name, build := range map[string]func(n []*G.Node, f *Fold) (*G.Node, error){
		// (gorgonia's machine wraps an op's error in text, so the test
		// looks for ErrOrder's message)
		"BatchNormFold": func(n []*G.Node, f *Fold) (*G.Node, error) {
			return BatchNormFold(n[0], n[1], n[2], nil, newStats(tensor.Float32, 3), true, math.Inf(1), f)
		},
		"ReLUFold": func(n []*G.Node, f *Fold) (*G.Node, error) { return ReLUFold(n[0], false, f) },
		"AddAct":   func(n []*G.Node, f *Fold) (*G.Node, error) { return AddAct(n[0], n[0], 6, f) },
		"Conv2dFold+MaxPool2dFold": func(n []*G.Node, f *Fold) (*G.Node, error) {
			w := G.NodeFromAny(n[0].Graph(), tensor.New(tensor.WithShape(3, 3, 1, 1), tensor.WithBacking([]float32{1, 0, 0, 0, 1, 0, 0, 0, 1})), G.WithName("w"))
			y, err := Conv2dFold(n[0], w, nil, ConvParams{}, f)
			if err != nil {
				return nil, err
			}
			return MaxPool2dFold(y, y, [2]int{2, 2}, [2]int{2, 2}, [2]int{}, f)
		},
	} {
		g := G.NewGraph()
		n := []*G.Node{G.NodeFromAny(g, x, G.WithName("x")), G.NodeFromAny(g, gm, G.WithName("g")), G.NodeFromAny(g, bt, G.WithName("b"))}
		y, err := build(n, &Fold{})
		if err != nil {
			t.Fatal(name, err)
		}
		wrt := n[:1]
		if name == "BatchNormFold" {
			wrt = n
		}
		if _, err := G.Grad(G.Must(G.Sum(y)), wrt...); err != nil {
			t.Fatal(name, err)
		}
		vm := G.NewTapeMachine(g)
		err = vm.RunAll()
		vm.Close()
		if err == nil || !strings.Contains(err.Error(), ErrOrder.Error()) {
			t.Errorf("%s: backward without the quantizer: %v, want ErrOrder", name, err)
		}
	}
}
