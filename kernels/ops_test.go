package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randTensor(r *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float32 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(randSlice(r, n)))
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
}

func asF64(d *tensor.Dense) []float64 {
	switch s := d.Data().(type) {
	case []float64:
		return s
	case []float32:
		o := make([]float64, len(s))
		for i, v := range s {
			o[i] = float64(v)
		}
		return o
	}
	panic("unexpected dtype")
}

// refConv is direct convolution: for every output, the sum over the taps
// of its group's input channels.
func refConv(x, w, b []float64, xs, ws []int, p ConvParams) ([]float64, []int) {
	p = p.norm()
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	o, kh, kw := ws[0], ws[2], ws[3]
	groups, cg := p.Groups, ws[1] // input channels per group
	oh := (h+2*p.Pad[0]-p.Dilation[0]*(kh-1)-1)/p.Stride[0] + 1
	ow := (wd+2*p.Pad[1]-p.Dilation[1]*(kw-1)-1)/p.Stride[1] + 1
	y := make([]float64, n*o*oh*ow)
	for in := 0; in < n; in++ {
		for oc := 0; oc < o; oc++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s := 0.0
					if b != nil {
						s = b[oc]
					}
					for icl := 0; icl < cg; icl++ {
						ic := oc/(o/groups)*cg + icl
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								iy := oy*p.Stride[0] - p.Pad[0] + i*p.Dilation[0]
								ix := ox*p.Stride[1] - p.Pad[1] + j*p.Dilation[1]
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += x[((in*c+ic)*h+iy)*wd+ix] * w[((oc*cg+icl)*kh+i)*kw+j]
							}
						}
					}
					y[((in*o+oc)*oh+oy)*ow+ox] = s
				}
			}
		}
	}
	return y, []int{n, o, oh, ow}
}

// refPool is direct max pooling with −∞ padding, first maximum wins.
func refPool(x []float64, xs []int, k, s, p [2]int) ([]float64, []int) {
	n, c, h, w := xs[0], xs[1], xs[2], xs[3]
	oh := (h+2*p[0]-k[0])/s[0] + 1
	ow := (w+2*p[1]-k[1])/s[1] + 1
	y := make([]float64, n*c*oh*ow)
	for pl := 0; pl < n*c; pl++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				best := math.Inf(-1)
				for i := 0; i < k[0]; i++ {
					for j := 0; j < k[1]; j++ {
						iy, ix := oy*s[0]-p[0]+i, ox*s[1]-p[1]+j
						if iy >= 0 && iy < h && ix >= 0 && ix < w && x[(pl*h+iy)*w+ix] > best {
							best = x[(pl*h+iy)*w+ix]
						}
					}
				}
				y[(pl*oh+oy)*ow+ox] = best
			}
		}
	}
	return y, []int{n, c, oh, ow}
}

// run builds a graph of the given inputs, runs it twice (the second run
// reuses every buffer) and returns the output.
func run(t *testing.T, ins []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) *tensor.Dense {
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
	for range 2 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	return y.Value().(*tensor.Dense)
}

func closeTo(t *testing.T, what string, got *tensor.Dense, want []float64, shape []int, tol float64) {
	t.Helper()
	if !got.Shape().Eq(tensor.Shape(shape)) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	g := asF64(got)
	for i := range want {
		if math.Abs(g[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, g[i], want[i])
		}
	}
}

type convCase struct {
	name   string
	xs, ws []int
	p      ConvParams
	bias   bool
}

var convCases = []convCase{
	{"lenet1", []int{2, 1, 28, 28}, []int{20, 1, 5, 5}, ConvParams{}, true},
	{"lenet2", []int{2, 20, 12, 12}, []int{50, 20, 5, 5}, ConvParams{}, true},
	{"valid3x3tail", []int{2, 3, 8, 11}, []int{4, 3, 3, 3}, ConvParams{}, false},
	// unpadded stride 1 (segment plans of segpack.go where the CPU has them)
	{"validgroups2", []int{3, 6, 7, 9}, []int{4, 3, 3, 2}, ConvParams{Groups: 2, Workers: 2}, true},
	{"validdilated", []int{2, 2, 10, 11}, []int{3, 2, 3, 3}, ConvParams{Dilation: [2]int{2, 2}}, false},
	{"validrowstride2", []int{1, 2, 9, 10}, []int{3, 2, 3, 2}, ConvParams{Stride: [2]int{2, 1}}, true},
	{"stride2pad1", []int{2, 3, 9, 7}, []int{5, 3, 3, 3}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, true},
	{"dilation", []int{1, 2, 10, 9}, []int{3, 2, 3, 2}, ConvParams{Dilation: [2]int{2, 3}, Pad: [2]int{2, 0}}, false},
	{"nonsquare", []int{3, 2, 6, 11}, []int{4, 2, 2, 4}, ConvParams{Stride: [2]int{1, 3}, Pad: [2]int{0, 2}}, true},
	{"1x1", []int{2, 6, 4, 5}, []int{7, 6, 1, 1}, ConvParams{}, true},
	{"1x1stride", []int{1, 3, 5, 5}, []int{2, 3, 1, 1}, ConvParams{Stride: [2]int{2, 2}}, false},
	// stride 2 on even planes: the forward from phase-split planes (newStride2Plan)
	{"stride2pad1even", []int{3, 5, 10, 6}, []int{7, 5, 3, 3}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 1}, Workers: 2}, true},
	{"stride2pad1wide", []int{2, 16, 28, 28}, []int{32, 16, 3, 3}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 1}}, false},
	{"1x1workers", []int{9, 5, 3, 4}, []int{6, 5, 1, 1}, ConvParams{Workers: 2}, true},
	{"1x1dilated", []int{2, 3, 4, 4}, []int{4, 3, 1, 1}, ConvParams{Dilation: [2]int{2, 2}}, false},
	{"batch9workers2", []int{9, 2, 5, 6}, []int{3, 2, 3, 3}, ConvParams{Pad: [2]int{1, 0}, Workers: 2}, true},
	{"wideout", []int{1, 1, 3, 40}, []int{33, 1, 2, 2}, ConvParams{Pad: [2]int{1, 1}}, true},
	// stride 1, output as wide as the input: the implicit im2col of
	// shiftpack.go where the CPU has it
	{"same3x3", []int{2, 3, 9, 7}, []int{5, 3, 3, 3}, ConvParams{Pad: [2]int{1, 1}}, true},
	{"same3x3dil2", []int{2, 2, 8, 9}, []int{4, 2, 3, 3}, ConvParams{Pad: [2]int{2, 2}, Dilation: [2]int{2, 2}}, false},
	{"same1x3short", []int{2, 3, 5, 6}, []int{3, 3, 3, 3}, ConvParams{Pad: [2]int{0, 1}}, true},
	{"same3x3workers", []int{9, 4, 6, 6}, []int{6, 4, 3, 3}, ConvParams{Pad: [2]int{1, 1}, Workers: 2}, true},
	{"same3x3wide", []int{1, 2, 3, 40}, []int{3, 2, 3, 3}, ConvParams{Pad: [2]int{1, 1}}, false},
	// grouped; groups = channels with one input channel per filter runs the
	// depthwise kernel
	{"groups2", []int{2, 4, 6, 5}, []int{6, 2, 3, 3}, ConvParams{Pad: [2]int{1, 1}, Groups: 2}, true},
	{"groups3s2", []int{5, 6, 7, 7}, []int{3, 2, 3, 2}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 0}, Groups: 3}, false},
	{"groups2x1x1", []int{2, 4, 3, 3}, []int{4, 2, 1, 1}, ConvParams{Groups: 2}, true},
	{"dw3x3s1p1", []int{2, 3, 6, 6}, []int{3, 1, 3, 3}, ConvParams{Pad: [2]int{1, 1}, Groups: 3}, true},
	{"dw3x3s2p1", []int{2, 3, 7, 6}, []int{3, 1, 3, 3}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 1}, Groups: 3}, true},
	{"dw3x3s2p1even", []int{1, 2, 8, 8}, []int{2, 1, 3, 3}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{1, 1}, Groups: 2}, false},
	{"dwmult2", []int{2, 3, 5, 5}, []int{6, 1, 3, 3}, ConvParams{Pad: [2]int{1, 1}, Groups: 3}, true},
	{"dw1x1", []int{2, 4, 3, 4}, []int{4, 1, 1, 1}, ConvParams{Groups: 4}, true},
	{"dw1x1pad1", []int{2, 3, 4, 4}, []int{3, 1, 1, 1}, ConvParams{Pad: [2]int{1, 1}, Groups: 3}, false},
	{"dw3x3s1p2", []int{1, 2, 5, 6}, []int{2, 1, 3, 3}, ConvParams{Pad: [2]int{2, 1}, Groups: 2}, true},
	{"dwnonsquare", []int{3, 2, 6, 11}, []int{4, 1, 2, 4}, ConvParams{Stride: [2]int{1, 3}, Pad: [2]int{0, 2}, Groups: 2}, true},
	{"dwdilation", []int{1, 2, 10, 9}, []int{2, 1, 3, 2}, ConvParams{Dilation: [2]int{2, 3}, Pad: [2]int{2, 0}, Stride: [2]int{3, 2}, Groups: 2}, false},
	{"dw5x5s2p2workers", []int{9, 3, 9, 10}, []int{3, 1, 5, 5}, ConvParams{Stride: [2]int{2, 2}, Pad: [2]int{2, 2}, Groups: 3, Workers: 2}, true},
	{"dwwide", []int{1, 2, 3, 40}, []int{2, 1, 3, 3}, ConvParams{Pad: [2]int{1, 1}, Groups: 2}, true},
}

func TestConv2dForward(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range convCases {
			ins := []*tensor.Dense{randTensor(r, dt, c.xs...), randTensor(r, dt, c.ws...)}
			var b []float64
			if c.bias {
				ins = append(ins, randTensor(r, dt, c.ws[0]))
				b = asF64(ins[2])
			}
			want, shape := refConv(asF64(ins[0]), asF64(ins[1]), b, c.xs, c.ws, c.p)
			got := run(t, ins, func(n []*G.Node) (*G.Node, error) {
				var bn *G.Node
				if c.bias {
					bn = n[2]
				}
				return Conv2d(n[0], n[1], bn, c.p)
			})
			closeTo(t, fmt.Sprintf("%s/%v", c.name, dt), got, want, shape, 1e-4)
		}
	}
}

func TestConv2dHandWorked(t *testing.T) {
	// x = [1 2 3; 4 5 6; 7 8 9], w = [1 0; 0 −1], b = 10:
	// y = [1−5 2−6; 4−8 5−9] + 10 = [6 6; 6 6].
	x := tensor.New(tensor.WithShape(1, 1, 3, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6, 7, 8, 9}))
	w := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float32{1, 0, 0, -1}))
	b := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{10}))
	got := run(t, []*tensor.Dense{x, w, b}, func(n []*G.Node) (*G.Node, error) {
		return Conv2d(n[0], n[1], n[2], ConvParams{})
	})
	closeTo(t, "hand", got, []float64{6, 6, 6, 6}, []int{1, 1, 2, 2}, 0)
}

var poolCases = []struct {
	name    string
	xs      []int
	k, s, p [2]int
}{
	{"lenet", []int{2, 3, 8, 8}, [2]int{2, 2}, [2]int{2, 2}, [2]int{}},
	{"odd", []int{1, 2, 7, 5}, [2]int{2, 2}, [2]int{2, 2}, [2]int{}},
	{"overlap", []int{2, 2, 7, 6}, [2]int{3, 3}, [2]int{2, 1}, [2]int{}},
	{"padded", []int{1, 3, 5, 6}, [2]int{3, 2}, [2]int{2, 2}, [2]int{1, 1}},
}

func TestMaxPool2dForward(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, c := range poolCases {
			x := randTensor(r, dt, c.xs...)
			want, shape := refPool(asF64(x), c.xs, c.k, c.s, c.p)
			got := run(t, []*tensor.Dense{x}, func(n []*G.Node) (*G.Node, error) {
				return MaxPool2d(n[0], c.k, c.s, c.p)
			})
			closeTo(t, c.name, got, want, shape, 0)
		}
	}
}

func TestMaxPool2dTies(t *testing.T) {
	// Window [3 3; 1 3]: the gradient goes to the first 3 only, as in PyTorch.
	x := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{3, 3, 1, 3}))
	g := G.NewGraph()
	xn := G.NodeFromAny(g, x, G.WithName("x"))
	y, err := MaxPool2d(xn, [2]int{2, 2}, [2]int{2, 2}, [2]int{})
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(y))
	grads, err := G.Grad(loss, xn)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "tie grad", grads[0].Value().(*tensor.Dense), []float64{1, 0, 0, 0}, []int{1, 1, 2, 2}, 0)
}

func TestLinearForward(t *testing.T) {
	// x = [1 2], W = [[1 0]; [1 1]; [0 −1]], b = [0.5 0 1]: y = [1.5 3 −1].
	x := tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float32{1, 2}))
	w := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 0, 1, 1, 0, -1}))
	b := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{0.5, 0, 1}))
	got := run(t, []*tensor.Dense{x, w, b}, func(n []*G.Node) (*G.Node, error) { return Linear(n[0], n[1], n[2]) })
	closeTo(t, "hand", got, []float64{1.5, 3, -1}, []int{1, 3}, 0)

	r := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{64, 800, 500}, {64, 500, 10}, {3, 7, 5}} {
		n, in, out := sz[0], sz[1], sz[2]
		xs, ws, bs := randTensor(r, tensor.Float32, n, in), randTensor(r, tensor.Float32, out, in), randTensor(r, tensor.Float32, out)
		want := make([]float64, n*out)
		xv, wv, bv := asF64(xs), asF64(ws), asF64(bs)
		for i := 0; i < n; i++ {
			for o := 0; o < out; o++ {
				s := bv[o]
				for k := 0; k < in; k++ {
					s += xv[i*in+k] * wv[o*in+k]
				}
				want[i*out+o] = s
			}
		}
		got := run(t, []*tensor.Dense{xs, ws, bs}, func(n []*G.Node) (*G.Node, error) { return Linear(n[0], n[1], n[2]) })
		closeTo(t, fmt.Sprint(sz), got, want, []int{n, out}, 1e-4)
	}
}

// gradCheck compares the gradients gorgonia computes through the op against
// central differences of loss = Σ y⊙R (R fixed random), in float64, for
// every input (all elements up to 40 per input, else 40 random ones).
func gradCheck(t *testing.T, name string, ins []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) {
	t.Helper()
	r := rand.New(rand.NewPCG(13, 14))
	g := G.NewGraph()
	nodes := make([]*G.Node, len(ins))
	for i, v := range ins {
		nodes[i] = G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i)))
	}
	y, err := build(nodes)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rn := G.NodeFromAny(g, randTensor(r, tensor.Float64, y.Shape()...), G.WithName("R"))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ana := make([][]float64, len(ins))
	for i, gn := range grads {
		ana[i] = append([]float64(nil), gn.Value().Data().([]float64)...)
	}
	eval := func() float64 {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return loss.Value().Data().(float64)
	}
	const h = 1e-6
	for i, in := range ins {
		data := in.Data().([]float64)
		idx := r.Perm(len(data))
		if len(idx) > 40 {
			idx = idx[:40]
		}
		for _, j := range idx {
			orig := data[j]
			data[j] = orig + h
			lp := eval()
			data[j] = orig - h
			lm := eval()
			data[j] = orig
			num := (lp - lm) / (2 * h)
			if d := math.Abs(num - ana[i][j]); d > 1e-6+1e-5*math.Max(math.Abs(num), math.Abs(ana[i][j])) {
				t.Errorf("%s: d/d input %d [%d]: analytic %v, numeric %v", name, i, j, ana[i][j], num)
				return
			}
		}
	}
}

func TestConv2dGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range convCases {
		if c.name == "lenet2" {
			continue // covered in shape by the others; keeps the test fast
		}
		ins := []*tensor.Dense{randTensor(r, tensor.Float64, c.xs...), randTensor(r, tensor.Float64, c.ws...)}
		if c.bias {
			ins = append(ins, randTensor(r, tensor.Float64, c.ws[0]))
		}
		gradCheck(t, c.name, ins, func(n []*G.Node) (*G.Node, error) {
			var bn *G.Node
			if c.bias {
				bn = n[2]
			}
			return Conv2d(n[0], n[1], bn, c.p)
		})
	}
}

func TestNoInputGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	// x is data here: only w and b are differentiated, so no op may
	// compute dx.
	for _, c := range []struct {
		name, dxOp string
		ins        []*tensor.Dense
		build      func(x, w, b *G.Node) (*G.Node, error)
	}{
		{"conv", "kernels.Conv2dDx",
			[]*tensor.Dense{randTensor(r, tensor.Float64, 2, 1, 6, 6), randTensor(r, tensor.Float64, 3, 1, 3, 3), randTensor(r, tensor.Float64, 3)},
			func(x, w, b *G.Node) (*G.Node, error) { return Conv2d(x, w, b, ConvParams{NoInputGrad: true}) }},
		{"depthwise", "kernels.DepthwiseConv2dDx",
			[]*tensor.Dense{randTensor(r, tensor.Float64, 2, 3, 6, 6), randTensor(r, tensor.Float64, 3, 1, 3, 3), randTensor(r, tensor.Float64, 3)},
			func(x, w, b *G.Node) (*G.Node, error) {
				return Conv2d(x, w, b, ConvParams{Pad: [2]int{1, 1}, Groups: 3, NoInputGrad: true})
			}},
		{"linear", "kernels.LinearDx",
			[]*tensor.Dense{randTensor(r, tensor.Float64, 3, 5), randTensor(r, tensor.Float64, 4, 5), randTensor(r, tensor.Float64, 4)},
			func(x, w, b *G.Node) (*G.Node, error) { return LinearWith(x, w, b, LinearParams{NoInputGrad: true}) }},
	} {
		g := G.NewGraph()
		x := G.NodeFromAny(g, c.ins[0], G.WithName("x"))
		w := G.NodeFromAny(g, c.ins[1], G.WithName("w"))
		b := G.NodeFromAny(g, c.ins[2], G.WithName("b"))
		y, err := c.build(x, w, b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := G.Grad(G.Must(G.Sum(y)), w, b); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, n := range g.AllNodes() {
			if n.Op() != nil && n.Op().String() == c.dxOp {
				t.Fatalf("%s: NoInputGrad still built the input-gradient op", c.name)
			}
		}
		vm := G.NewTapeMachine(g)
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		vm.Close()
	}
}

func TestMaxPool2dGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range poolCases {
		gradCheck(t, c.name, []*tensor.Dense{randTensor(r, tensor.Float64, c.xs...)}, func(n []*G.Node) (*G.Node, error) {
			return MaxPool2d(n[0], c.k, c.s, c.p)
		})
	}
}

func TestLinearGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, sz := range [][3]int{{3, 7, 5}, {5, 4, 1}, {2, 40, 33}} {
		n, in, out := sz[0], sz[1], sz[2]
		ins := []*tensor.Dense{randTensor(r, tensor.Float64, n, in), randTensor(r, tensor.Float64, out, in), randTensor(r, tensor.Float64, out)}
		gradCheck(t, fmt.Sprint(sz), ins, func(n []*G.Node) (*G.Node, error) { return Linear(n[0], n[1], n[2]) })
		gradCheck(t, fmt.Sprint(sz, "nobias"), ins[:2], func(n []*G.Node) (*G.Node, error) { return Linear(n[0], n[1], nil) })
	}
}

func TestOpErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(1, 3, 8, 8), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 2, 3, 3), G.WithName("w"))
	w64 := G.NewTensor(g, tensor.Float64, 4, G.WithShape(2, 3, 3, 3), G.WithName("w64"))
	big := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 3, 9, 9), G.WithName("big"))
	m := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 5), G.WithName("m"))
	m6 := G.NewMatrix(g, tensor.Float32, G.WithShape(4, 6), G.WithName("m6"))
	for i, f := range []func() error{
		func() error { _, err := Conv2d(x, w, nil, ConvParams{}); return err },
		func() error { _, err := Conv2d(x, big, nil, ConvParams{}); return err },
		func() error { _, err := MaxPool2d(x, [2]int{9, 9}, [2]int{1, 1}, [2]int{}); return err },
		func() error { _, err := Linear(m, m6, nil); return err },
	} {
		if err := f(); !errors.Is(err, ErrShape) {
			t.Errorf("case %d: error %v, want ErrShape", i, err)
		}
	}
	if _, err := Conv2d(x, w64, nil, ConvParams{}); !errors.Is(err, ErrDtype) {
		t.Errorf("mixed dtypes: error %v, want ErrDtype", err)
	}
}

// TestIm2colFloat32 checks the float32 im2col and col2im (vector loops in
// the AVX-512 build) against the generic float64 code on every conv case.
func TestIm2colFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, c := range convCases {
		var st convState
		st.p = c.p.norm()
		g, err := st.geomFor(c.name, c.xs, c.ws)
		if err != nil {
			t.Fatal(err)
		}
		img := g.c * g.h * g.w
		x32, x64 := make([]float32, img), make([]float64, img)
		for i := range x32 {
			x32[i] = float32(r.Float64()*2 - 1)
			x64[i] = float64(x32[i])
		}
		rows, cols := g.rows(), g.cols()
		c32, c64 := make([]float32, rows*cols), make([]float64, rows*cols)
		for i := range c32 {
			c32[i] = 7 // stale values must be overwritten
		}
		im2col(c32, x32, g)
		im2col(c64, x64, g)
		for i := range c64 {
			if float64(c32[i]) != c64[i] {
				t.Fatalf("%s: im2col element %d = %v, want %v", c.name, i, c32[i], c64[i])
			}
		}
		// col2im adds into dx; start from a non-zero image.
		for i := range c32 {
			c32[i] = float32(r.Float64()*2 - 1)
			c64[i] = float64(c32[i])
		}
		d32, d64 := make([]float32, img), make([]float64, img)
		for i := range d32 {
			d32[i], d64[i] = 1, 1
		}
		col2im(d32, c32, g)
		col2im(d64, c64, g)
		for i := range d64 {
			if math.Abs(float64(d32[i])-d64[i]) > 1e-5 {
				t.Fatalf("%s: col2im element %d = %v, want %v", c.name, i, d32[i], d64[i])
			}
		}
	}
}

// TestSumBiasFloat32 checks the float32 bias gradient (vector loops in the
// AVX-512 build) against the generic float64 sum.
func TestSumBiasFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, s := range [][3]int{{3, 5, 1}, {64, 10, 1}, {2, 4, 16}, {2, 3, 37}, {4, 2, 7}, {64, 20, 576}} {
		outer, c, inner := s[0], s[1], s[2]
		dy32, dy64 := make([]float32, outer*c*inner), make([]float64, outer*c*inner)
		for i := range dy32 {
			dy32[i] = float32(r.Float64()*2 - 1)
			dy64[i] = float64(dy32[i])
		}
		db32, db64 := make([]float32, c), make([]float64, c)
		for i := range db32 {
			db32[i] = 5 // stale values must be overwritten
		}
		sumBias(db32, dy32, outer, inner)
		sumBias(db64, dy64, outer, inner)
		for i := range db64 {
			if math.Abs(float64(db32[i])-db64[i]) > 1e-5*float64(outer*inner) {
				t.Fatalf("%v: db[%d] = %v, want %v", s, i, db32[i], db64[i])
			}
		}
	}
}

// TestMaxPool2x2Float32 checks the float32 2×2 pool (vector passes in the
// AVX-512 assembly) against the generic float64 loop, values and argmax, on
// data full of ties (fake-quantized activations) and on random data.
func TestMaxPool2x2Float32(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, xs := range [][]int{{2, 20, 24, 24}, {3, 1, 6, 6}, {1, 2, 4, 2}, {2, 3, 2, 10}, {1, 2, 4, 70}} {
		for _, ties := range []bool{true, false} {
			n := tensor.Shape(xs).TotalSize()
			x32, x64 := make([]float32, n), make([]float64, n)
			for i := range x32 {
				if ties {
					x32[i] = float32(r.IntN(4)) * 0.5
				} else {
					x32[i] = float32(r.NormFloat64())
				}
				x64[i] = float64(x32[i])
			}
			os := tensor.Shape{xs[0], xs[1], xs[2] / 2, xs[3] / 2}
			st32 := &poolState{k: [2]int{2, 2}, s: [2]int{2, 2}, argmax: make([]int32, os.TotalSize())}
			st64 := &poolState{k: [2]int{2, 2}, s: [2]int{2, 2}, argmax: make([]int32, os.TotalSize())}
			y32, y64 := make([]float32, os.TotalSize()), make([]float64, os.TotalSize())
			poolForward(st32, x32, y32, nil, tensor.Shape(xs), os)
			poolForward(st64, x64, y64, nil, tensor.Shape(xs), os)
			for i := range y64 {
				if float64(y32[i]) != y64[i] || st32.argmax[i] != st64.argmax[i] {
					t.Fatalf("%v ties=%v: output %d = %v at %d, want %v at %d", xs, ties, i, y32[i], st32.argmax[i], y64[i], st64.argmax[i])
				}
			}
		}
	}
}

// TestMaxPoolSplitSameBits: the max pool split over the planes (2 cores)
// gives the outputs, maxima and gradients (plain and masked by a window) of
// one core, bit for bit: 2×2 pools whose split falls inside the vector
// pairs, and overlapping padded 3×3 windows.
func TestMaxPoolSplitSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(29, 30))
	for _, tc := range []struct {
		xs      tensor.Shape
		k, s, p int
	}{{tensor.Shape{3, 7, 40, 42}, 2, 2, 0}, {tensor.Shape{2, 19, 30, 30}, 3, 2, 1}} {
		n := tc.xs.TotalSize()
		x, pre := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(r.IntN(5)) * 0.5 // ties
			pre[i] = float32(r.NormFloat64())
		}
		run := func(procs int) (y []float32, am []int32, dx, dxm []float32) {
			runtime.GOMAXPROCS(procs)
			st := &poolState{k: [2]int{tc.k, tc.k}, s: [2]int{tc.s, tc.s}, p: [2]int{tc.p, tc.p}}
			os, err := st.outShape("test", tc.xs)
			if err != nil {
				t.Fatal(err)
			}
			st.argmax = make([]int32, os.TotalSize())
			y = make([]float32, os.TotalSize())
			poolForward(st, x, y, nil, tc.xs, os)
			dy := make([]float32, len(y))
			for i := range dy {
				dy[i] = float32(i%13) - 6
			}
			dx, dxm = make([]float32, n), make([]float32, n)
			poolScatter(st, tc.xs, st.argmax, dy, dx, nil, 0, 0)
			poolScatter(st, tc.xs, st.argmax, dy, dxm, pre, -0.5, 0.75)
			return y, st.argmax, dx, dxm
		}
		y1, am1, dx1, dxm1 := run(1)
		y2, am2, dx2, dxm2 := run(2)
		if n < parallelMin {
			t.Fatalf("%v: below parallelMin, not split", tc.xs)
		}
		if !sameBits32(y1, y2) || !slices.Equal(am1, am2) || !sameBits32(dx1, dx2) || !sameBits32(dxm1, dxm2) {
			t.Fatalf("%v k%d s%d p%d: the split pool differs from one core", tc.xs, tc.k, tc.s, tc.p)
		}
	}
}

// TestPointwiseBatchSameBits: a 1×1 convolution on small planes, whose
// forward and input-gradient GEMMs take several images' planes side by side
// (identBatch), gives every image the output, input gradient and weight
// gradient it gets alone, bit for bit: 4×4, 7×7 and 3×5 planes, odd batch
// sizes (a last group smaller than the others), bias, groups, 1 and 2 cores.
func TestPointwiseBatchSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ n, c, o, h, w, groups int }{
		{11, 24, 40, 4, 4, 1}, {7, 16, 32, 7, 7, 1}, {9, 12, 20, 3, 5, 2}, {16, 64, 96, 4, 4, 1},
	} {
		if identBatch(tc.h*tc.w) < 2 {
			t.Fatalf("%+v: planes of %d values are not batched", tc, tc.h*tc.w)
		}
		r := rand.New(rand.NewPCG(uint64(tc.n), 44))
		x := randTensor(r, tensor.Float32, tc.n, tc.c, tc.h, tc.w)
		wt := randTensor(r, tensor.Float32, tc.o, tc.c/tc.groups, 1, 1)
		bias := randTensor(r, tensor.Float32, tc.o)
		dy := randTensor(r, tensor.Float32, tc.n, tc.o, tc.h, tc.w)
		// run returns y, dx and dw of images lo..hi−1 as one batch.
		run := func(lo, hi int) (y, dx, dw []float32) {
			per, perY := tc.c*tc.h*tc.w, tc.o*tc.h*tc.w
			xs := tensor.New(tensor.WithShape(hi-lo, tc.c, tc.h, tc.w), tensor.WithBacking(append([]float32(nil), x.Data().([]float32)[lo*per:hi*per]...)))
			dys := tensor.New(tensor.WithShape(hi-lo, tc.o, tc.h, tc.w), tensor.WithBacking(append([]float32(nil), dy.Data().([]float32)[lo*perY:hi*perY]...)))
			g := G.NewGraph()
			xn, wn, bn := G.NodeFromAny(g, xs, G.WithName("x")), G.NodeFromAny(g, wt, G.WithName("w")), G.NodeFromAny(g, bias, G.WithName("b"))
			yn, err := conv2d(xn, wn, bn, ConvParams{Groups: tc.groups}, true)
			if err != nil {
				t.Fatal(err)
			}
			yv, err := yn.Op().Do(xs, wt, bias)
			if err != nil {
				t.Fatal(err)
			}
			back, err := yn.Op().(G.SDOp).SymDiff(G.Nodes{xn, wn, bn}, yn, G.NodeFromAny(g, dys, G.WithName("dy")))
			if err != nil {
				t.Fatal(err)
			}
			dxv, err := back[0].Op().Do(wt, dys)
			if err != nil {
				t.Fatal(err)
			}
			dwv, err := back[1].Op().Do(xs, dys)
			if err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), yv.Data().([]float32)...), append([]float32(nil), dxv.Data().([]float32)...), append([]float32(nil), dwv.Data().([]float32)...)
		}
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			y, dx, _ := run(0, tc.n)
			for i := range tc.n {
				yi, dxi, _ := run(i, i+1)
				per, perY := tc.c*tc.h*tc.w, tc.o*tc.h*tc.w
				if !sameBits32(y[i*perY:(i+1)*perY], yi) || !sameBits32(dx[i*per:(i+1)*per], dxi) {
					t.Fatalf("%+v, %d cores: image %d's output or input gradient differs in the batch", tc, procs, i)
				}
			}
		}
	}
}
