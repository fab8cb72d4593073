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

// TestConv2dBNEvalWinograd: Conv2dBNEval on F(4×4) planes, whose output
// transform applies the batch norm itself (rows mode, four-image quads,
// gathered tiles; planes of 8k values and planes whose per-plane pass
// would end in a masked tail), bit for bit the convolution followed by
// BatchNormAct, with and without bias, divided by a scale or not, without
// a clamp, with ReLU and with ReLU6, on one and two workers.
func TestConv2dBNEvalWinograd(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	for _, c := range []struct{ n, c, o, h, w int }{
		{3, 16, 16, 16, 16}, {2, 16, 24, 28, 28}, {5, 16, 16, 8, 8}, {6, 16, 16, 4, 4}, {3, 16, 16, 12, 12}, {5, 16, 16, 7, 7}, {2, 16, 16, 4, 14}, {3, 16, 32, 14, 14},
	} {
		for _, bias := range []bool{false, true} {
			for _, scaled := range []bool{false, true} {
				for _, hi := range []float64{0, math.Inf(1), 6} {
					for _, workers := range []int{1, 2} {
						p := ConvParams{Pad: [2]int{1, 1}, Workers: workers}
						ins := []*tensor.Dense{randTensor(r, tensor.Float64, c.n, c.c, c.h, c.w), randTensor(r, tensor.Float64, c.o, c.c, 3, 3)}
						ins = append(ins, randTensor(r, tensor.Float64, c.o), randTensor(r, tensor.Float64, c.o), randTensor(r, tensor.Float64, c.o), randTensor(r, tensor.Float64, c.o))
						for i, v := range ins[5].Data().([]float64) {
							ins[5].Data().([]float64)[i] = 1 + 0.3*v
						}
						in := to32(ins)
						st := newStats(tensor.Float32, c.o)
						for j := range c.o {
							st.Mean.Data().([]float32)[j], st.Var.Data().([]float32)[j] = float32(r.NormFloat64()*0.5), float32(0.5+r.Float64())
						}
						opt := func(n []*G.Node) (b, sc *G.Node) {
							if bias {
								b = n[4]
							}
							if scaled {
								sc = n[5]
							}
							return
						}
						fused := func(n []*G.Node) (*G.Node, error) {
							b, sc := opt(n)
							return Conv2dBNEval(n[0], n[1], b, n[2], n[3], sc, p, st, hi)
						}
						plain := func(n []*G.Node) (*G.Node, error) {
							b, sc := opt(n)
							y, err := Conv2d(n[0], n[1], b, p)
							if err != nil {
								return nil, err
							}
							return BatchNormAct(y, n[2], n[3], sc, st, false, hi)
						}
						yf, yp := run1(t, in, fused), run1(t, in, plain)
						closeTo(t, fmt.Sprint(c, " bias=", bias, " scaled=", scaled, " hi=", hi, " workers=", workers), yf, asF64(yp), yp.Shape(), 0)
					}
				}
			}
		}
	}
}

// TestConv2dWeightsChangedBetweenRuns: a convolution keeps its packed (and
// Winograd-transformed) weights from run to run while their bits stay the
// same; a weight changed in place between two runs of one graph must give
// a fresh graph's output, bit for bit, on the Winograd, implicit-im2col and
// stride-2 paths, and changing it back the first output.
func TestConv2dWeightsChangedBetweenRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	for _, c := range []struct {
		name string
		c, o int
		p    ConvParams
	}{
		{"winograd", 16, 16, ConvParams{Pad: [2]int{1, 1}}},
		{"implicit", 3, 8, ConvParams{Pad: [2]int{1, 1}}},
		{"stride 2", 8, 8, ConvParams{Pad: [2]int{1, 1}, Stride: [2]int{2, 2}}},
	} {
		x := to32([]*tensor.Dense{randTensor(r, tensor.Float64, 2, c.c, 9, 10)})[0]
		w := to32([]*tensor.Dense{randTensor(r, tensor.Float64, c.o, c.c, 3, 3)})[0]
		build := func(n []*G.Node) (*G.Node, error) { return Conv2d(n[0], n[1], nil, c.p) }
		g := G.NewGraph()
		xn := G.NodeFromAny(g, x, G.WithName("x"))
		wn := G.NodeFromAny(g, w, G.WithName("w"))
		y, err := build([]*G.Node{xn, wn})
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		run := func() []float32 {
			vm.Reset()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), y.Value().(*tensor.Dense).Data().([]float32)...)
		}
		same := func(what string, got, want []float32) {
			t.Helper()
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: %s: y[%d] = %v, want %v", c.name, what, i, got[i], want[i])
				}
			}
		}
		y1 := run()
		same("first run", y1, run1(t, []*tensor.Dense{x, w}, build).Data().([]float32))
		same("second run, same weights", run(), y1)
		wd := w.Data().([]float32)
		old := wd[5]
		wd[5] += 0.75
		fresh := run1(t, []*tensor.Dense{x, w}, build).Data().([]float32)
		y2 := run()
		same("weight changed in place", y2, fresh)
		wd[5] = old
		same("weight changed back", run(), y1)
		vm.Close()
	}
}

// TestConv2dBNAddEval: the convolution with the evaluation batch norm, the
// residual sum and its activation applied per image equals Conv2dBNEval
// without activation followed by Add or AddAct, bit for bit, on the
// Winograd F(2×2) and F(4×4) (rows and four-image quads), stride-2,
// implicit-im2col, im2col and batched 1×1 paths, in float32 and float64.
func TestConv2dBNAddEval(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	for _, c := range []struct {
		name       string
		n, c, o, k int
		h, w       int
		p          ConvParams
	}{
		{"winograd 16×16", 3, 16, 16, 3, 16, 16, ConvParams{Pad: [2]int{1, 1}}},
		{"winograd 8×8 quads", 5, 16, 16, 3, 8, 8, ConvParams{Pad: [2]int{1, 1}}},
		{"winograd 7×6", 2, 16, 24, 3, 7, 6, ConvParams{Pad: [2]int{1, 1}}},
		{"winograd F(2×2) 6×5", 3, 16, 16, 3, 6, 5, ConvParams{Pad: [2]int{1, 1}}},
		{"stride 2", 3, 8, 16, 3, 8, 10, ConvParams{Pad: [2]int{1, 1}, Stride: [2]int{2, 2}}},
		{"implicit", 2, 3, 8, 3, 9, 7, ConvParams{Pad: [2]int{1, 1}}},
		{"im2col 5×5", 2, 4, 6, 5, 9, 8, ConvParams{Pad: [2]int{2, 2}, Stride: [2]int{2, 1}}},
		{"1×1", 6, 8, 12, 1, 5, 4, ConvParams{}},
		{"1×1 stride 2", 3, 8, 12, 1, 8, 8, ConvParams{Stride: [2]int{2, 2}}},
	} {
		oh := (c.h+2*c.p.Pad[0]-c.k)/max(c.p.Stride[0], 1) + 1
		ow := (c.w+2*c.p.Pad[1]-c.k)/max(c.p.Stride[1], 1) + 1
		for _, bias := range []bool{false, true} {
			for _, hi := range []float64{0, math.Inf(1), 6} {
				ins := []*tensor.Dense{randTensor(r, tensor.Float64, c.n, c.c, c.h, c.w), randTensor(r, tensor.Float64, c.o, c.c, c.k, c.k)}
				ins = append(ins, randTensor(r, tensor.Float64, c.o), randTensor(r, tensor.Float64, c.o), randTensor(r, tensor.Float64, c.n, c.o, oh, ow))
				if bias {
					ins = append(ins, randTensor(r, tensor.Float64, c.o))
				}
				for _, in := range [][]*tensor.Dense{ins, to32(ins)} {
					dt := in[0].Dtype()
					st := newStats(dt, c.o)
					for j := range c.o {
						m, v := r.NormFloat64()*0.5, 0.5+r.Float64()
						if dt == tensor.Float32 {
							st.Mean.Data().([]float32)[j], st.Var.Data().([]float32)[j] = float32(m), float32(v)
						} else {
							st.Mean.Data().([]float64)[j], st.Var.Data().([]float64)[j] = m, v
						}
					}
					b := func(n []*G.Node) *G.Node {
						if bias {
							return n[5]
						}
						return nil
					}
					fused := func(n []*G.Node) (*G.Node, error) {
						return Conv2dBNAddEval(n[0], n[1], b(n), n[2], n[3], nil, n[4], c.p, st, hi)
					}
					plain := func(n []*G.Node) (*G.Node, error) {
						y, err := Conv2dBNEval(n[0], n[1], b(n), n[2], n[3], nil, c.p, st, 0)
						if err != nil {
							return nil, err
						}
						if hi > 0 {
							return AddAct(y, n[4], hi, nil)
						}
						return Add(y, n[4])
					}
					yf, yp := run1(t, in, fused), run1(t, in, plain)
					closeTo(t, fmt.Sprint(c.name, " bias=", bias, " hi=", hi, " ", dt), yf, asF64(yp), yp.Shape(), 0)
				}
			}
		}
	}
}

// TestConv2dBNAddEvalErrors: a residual of another shape or dtype, or on a
// grouped convolution, is refused when the graph is built.
func TestConv2dBNAddEvalErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 4, 6, 6), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(8, 4, 3, 3), G.WithName("w"))
	wg := G.NewTensor(g, tensor.Float32, 4, G.WithShape(8, 2, 3, 3), G.WithName("wg"))
	gm := G.NewTensor(g, tensor.Float32, 1, G.WithShape(8), G.WithName("gamma"))
	bt := G.NewTensor(g, tensor.Float32, 1, G.WithShape(8), G.WithName("beta"))
	st := newStats(tensor.Float32, 8)
	p := ConvParams{Pad: [2]int{1, 1}}
	for _, c := range []struct {
		name string
		w, r *G.Node
		p    ConvParams
	}{
		{"nil residual", w, nil, p},
		{"residual shape", w, G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 8, 5, 6), G.WithName("r1")), p},
		{"residual dtype", w, G.NewTensor(g, tensor.Float64, 4, G.WithShape(2, 8, 6, 6), G.WithName("r2")), p},
		{"grouped", wg, G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 8, 6, 6), G.WithName("r3")), ConvParams{Pad: [2]int{1, 1}, Groups: 2}},
	} {
		if _, err := Conv2dBNAddEval(x, c.w, nil, gm, bt, nil, c.r, c.p, st, 0); !errors.Is(err, ErrShape) && !errors.Is(err, ErrDtype) {
			t.Errorf("%s: err = %v, want ErrShape or ErrDtype", c.name, err)
		}
	}
}
