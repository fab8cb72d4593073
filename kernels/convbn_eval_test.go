package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestConv2dBNEval: the convolution with the evaluation batch norm applied
// per image equals Conv2d followed by BatchNormAct with running statistics,
// bit for bit, on the implicit-im2col, im2col, 1×1, grouped and depthwise
// paths, with and without conv bias, divided by a scale or not, without a
// clamp, with ReLU and with ReLU6, in float32 and float64.
func TestConv2dBNEval(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	type geo struct {
		c, o, k, groups int
		p               ConvParams
	}
	geos := []geo{
		{4, 6, 3, 1, ConvParams{Pad: [2]int{1, 1}}},
		{4, 6, 3, 1, ConvParams{Pad: [2]int{1, 1}, Stride: [2]int{2, 2}}},
		{4, 6, 1, 1, ConvParams{}},
		{4, 6, 3, 2, ConvParams{Pad: [2]int{1, 1}}},
		{4, 8, 3, 4, ConvParams{Pad: [2]int{1, 1}}}, // depthwise, multiplier 2
	}
	randT := func(scale, offset float64, shape ...int) *tensor.Dense {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = offset + scale*r.NormFloat64()
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	for gi, g := range geos {
		for _, bias := range []bool{false, true} {
			for _, scaled := range []bool{false, true} {
				for _, hi := range []float64{0, math.Inf(1), 6} {
					name := fmt.Sprint("geometry ", gi, " bias=", bias, " scaled=", scaled, " hi=", hi)
					p := g.p
					p.Groups = g.groups
					ins := []*tensor.Dense{randT(1, 0, 3, g.c, 7, 6), randT(0.5, 0, g.o, g.c/g.groups, g.k, g.k)}
					if bias {
						ins = append(ins, randT(1, 0, g.o))
					}
					ins = append(ins, randT(2, 0, g.o), randT(1, 0, g.o)) // γ (beyond 6 after the clamp), β
					if scaled {
						ins = append(ins, randT(0.3, 1, g.o))
					}
					for _, in := range [][]*tensor.Dense{ins, to32(ins)} {
						dt := in[0].Dtype()
						st := newStats(dt, g.o)
						for j := range g.o {
							m, v := r.NormFloat64()*0.5, 0.5+r.Float64()
							if dt == tensor.Float32 {
								st.Mean.Data().([]float32)[j], st.Var.Data().([]float32)[j] = float32(m), float32(v)
							} else {
								st.Mean.Data().([]float64)[j], st.Var.Data().([]float64)[j] = m, v
							}
						}
						split := func(n []*G.Node) (x, w, b, gm, bt, sc *G.Node) {
							x, w, rest := n[0], n[1], n[2:]
							if bias {
								b, rest = rest[0], rest[1:]
							}
							gm, bt = rest[0], rest[1]
							if scaled {
								sc = rest[2]
							}
							return
						}
						fused := func(n []*G.Node) (*G.Node, error) {
							x, w, b, gm, bt, sc := split(n)
							return Conv2dBNEval(x, w, b, gm, bt, sc, p, st, hi)
						}
						plain := func(n []*G.Node) (*G.Node, error) {
							x, w, b, gm, bt, sc := split(n)
							y, err := Conv2d(x, w, b, p)
							if err != nil {
								return nil, err
							}
							return BatchNormAct(y, gm, bt, sc, st, false, hi)
						}
						yf, yp := run1(t, in, fused), run1(t, in, plain)
						closeTo(t, fmt.Sprint(name, " ", dt), yf, asF64(yp), yp.Shape(), 0)
					}
				}
			}
		}
	}
}
