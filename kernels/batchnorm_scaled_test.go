package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestBatchNormScaledHandWorked(t *testing.T) {
	// x = 2, 6, 10, 14 divided by 2 is TestBatchNormHandWorked's 1, 3, 5, 7:
	// y = 2·(x/2 − 4)/√5 + 1 and the running statistics of x/2.
	x := tensor.New(tensor.WithShape(2, 1, 1, 2), tensor.WithBacking([]float64{2, 6, 10, 14}))
	gm := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{2}))
	bt := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
	sc := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{2}))
	st := newStats(tensor.Float64, 1)
	st.Eps = 0
	y := run1(t, []*tensor.Dense{x, gm, bt, sc}, func(n []*G.Node) (*G.Node, error) {
		return BatchNormScaled(n[0], n[1], n[2], n[3], st, true)
	})
	r5 := math.Sqrt(5)
	closeTo(t, "y", y, []float64{1 - 6/r5, 1 - 2/r5, 1 + 2/r5, 1 + 6/r5}, []int{2, 1, 1, 2}, 1e-15)
	closeTo(t, "running mean", st.Mean, []float64{0.4}, []int{1}, 1e-15)
	closeTo(t, "running var", st.Var, []float64{0.9 + 2.0/3}, []int{1}, 1e-15)
}

// scaledInputs returns x, γ, β and a scale of magnitude 0.5 to 1.5 with
// either sign.
func scaledInputs(r *rand.Rand, xs []int) []*tensor.Dense {
	c := xs[1]
	s := make([]float64, c)
	for i := range s {
		s[i] = 0.5 + r.Float64()
		if i%2 == 1 {
			s[i] = -s[i]
		}
	}
	return []*tensor.Dense{randTensor(r, tensor.Float64, xs...), randTensor(r, tensor.Float64, c), randTensor(r, tensor.Float64, c),
		tensor.New(tensor.WithShape(c), tensor.WithBacking(s))}
}

// divided is x/scale per channel, computed apart from the op.
func divided(x, s *tensor.Dense) *tensor.Dense {
	xs := x.Shape()
	c, inner := xs[1], xs.TotalSize()/(xs[0]*xs[1])
	xd, sd := x.Data().([]float64), s.Data().([]float64)
	z := make([]float64, len(xd))
	for i, v := range xd {
		z[i] = v / sd[(i/inner)%c]
	}
	return tensor.New(tensor.WithShape(xs...), tensor.WithBacking(z))
}

// TestBatchNormScaledIsComposition: the fused op equals BatchNorm of x/s in
// output, running statistics and the gradients (dx = dz/s), and its
// gradients (d scale included) pass the numeric check, float64 and float32.
func TestBatchNormScaledIsComposition(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, xs := range [][]int{{2, 3, 4, 5}, {4, 2, 1, 1}, {3, 2, 9}} {
		for _, batch := range []bool{true, false} {
			name := fmt.Sprint(xs, " batch=", batch)
			c := xs[1]
			ins := scaledInputs(r, xs)
			z := divided(ins[0], ins[3])
			stF, stP := newStats(tensor.Float64, c), newStats(tensor.Float64, c)
			yf := run1(t, ins, func(n []*G.Node) (*G.Node, error) { return BatchNormScaled(n[0], n[1], n[2], n[3], stF, batch) })
			yp := run1(t, []*tensor.Dense{z, ins[1], ins[2]}, func(n []*G.Node) (*G.Node, error) { return BatchNorm(n[0], n[1], n[2], stP, batch) })
			closeTo(t, name+" y", yf, asF64(yp), xs, 1e-12)
			closeTo(t, name+" running mean", stF.Mean, asF64(stP.Mean), []int{c}, 1e-12)
			closeTo(t, name+" running var", stF.Var, asF64(stP.Var), []int{c}, 1e-12)

			gf := grads(t, ins, func(n []*G.Node) (*G.Node, error) {
				return BatchNormScaled(n[0], n[1], n[2], n[3], newStats(tensor.Float64, c), batch)
			})
			gp := grads(t, []*tensor.Dense{z, ins[1], ins[2]}, func(n []*G.Node) (*G.Node, error) {
				return BatchNorm(n[0], n[1], n[2], newStats(tensor.Float64, c), batch)
			})
			closeTo(t, name+" dx·s", divided(gp[0], ins[3]), asF64(gf[0]), xs, 1e-12)
			closeTo(t, name+" dγ", gf[1], asF64(gp[1]), []int{c}, 1e-12)
			closeTo(t, name+" dβ", gf[2], asF64(gp[2]), []int{c}, 1e-12)

			// A large ε makes d scale of the batch mode (∝ ε) well above
			// the numeric check's noise.
			st := newStats(tensor.Float64, c)
			st.Eps = 0.3
			gradCheck(t, name, ins, func(n []*G.Node) (*G.Node, error) { return BatchNormScaled(n[0], n[1], n[2], n[3], st, batch) })

			st32, st64 := newStats(tensor.Float32, c), newStats(tensor.Float64, c)
			st32.Eps, st64.Eps = 0.3, 0.3
			g64 := grads(t, ins, func(n []*G.Node) (*G.Node, error) { return BatchNormScaled(n[0], n[1], n[2], n[3], st64, batch) })
			g32 := grads(t, to32(ins), func(n []*G.Node) (*G.Node, error) { return BatchNormScaled(n[0], n[1], n[2], n[3], st32, batch) })
			for i := range g64 {
				closeTo(t, fmt.Sprint(name, " float32 d/d input ", i), g32[i], asF64(g64[i]), g64[i].Shape(), 1e-4)
			}
		}
	}
}

func TestBatchNormScaledErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 4), G.WithName("x"))
	v3 := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("v3"))
	v2 := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("v2"))
	v64 := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("v64"))
	s := newStats(tensor.Float32, 3)
	if _, err := BatchNormScaled(x, v3, v3, v2, s, true); !errors.Is(err, ErrShape) {
		t.Errorf("scale of 2 channels: %v, want ErrShape", err)
	}
	if _, err := BatchNormScaled(x, v3, v3, v64, s, true); !errors.Is(err, ErrDtype) {
		t.Errorf("float64 scale: %v, want ErrDtype", err)
	}
	if _, err := BatchNormScaled(x, v2, v3, v3, s, true); !errors.Is(err, ErrShape) {
		t.Errorf("γ of 2 channels: %v, want ErrShape", err)
	}
}

// TestBatchNormAct: the fused clamp equals BatchNorm(Scaled) followed by
// ReLU or ReLU6 bit for bit, output and every gradient, float32 and float64.
func TestBatchNormAct(t *testing.T) {
	r := rand.New(rand.NewPCG(59, 60))
	for _, xs := range [][]int{{2, 3, 4, 5}, {4, 2, 1, 1}, {3, 2, 40}} {
		for _, batch := range []bool{true, false} {
			for _, hi := range []float64{math.Inf(1), 6} {
				for _, scaled := range []bool{false, true} {
					name := fmt.Sprint(xs, " batch=", batch, " hi=", hi, " scaled=", scaled)
					c := xs[1]
					ins := scaledInputs(r, xs)
					for i, g := range ins[1].Data().([]float64) {
						ins[1].Data().([]float64)[i] = 8 * g // outputs beyond 6
					}
					if !scaled {
						ins = ins[:3]
					}
					for _, in := range [][]*tensor.Dense{ins, to32(ins)} {
						dt := in[0].Dtype()
						fused := func(n []*G.Node) (*G.Node, error) {
							var s *G.Node
							if scaled {
								s = n[3]
							}
							return BatchNormAct(n[0], n[1], n[2], s, newStats(dt, c), batch, hi)
						}
						plain := func(n []*G.Node) (*G.Node, error) {
							var y *G.Node
							var err error
							if scaled {
								y, err = BatchNormScaled(n[0], n[1], n[2], n[3], newStats(dt, c), batch)
							} else {
								y, err = BatchNorm(n[0], n[1], n[2], newStats(dt, c), batch)
							}
							if err != nil {
								return nil, err
							}
							if math.IsInf(hi, 1) {
								return ReLU(y)
							}
							return ReLU6(y)
						}
						yf, yp := run1(t, in, fused), run1(t, in, plain)
						closeTo(t, fmt.Sprint(name, " ", dt, " y"), yf, asF64(yp), xs, 0)
						gf, gp := grads(t, in, fused), grads(t, in, plain)
						for i := range gp {
							closeTo(t, fmt.Sprint(name, " ", dt, " d/d input ", i), gf[i], asF64(gp[i]), gp[i].Shape(), 0)
						}
					}
				}
			}
		}
	}
}
