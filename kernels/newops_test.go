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

func TestDepthwiseHandWorked(t *testing.T) {
	// Channel 0: x = [1 2 3; 4 5 6; 7 8 9] under a 3×3 box of ones, padding
	// 1: each output is the sum of its neighbourhood. Channel 1: x = 1
	// everywhere, w = 2 at the centre, b = −1: y = 1 everywhere.
	x := tensor.New(tensor.WithShape(1, 2, 3, 3), tensor.WithBacking([]float32{
		1, 2, 3, 4, 5, 6, 7, 8, 9,
		1, 1, 1, 1, 1, 1, 1, 1, 1}))
	w := tensor.New(tensor.WithShape(2, 1, 3, 3), tensor.WithBacking([]float32{
		1, 1, 1, 1, 1, 1, 1, 1, 1,
		0, 0, 0, 0, 2, 0, 0, 0, 0}))
	b := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{0, -1}))
	for _, c := range []struct {
		stride int
		want   []float64
		shape  []int
	}{
		{1, []float64{12, 21, 16, 27, 45, 33, 24, 39, 28, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 2, 3, 3}},
		// stride 2 keeps the corners
		{2, []float64{12, 16, 24, 28, 1, 1, 1, 1}, []int{1, 2, 2, 2}},
	} {
		got := run(t, []*tensor.Dense{x, w, b}, func(n []*G.Node) (*G.Node, error) {
			p := ConvParams{Stride: [2]int{c.stride, c.stride}, Pad: [2]int{1, 1}, Groups: 2}
			return Conv2d(n[0], n[1], n[2], p)
		})
		closeTo(t, fmt.Sprint("stride ", c.stride), got, c.want, c.shape, 0)
	}
}

// TestDepthwiseIsDirect checks that groups = channels runs the direct
// kernel and other group counts the GEMM path.
func TestDepthwiseIsDirect(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 4, 5, 5), G.WithName("x"))
	for _, c := range []struct {
		ws     []int
		groups int
		op     string
	}{
		{[]int{4, 1, 3, 3}, 4, "kernels.DepthwiseConv2d"},
		{[]int{8, 1, 3, 3}, 4, "kernels.DepthwiseConv2d"},
		{[]int{4, 2, 3, 3}, 2, "kernels.Conv2d"},
		{[]int{4, 4, 3, 3}, 1, "kernels.Conv2d"},
	} {
		w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(c.ws...), G.WithInit(G.Zeroes()))
		y, err := Conv2d(x, w, nil, ConvParams{Groups: c.groups})
		if err != nil {
			t.Fatal(err)
		}
		if y.Op().String() != c.op {
			t.Errorf("w %v groups %d: op %s, want %s", c.ws, c.groups, y.Op(), c.op)
		}
	}
}

// TestConv2dGradFloat32 compares the float32 gradients (the fast kernels)
// with the float64 ones on the same data, for every conv case.
func TestConv2dGradFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, c := range convCases {
		ins64 := []*tensor.Dense{randTensor(r, tensor.Float64, c.xs...), randTensor(r, tensor.Float64, c.ws...)}
		if c.bias {
			ins64 = append(ins64, randTensor(r, tensor.Float64, c.ws[0]))
		}
		build := func(n []*G.Node) (*G.Node, error) {
			var bn *G.Node
			if c.bias {
				bn = n[2]
			}
			return Conv2d(n[0], n[1], bn, c.p)
		}
		g64 := grads(t, ins64, build)
		g32 := grads(t, to32(ins64), build)
		for i := range g64 {
			closeTo(t, fmt.Sprintf("%s: d/d input %d", c.name, i), g32[i], asF64(g64[i]), g64[i].Shape(), 1e-4)
		}
	}
}

func to32(ins []*tensor.Dense) []*tensor.Dense {
	out := make([]*tensor.Dense, len(ins))
	for i, d := range ins {
		s := d.Data().([]float64)
		f := make([]float32, len(s))
		for j, v := range s {
			f[j] = float32(v)
		}
		out[i] = tensor.New(tensor.WithShape(d.Shape()...), tensor.WithBacking(f))
	}
	return out
}

// grads returns the gradients of Σ y⊙R (R = 1, 2, 3, … scaled) with
// respect to every input, after two runs (the second reuses the buffers).
func grads(t *testing.T, ins []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) []*tensor.Dense {
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
	n := y.Shape().TotalSize()
	var rv any
	if y.Dtype() == tensor.Float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i%7-3) / 3
		}
		rv = s
	} else {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(float32(i%7-3) / 3)
		}
		rv = s
	}
	rn := G.NodeFromAny(g, tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(rv)), G.WithName("R"))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
	gs, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for range 2 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]*tensor.Dense, len(gs))
	for i, gn := range gs {
		out[i] = gn.Value().(*tensor.Dense).Clone().(*tensor.Dense)
	}
	return out
}

func TestGlobalAvgPool(t *testing.T) {
	// Planes [1 2; 3 4] and [5 6; 7 9]: means 2.5 and 6.75.
	x := tensor.New(tensor.WithShape(1, 2, 2, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 9}))
	got := run(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
	closeTo(t, "hand", got, []float64{2.5, 6.75}, []int{1, 2}, 0)

	// Gradient of Σ y⊙R with R = (4, 8) (grads uses R = −1, −2/3 for the
	// first two outputs): dx = R/4 on each plane.
	g := grads(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
	r0, r1 := float64(float32(-3)/3)/4, float64(float32(-2)/3)/4
	closeTo(t, "hand grad", g[0], []float64{r0, r0, r0, r0, r1, r1, r1, r1}, []int{1, 2, 2, 2}, 1e-15)

	r := rand.New(rand.NewPCG(33, 34))
	for _, xs := range [][]int{{2, 3, 4, 5}, {3, 2, 1, 1}, {4, 5, 7, 7}, {70, 4, 13, 11}} {
		x := randTensor(r, tensor.Float64, xs...)
		want := make([]float64, xs[0]*xs[1])
		hw := xs[2] * xs[3]
		for p := range want {
			for _, v := range asF64(x)[p*hw : (p+1)*hw] {
				want[p] += v
			}
			want[p] /= float64(hw)
		}
		got := run(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
		closeTo(t, fmt.Sprint(xs), got, want, xs[:2], 1e-12)
		got32 := run(t, to32([]*tensor.Dense{x}), func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
		closeTo(t, fmt.Sprint(xs, " float32"), got32, want, xs[:2], 1e-5)
		gradCheck(t, fmt.Sprint("gap", xs), []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) })
	}
}

func TestReLU6(t *testing.T) {
	nan := math.NaN()
	x := []float64{-1, 0, 0.5, 6, 7, nan, 5.999, 1e-7, -0.0}
	wantY := []float64{0, 0, 0.5, 6, 6, nan, 5.999, 1e-7, 0}
	wantG := []float64{0, 0, 1, 0, 0, 0, 1, 1, 0}
	// Long enough for full vectors and a tail in the float32 SIMD loops.
	for len(x) < 40 {
		x, wantY, wantG = append(x, x[:9]...), append(wantY, wantY[:9]...), append(wantG, wantG[:9]...)
	}
	dy := make([]float64, len(x))
	for i := range dy {
		dy[i] = float64(i + 1)
		wantG[i] *= dy[i]
	}
	y64, g64 := make([]float64, len(x)), make([]float64, len(x))
	clampTo(y64, x, 6)
	clampGrad(g64, x, dy, 6)
	x32, dy32 := make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x32[i], dy32[i] = float32(x[i]), float32(dy[i])
	}
	y32, g32 := make([]float32, len(x)), make([]float32, len(x))
	clampTo(y32, x32, 6)
	clampGrad(g32, x32, dy32, 6)
	for i := range x {
		for _, got := range []float64{y64[i], float64(y32[i])} {
			if got != float64(float32(wantY[i])) && got != wantY[i] && !(math.IsNaN(got) && math.IsNaN(wantY[i])) {
				t.Errorf("relu6(%v) = %v, want %v", x[i], got, wantY[i])
			}
		}
		if g64[i] != wantG[i] || float64(g32[i]) != wantG[i] {
			t.Errorf("relu6 grad at %v: %v, %v, want %v", x[i], g64[i], g32[i], wantG[i])
		}
	}

	// Numeric gradients away from the kinks at 0 and 6.
	r := rand.New(rand.NewPCG(35, 36))
	xs := make([]float64, 3*4*5)
	for i := range xs {
		for {
			xs[i] = r.Float64()*10 - 2
			if math.Abs(xs[i]) > 1e-3 && math.Abs(xs[i]-6) > 1e-3 {
				break
			}
		}
	}
	xt := tensor.New(tensor.WithShape(3, 4, 5), tensor.WithBacking(xs))
	gradCheck(t, "relu6", []*tensor.Dense{xt}, func(n []*G.Node) (*G.Node, error) { return ReLU6(n[0]) })
	// A large tensor takes the two-goroutine path.
	big := randTensor(r, tensor.Float32, 4, 64, 16, 16)
	bs := big.Data().([]float32)
	for i := range bs {
		bs[i] *= 8
	}
	want := make([]float64, len(bs))
	for i, v := range bs {
		want[i] = float64(min(max(v, 0), 6))
	}
	got := run(t, []*tensor.Dense{big}, func(n []*G.Node) (*G.Node, error) { return ReLU6(n[0]) })
	closeTo(t, "big", got, want, []int{4, 64, 16, 16}, 0)
}

func TestAdd(t *testing.T) {
	a := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4}))
	b := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{10, -2, 0.5, 0}))
	got := run(t, []*tensor.Dense{a, b}, func(n []*G.Node) (*G.Node, error) { return Add(n[0], n[1]) })
	closeTo(t, "hand", got, []float64{11, 0, 3.5, 4}, []int{2, 2}, 0)

	r := rand.New(rand.NewPCG(37, 38))
	ins := []*tensor.Dense{randTensor(r, tensor.Float64, 2, 3, 4, 4), randTensor(r, tensor.Float64, 2, 3, 4, 4)}
	gradCheck(t, "add", ins, func(n []*G.Node) (*G.Node, error) { return Add(n[0], n[1]) })
	// A residual block's shape: y = x + conv(x), so x gets two gradients.
	w := randTensor(r, tensor.Float64, 3, 3, 3, 3)
	gradCheck(t, "residual", []*tensor.Dense{ins[0], w}, func(n []*G.Node) (*G.Node, error) {
		c, err := Conv2d(n[0], n[1], nil, ConvParams{Pad: [2]int{1, 1}})
		if err != nil {
			return nil, err
		}
		return Add(n[0], c)
	})
	// gorgonia's own Add in the same residual graph agrees.
	gradCheck(t, "G.Add residual", []*tensor.Dense{ins[0], w}, func(n []*G.Node) (*G.Node, error) {
		c, err := Conv2d(n[0], n[1], nil, ConvParams{Pad: [2]int{1, 1}})
		if err != nil {
			return nil, err
		}
		return G.Add(n[0], c)
	})
	// x + x: gradient 2.
	gradCheck(t, "x+x", ins[:1], func(n []*G.Node) (*G.Node, error) { return Add(n[0], n[0]) })
}

func TestConcatChannels(t *testing.T) {
	// Image 0 of a (1 channel) then of b (2 channels), then image 1 of each.
	a := tensor.New(tensor.WithShape(2, 1, 1, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	b := tensor.New(tensor.WithShape(2, 2, 1, 2), tensor.WithBacking([]float64{5, 6, 7, 8, 9, 10, 11, 12}))
	got := run(t, []*tensor.Dense{a, b}, func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n[0], n[1]) })
	closeTo(t, "hand", got, []float64{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, []int{2, 3, 1, 2}, 0)

	r := rand.New(rand.NewPCG(39, 40))
	ins := []*tensor.Dense{randTensor(r, tensor.Float64, 2, 3, 4, 5), randTensor(r, tensor.Float64, 2, 1, 4, 5), randTensor(r, tensor.Float64, 2, 2, 4, 5)}
	gradCheck(t, "concat3", ins, func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n...) })
	// gorgonia's own Concat along axis 1 agrees, forward and backward.
	want := run(t, ins, func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n...) })
	gotG := run(t, ins, func(n []*G.Node) (*G.Node, error) { return G.Concat(1, n...) })
	closeTo(t, "G.Concat", gotG, asF64(want), want.Shape(), 0)
	gradCheck(t, "G.Concat", ins, func(n []*G.Node) (*G.Node, error) { return G.Concat(1, n...) })
	// float32 agrees with float64
	g64 := grads(t, ins, func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n...) })
	g32 := grads(t, to32(ins), func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n...) })
	for i := range g64 {
		closeTo(t, fmt.Sprint("float32 grad ", i), g32[i], asF64(g64[i]), g64[i].Shape(), 1e-7)
	}
}

func TestNewOpErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 4, 8, 8), G.WithName("x"))
	y := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 4, 7, 8), G.WithName("y"))
	x64 := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 4, 8, 8), G.WithName("x64"))
	m := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 5), G.WithName("m"))
	w := func(s ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, 4, G.WithShape(s...), G.WithInit(G.Zeroes()))
	}
	for i, f := range []func() error{
		func() error { _, err := Conv2d(x, w(4, 1, 3, 3), nil, ConvParams{Groups: 3}); return err },  // 3 ∤ 4
		func() error { _, err := Conv2d(x, w(6, 2, 3, 3), nil, ConvParams{Groups: 4}); return err },  // 4 ∤ 6
		func() error { _, err := Conv2d(x, w(4, 2, 3, 3), nil, ConvParams{Groups: 4}); return err },  // 4·2 ≠ 4
		func() error { _, err := Conv2d(x, w(4, 1, 3, 3), nil, ConvParams{Groups: -1}); return err }, // negative
		func() error { _, err := Conv2d(x, w(4, 1, 9, 9), nil, ConvParams{Groups: 4}); return err },  // too small
		func() error { _, err := GlobalAvgPool(m); return err },
		func() error { _, err := Add(x, y); return err },
		func() error { _, err := ConcatChannels(x, y); return err },
		func() error { _, err := ConcatChannels(); return err },
		func() error { _, err := ConcatChannels(x, m); return err },
	} {
		if err := f(); !errors.Is(err, ErrShape) {
			t.Errorf("case %d: error %v, want ErrShape", i, err)
		}
	}
	if _, err := Add(x, x64); !errors.Is(err, ErrDtype) {
		t.Errorf("Add of mixed dtypes: %v, want ErrDtype", err)
	}
	if _, err := ConcatChannels(x, x64); !errors.Is(err, ErrDtype) {
		t.Errorf("ConcatChannels of mixed dtypes: %v, want ErrDtype", err)
	}
}

// TestDepthwiseMatchesGEMM checks the direct depthwise kernel against the
// grouped GEMM path, float32 (the fast loops) forward and gradients.
func TestDepthwiseMatchesGEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, c := range convCases {
		if c.p.Groups < 2 || c.ws[1] != 1 {
			continue
		}
		ins := []*tensor.Dense{randTensor(r, tensor.Float32, c.xs...), randTensor(r, tensor.Float32, c.ws...)}
		if c.bias {
			ins = append(ins, randTensor(r, tensor.Float32, c.ws[0]))
		}
		build := func(direct bool) func(n []*G.Node) (*G.Node, error) {
			return func(n []*G.Node) (*G.Node, error) {
				var bn *G.Node
				if c.bias {
					bn = n[2]
				}
				return conv2d(n[0], n[1], bn, c.p, direct)
			}
		}
		yd, yg := run(t, ins, build(true)), run(t, ins, build(false))
		closeTo(t, c.name+" forward", yd, asF64(yg), yg.Shape(), 1e-5)
		gd, gg := grads(t, ins, build(true)), grads(t, ins, build(false))
		for i := range gd {
			closeTo(t, fmt.Sprintf("%s: d/d input %d", c.name, i), gd[i], asF64(gg[i]), gg[i].Shape(), 1e-5)
		}
	}
}

func TestReLU(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	x := []float64{-1, 0, 0.5, 6, 7, nan, inf, math.Inf(-1), 1e-30}
	wantY := []float64{0, 0, 0.5, 6, 7, nan, inf, 0, 1e-30}
	wantG := []float64{0, 0, 1, 1, 1, 0, 1, 0, 1}
	for len(x) < 40 {
		x, wantY, wantG = append(x, x[:9]...), append(wantY, wantY[:9]...), append(wantG, wantG[:9]...)
	}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		xt := toDtype(x, dt, []int{len(x)})
		dy := toDtype(wantG, dt, []int{len(x)}) // dy = 1 where it passes
		for i := range asF64(dy) {
			if dt == tensor.Float32 {
				dy.Data().([]float32)[i] = float32(i + 1)
			} else {
				dy.Data().([]float64)[i] = float64(i + 1)
			}
		}
		y := toDtype(make([]float64, len(x)), dt, []int{len(x)})
		g := toDtype(make([]float64, len(x)), dt, []int{len(x)})
		if dt == tensor.Float32 {
			clampTo(y.Data().([]float32), xt.Data().([]float32), float32(inf))
			clampGrad(g.Data().([]float32), xt.Data().([]float32), dy.Data().([]float32), float32(inf))
		} else {
			clampTo(y.Data().([]float64), xt.Data().([]float64), inf)
			clampGrad(g.Data().([]float64), xt.Data().([]float64), dy.Data().([]float64), inf)
		}
		for i, got := range asF64(y) {
			if got != wantY[i] && !(math.IsNaN(got) && math.IsNaN(wantY[i])) && got != float64(float32(wantY[i])) {
				t.Errorf("%v relu(%v) = %v, want %v", dt, x[i], got, wantY[i])
			}
			if gg := asF64(g)[i]; gg != wantG[i]*float64(i+1) {
				t.Errorf("%v relu grad at %v: %v, want %v", dt, x[i], gg, wantG[i]*float64(i+1))
			}
		}
	}
	// gorgonia's Rectify agrees away from 0, forward and backward.
	r := rand.New(rand.NewPCG(43, 44))
	in := randTensor(r, tensor.Float64, 4, 5, 6)
	gradCheck(t, "relu", []*tensor.Dense{in}, func(n []*G.Node) (*G.Node, error) { return ReLU(n[0]) })
	want := grads(t, []*tensor.Dense{in}, func(n []*G.Node) (*G.Node, error) { return G.Rectify(n[0]) })
	got := grads(t, []*tensor.Dense{in}, func(n []*G.Node) (*G.Node, error) { return ReLU(n[0]) })
	closeTo(t, "relu vs G.Rectify grad", got[0], asF64(want[0]), []int{4, 5, 6}, 0)
}

// TestDeint2 checks the stride-2 row (de)interleaving of the float32 kernels
// (vector loops in the AVX-512 build) against the generic loops, for every
// row length up to 70, with guard elements after each destination.
func TestDeint2(t *testing.T) {
	kr := dwKernelsFor[float32]()
	for n := 1; n <= 70; n++ {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i + 1)
		}
		ne, no := (n+1)/2, n/2
		e, o := make([]float32, ne+17), make([]float32, no+17)
		kr.deint2(e, o, src)
		for i := 0; i < ne+17; i++ {
			want := float32(0)
			if i < ne {
				want = float32(2*i + 1)
			}
			if e[i] != want {
				t.Fatalf("n=%d: e[%d] = %v, want %v", n, i, e[i], want)
			}
		}
		for i := 0; i < no+17; i++ {
			want := float32(0)
			if i < no {
				want = float32(2*i + 2)
			}
			if o[i] != want {
				t.Fatalf("n=%d: o[%d] = %v, want %v", n, i, o[i], want)
			}
		}
		dst := make([]float32, n+17)
		kr.inter2(dst[:n], e, o)
		for i := range dst {
			want := float32(0)
			if i < n {
				want = src[i]
			}
			if dst[i] != want {
				t.Fatalf("n=%d: inter2 dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
	}
}
