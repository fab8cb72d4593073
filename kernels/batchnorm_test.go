package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func newStats(dt tensor.Dtype, c int) *BNStats {
	s := &BNStats{Mean: tensor.New(tensor.Of(dt), tensor.WithShape(c)), Var: tensor.New(tensor.Of(dt), tensor.WithShape(c)),
		Momentum: 0.1, Eps: 1e-5}
	if dt == tensor.Float32 {
		for i := range s.Var.Data().([]float32) {
			s.Var.Data().([]float32)[i] = 1
		}
	} else {
		for i := range s.Var.Data().([]float64) {
			s.Var.Data().([]float64)[i] = 1
		}
	}
	return s
}

func TestBatchNormHandWorked(t *testing.T) {
	// One channel, x = 1, 3 (image 0) and 5, 7 (image 1): mean 4, biased
	// variance (9+1+1+9)/4 = 5, unbiased 20/3. With ε = 0, γ = 2, β = 1:
	// y = 2·(x − 4)/√5 + 1. Running: mean 0.9·0 + 0.1·4 = 0.4, variance
	// 0.9·1 + 0.1·20/3 = 1.5666….
	x := tensor.New(tensor.WithShape(2, 1, 1, 2), tensor.WithBacking([]float64{1, 3, 5, 7}))
	gm := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{2}))
	bt := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{1}))
	st := newStats(tensor.Float64, 1)
	st.Eps = 0
	g := G.NewGraph()
	xn := G.NodeFromAny(g, x, G.WithName("x"))
	y, err := BatchNorm(xn, G.NodeFromAny(g, gm, G.WithName("g")), G.NodeFromAny(g, bt, G.WithName("b")), st, true)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	r5 := math.Sqrt(5)
	closeTo(t, "y", y.Value().(*tensor.Dense), []float64{1 - 6/r5, 1 - 2/r5, 1 + 2/r5, 1 + 6/r5}, []int{2, 1, 1, 2}, 1e-15)
	closeTo(t, "running mean", st.Mean, []float64{0.4}, []int{1}, 1e-15)
	closeTo(t, "running var", st.Var, []float64{0.9 + 2.0/3}, []int{1}, 1e-15)

	// Frozen: the running statistics normalise and stay.
	st.Frozen = true
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	sd := math.Sqrt(0.9 + 2.0/3)
	want := make([]float64, 4)
	for i, v := range []float64{1, 3, 5, 7} {
		want[i] = 2*(v-0.4)/sd + 1
	}
	closeTo(t, "frozen y", y.Value().(*tensor.Dense), want, []int{2, 1, 1, 2}, 1e-15)
	closeTo(t, "frozen running mean", st.Mean, []float64{0.4}, []int{1}, 1e-15)

	// An evaluation graph sharing the statistics normalises with them too.
	st.Frozen = false
	ge := G.NewGraph()
	ye, err := BatchNorm(G.NodeFromAny(ge, x, G.WithName("x")), G.NodeFromAny(ge, gm, G.WithName("g")), G.NodeFromAny(ge, bt, G.WithName("b")), st, false)
	if err != nil {
		t.Fatal(err)
	}
	vme := G.NewTapeMachine(ge)
	defer vme.Close()
	if err := vme.RunAll(); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "eval y", ye.Value().(*tensor.Dense), want, []int{2, 1, 1, 2}, 1e-15)
	closeTo(t, "eval running mean", st.Mean, []float64{0.4}, []int{1}, 1e-15)
}

// refBN is the two-pass float64 batch norm, and the running statistics it
// leaves.
func refBN(x, gamma, beta, rm, rv []float64, xs []int, batch bool, mom, eps float64) (y, nrm, nrv []float64) {
	n, c := xs[0], xs[1]
	inner := len(x) / (n * c)
	y = make([]float64, len(x))
	nrm, nrv = append([]float64(nil), rm...), append([]float64(nil), rv...)
	for j := 0; j < c; j++ {
		mu, vr := rm[j], rv[j]
		if batch {
			m := float64(n * inner)
			var s float64
			for b := 0; b < n; b++ {
				for _, v := range x[(b*c+j)*inner : (b*c+j+1)*inner] {
					s += v
				}
			}
			mu = s / m
			var q float64
			for b := 0; b < n; b++ {
				for _, v := range x[(b*c+j)*inner : (b*c+j+1)*inner] {
					q += (v - mu) * (v - mu)
				}
			}
			vr = q / m
			nrm[j] = (1-mom)*rm[j] + mom*mu
			nrv[j] = (1-mom)*rv[j] + mom*q/(m-1)
		}
		for b := 0; b < n; b++ {
			for i := (b*c + j) * inner; i < (b*c+j+1)*inner; i++ {
				y[i] = gamma[j]*(x[i]-mu)/math.Sqrt(vr+eps) + beta[j]
			}
		}
	}
	return y, nrm, nrv
}

var bnShapes = [][]int{{2, 3, 4, 5}, {4, 2, 1, 1}, {3, 5, 7, 7}, {64, 8, 12, 12}, {5, 4, 17}}

func TestBatchNormForward(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, xs := range bnShapes {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			for _, batch := range []bool{true, false} {
				for _, offset := range []float64{0, 1000} {
					c := xs[1]
					x := randTensor(r, dt, xs...)
					xv := asF64(x)
					// A mean far from 0 (offset) is where one-pass sums
					// of x and x² would lose the variance in float32.
					for i := range xv {
						xv[i] = xv[i]*3 + offset
					}
					x = toDtype(xv, dt, xs)
					gm, bt := randTensor(r, dt, c), randTensor(r, dt, c)
					st := newStats(dt, c)
					rmv := asF64(randTensor(r, tensor.Float64, c))
					rvv := asF64(randTensor(r, tensor.Float64, c))
					for i := range rvv {
						rmv[i] += offset
						rvv[i] = rvv[i]*rvv[i] + 0.5
					}
					st.Mean, st.Var = toDtype(rmv, dt, []int{c}), toDtype(rvv, dt, []int{c})
					want, wrm, wrv := refBN(asF64(x), asF64(gm), asF64(bt), asF64(st.Mean), asF64(st.Var), xs, batch, 0.1, 1e-5)
					got := run1(t, []*tensor.Dense{x, gm, bt}, func(n []*G.Node) (*G.Node, error) { return BatchNorm(n[0], n[1], n[2], st, batch) })
					// y = a·x + (β − μ·a), as PyTorch computes it, rounds
					// to about |x|·|a|·ulp.
					tol := 1e-12 * (1 + offset/100)
					if dt == tensor.Float32 {
						tol = 2e-5 * (1 + offset/100)
					}
					name := fmt.Sprintf("%v %v batch=%v offset=%v", xs, dt, batch, offset)
					closeTo(t, name, got, want, xs, tol)
					closeTo(t, name+" running mean", st.Mean, wrm, []int{c}, tol)
					closeTo(t, name+" running var", st.Var, wrv, []int{c}, tol)
				}
			}
		}
	}
}

func toDtype(v []float64, dt tensor.Dtype, shape []int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	f := make([]float32, len(v))
	for i, e := range v {
		f[i] = float32(e)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// run1 is run with a single forward: the batch norm's running statistics
// move at every run.
func run1(t *testing.T, ins []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) *tensor.Dense {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(ins))
	for i, v := range ins {
		nodes[i] = G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i)))
	}
	y, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return y.Value().(*tensor.Dense)
}

func TestBatchNormGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	for _, xs := range [][]int{{2, 3, 4, 5}, {4, 2, 1, 1}, {3, 2, 9}} {
		for _, batch := range []bool{true, false} {
			c := xs[1]
			ins := []*tensor.Dense{randTensor(r, tensor.Float64, xs...), randTensor(r, tensor.Float64, c), randTensor(r, tensor.Float64, c)}
			st := newStats(tensor.Float64, c)
			build := func(n []*G.Node) (*G.Node, error) { return BatchNorm(n[0], n[1], n[2], st, batch) }
			gradCheck(t, fmt.Sprint(xs, " batch=", batch), ins, build)
			// float32 (the vector loops) against float64
			st32, st64 := newStats(tensor.Float32, c), newStats(tensor.Float64, c)
			g64 := grads(t, ins, func(n []*G.Node) (*G.Node, error) { return BatchNorm(n[0], n[1], n[2], st64, batch) })
			g32 := grads(t, to32(ins), func(n []*G.Node) (*G.Node, error) { return BatchNorm(n[0], n[1], n[2], st32, batch) })
			for i := range g64 {
				closeTo(t, fmt.Sprint(xs, " batch=", batch, " float32 d/d input ", i), g32[i], asF64(g64[i]), g64[i].Shape(), 1e-4)
			}
		}
	}
}

func TestBatchNormErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 4), G.WithName("x"))
	v3 := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("v3"))
	v2 := G.NewVector(g, tensor.Float32, G.WithShape(2), G.WithName("v2"))
	v64 := G.NewVector(g, tensor.Float64, G.WithShape(3), G.WithName("v64"))
	s := newStats(tensor.Float32, 3)
	if _, err := BatchNorm(x, v2, v3, s, true); !errors.Is(err, ErrShape) {
		t.Errorf("γ of 2 channels: %v, want ErrShape", err)
	}
	if _, err := BatchNorm(x, v3, v3, newStats(tensor.Float32, 2), true); !errors.Is(err, ErrShape) {
		t.Errorf("statistics of 2 channels: %v, want ErrShape", err)
	}
	if _, err := BatchNorm(x, v3, v3, nil, true); !errors.Is(err, ErrShape) {
		t.Errorf("no statistics: %v, want ErrShape", err)
	}
	if _, err := BatchNorm(x, v64, v3, s, true); !errors.Is(err, ErrDtype) {
		t.Errorf("float64 γ: %v, want ErrDtype", err)
	}
	if _, err := BatchNorm(x, v3, v3, newStats(tensor.Float64, 3), true); !errors.Is(err, ErrDtype) {
		t.Errorf("float64 statistics: %v, want ErrDtype", err)
	}
}

// TestInvertedResidualGradient checks a whole MobileNetV2 inverted residual
// block built from this package's ops against numeric gradients (float64):
// 1×1 expansion, BN, ReLU6, depthwise 3×3, BN, ReLU6, 1×1 projection, BN,
// the residual Add, then global average pooling and a linear head.
func TestInvertedResidualGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	const n, c, e, hw = 3, 2, 6, 5
	ins := []*tensor.Dense{
		randTensor(r, tensor.Float64, n, c, hw, hw),
		randTensor(r, tensor.Float64, e, c, 1, 1), // expansion
		randTensor(r, tensor.Float64, e, 1, 3, 3), // depthwise
		randTensor(r, tensor.Float64, c, e, 1, 1), // projection
		randTensor(r, tensor.Float64, e),          // γ1
		randTensor(r, tensor.Float64, c),          // β3
		randTensor(r, tensor.Float64, 4, c),       // head
	}
	// An activation within the numeric step (1e-6) of a ReLU6 kink would
	// spoil the check; with these seeds none is.
	bn := func(x, g, b *G.Node, ch int) (*G.Node, error) {
		return BatchNorm(x, g, b, newStats(tensor.Float64, ch), true)
	}
	build := func(v []*G.Node) (*G.Node, error) {
		g := v[0].Graph()
		ones := func(ch int, name string) *G.Node {
			return G.NewVector(g, tensor.Float64, G.WithShape(ch), G.WithName(name), G.WithInit(G.Ones()))
		}
		zeros := func(ch int, name string) *G.Node {
			return G.NewVector(g, tensor.Float64, G.WithShape(ch), G.WithName(name), G.WithInit(G.Zeroes()))
		}
		h, err := Conv2d(v[0], v[1], nil, ConvParams{})
		if err == nil {
			h, err = bn(h, v[4], zeros(e, "b1"), e)
		}
		if err == nil {
			h, err = ReLU6(h)
		}
		if err == nil {
			h, err = Conv2d(h, v[2], nil, ConvParams{Pad: [2]int{1, 1}, Groups: e})
		}
		if err == nil {
			h, err = bn(h, ones(e, "g2"), zeros(e, "b2"), e)
		}
		if err == nil {
			h, err = ReLU6(h)
		}
		if err == nil {
			h, err = Conv2d(h, v[3], nil, ConvParams{})
		}
		if err == nil {
			h, err = bn(h, ones(c, "g3"), v[5], c)
		}
		if err == nil {
			h, err = Add(v[0], h)
		}
		if err == nil {
			h, err = GlobalAvgPool(h)
		}
		if err == nil {
			h, err = Linear(h, v[6], nil)
		}
		return h, err
	}
	gradCheck(t, "inverted residual", ins, build)
}

// TestBatchNormAddAct: the batch norm with the residual sum and its clamp
// in one op gives the forward and every gradient (x, γ, β, r) of BatchNorm
// followed by Add (hi = 0) or AddAct, bit for bit, on planes the per-plane
// loops take (≥ 256 values) and planes bnPlanes takes, a tail of fewer than
// 8 values, batch and running statistics, float32 and float64; and matches
// numeric gradients in float64.
func TestBatchNormAddAct(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, xs := range [][]int{{3, 4, 16, 17}, {2, 4, 17, 17}, {4, 6, 5, 5}, {2, 3, 9}} {
		c := xs[1]
		for _, batch := range []bool{true, false} {
			for _, hi := range []float64{0, math.Inf(1), 6} {
				name := fmt.Sprint(xs, " batch=", batch, " hi=", hi)
				ins := []*tensor.Dense{randTensor(r, tensor.Float64, xs...), randTensor(r, tensor.Float64, c), randTensor(r, tensor.Float64, c), randTensor(r, tensor.Float64, xs...)}
				for i, v := range ins[1].Data().([]float64) {
					ins[1].Data().([]float64)[i] = 2 * v // outputs beyond 6
				}
				for _, in := range [][]*tensor.Dense{ins, to32(ins)} {
					dt := in[0].Dtype()
					var stF, stP *BNStats = newStats(dt, c), newStats(dt, c)
					fused := func(n []*G.Node) (*G.Node, error) {
						return BatchNormAddAct(n[0], n[1], n[2], n[3], stF, batch, hi)
					}
					plain := func(n []*G.Node) (*G.Node, error) {
						y, err := BatchNorm(n[0], n[1], n[2], stP, batch)
						if err != nil {
							return nil, err
						}
						if hi > 0 {
							return AddAct(y, n[3], hi, nil)
						}
						return Add(y, n[3])
					}
					what := fmt.Sprint(name, " ", dt)
					closeTo(t, what+" forward", run1(t, in, fused), asF64(run1(t, in, plain)), xs, 0)
					gf, gp := grads(t, in, fused), grads(t, in, plain)
					for i := range gp {
						closeTo(t, fmt.Sprint(what, " d/d input ", i), gf[i], asF64(gp[i]), gp[i].Shape(), 0)
					}
					if dt == tensor.Float32 {
						// the running statistics moved alike
						if !slices.Equal(stF.Mean.Data().([]float32), stP.Mean.Data().([]float32)) || !slices.Equal(stF.Var.Data().([]float32), stP.Var.Data().([]float32)) {
							t.Fatalf("%s: running statistics differ", what)
						}
					}
				}
				if hi == 0 {
					st := newStats(tensor.Float64, c)
					gradCheck(t, name+" numeric", ins, func(n []*G.Node) (*G.Node, error) {
						return BatchNormAddAct(n[0], n[1], n[2], n[3], st, batch, hi)
					})
				}
			}
		}
	}
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 4), G.WithName("x"))
	gm := G.NewTensor(g, tensor.Float32, 1, G.WithShape(3), G.WithName("gamma"))
	bt := G.NewTensor(g, tensor.Float32, 1, G.WithShape(3), G.WithName("beta"))
	st := newStats(tensor.Float32, 3)
	for _, bad := range []*G.Node{nil, G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 4, 5), G.WithName("r1")), G.NewTensor(g, tensor.Float64, 4, G.WithShape(2, 3, 4, 4), G.WithName("r2"))} {
		if _, err := BatchNormAddAct(x, gm, bt, bad, st, true, 0); !errors.Is(err, ErrShape) && !errors.Is(err, ErrDtype) {
			t.Errorf("residual %v: err = %v, want ErrShape or ErrDtype", bad, err)
		}
	}
}
