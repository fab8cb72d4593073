package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convSteps builds a convolution y = conv(x, w, b) and returns a function
// that runs its forward op and its backward ops once, by calling their Do
// directly with a fixed dy: the kernels' own cost, without the tape machine
// or a loss.
func convSteps(tb testing.TB, ins []*tensor.Dense, p ConvParams, direct bool) func() {
	tb.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(ins))
	for i, v := range ins {
		nodes[i] = G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i)))
	}
	y, err := conv2d(nodes[0], nodes[1], nodes[2], p, direct)
	if err != nil {
		tb.Fatal(err)
	}
	dy := randTensor(rand.New(rand.NewPCG(5, 6)), tensor.Float32, y.Shape()...)
	dyn := G.NodeFromAny(g, dy, G.WithName("dy"))
	fwd := y.Op()
	back, err := fwd.(G.SDOp).SymDiff(nodes, y, dyn)
	if err != nil {
		tb.Fatal(err)
	}
	args := func(op G.Op) []G.Value {
		switch op.(type) {
		case *convDxOp, *dwDxOp:
			return []G.Value{ins[1], dy}
		case *convDwOp, *dwDwOp:
			return []G.Value{ins[0], dy}
		}
		return []G.Value{dy}
	}
	return func() {
		if _, err := fwd.Do(ins[0], ins[1], ins[2]); err != nil {
			tb.Fatal(err)
		}
		for _, n := range back {
			if _, err := n.Op().Do(args(n.Op())...); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkDepthwise is a depthwise 3×3 convolution, forward + dX + dW (+
// bias grad) on MobileNetV2-sized float32 shapes: the direct kernel, the
// same convolution as one GEMM per group, and a dense 3×3 convolution of
// the same channels as the reference of an ordinary layer.
func BenchmarkDepthwise(b *testing.B) {
	for _, s := range []struct {
		name           string
		n, c, h, w, st int
	}{
		{"N64C96_14x14_s1", 64, 96, 14, 14, 1},
		{"N64C144_14x14_s2", 64, 144, 14, 14, 2},
		{"N64C32_28x28_s1", 64, 32, 28, 28, 1},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		x := randTensor(r, tensor.Float32, s.n, s.c, s.h, s.w)
		p := ConvParams{Stride: [2]int{s.st, s.st}, Pad: [2]int{1, 1}, Groups: s.c}
		flops := 2.0 * 3 * float64(s.n*s.c*9*outSize(s.h, 3, s.st, 1, 1)*outSize(s.w, 3, s.st, 1, 1))
		for _, v := range []struct {
			name   string
			ws     []int
			p      ConvParams
			direct bool
		}{
			{"direct", []int{s.c, 1, 3, 3}, p, true},
			{"gemm-groups", []int{s.c, 1, 3, 3}, p, false},
			{"dense", []int{s.c, s.c, 3, 3}, ConvParams{Stride: p.Stride, Pad: p.Pad}, true},
		} {
			b.Run(s.name+"/"+v.name, func(b *testing.B) {
				ins := []*tensor.Dense{x, randTensor(r, tensor.Float32, v.ws...), randTensor(r, tensor.Float32, v.ws[0])}
				step := convSteps(b, ins, v.p, v.direct)
				cpu := loopCPU(b, step)
				if v.name != "dense" {
					// per second of CPU time: the machine is shared
					b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
				}
			})
		}
	}
}

// BenchmarkEltwise is forward + backward of the small ops on a MobileNetV2
// block's activation (64×96×14×14 float32), kernels' ops against
// gorgonia's where gorgonia has one, each a whole tape-machine step with
// the loss Σ y⊙R ("loss-only" is that loss on the input itself, the
// baseline to subtract).
func BenchmarkEltwise(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	shape := []int{64, 96, 14, 14}
	half := []int{64, 48, 14, 14}
	for _, c := range []struct {
		name  string
		ins   [][]int
		build func(n []*G.Node) (*G.Node, error)
	}{
		{"loss-only", [][]int{shape}, func(n []*G.Node) (*G.Node, error) { return n[0], nil }},
		{"kernels.Add", [][]int{shape, shape}, func(n []*G.Node) (*G.Node, error) { return Add(n[0], n[1]) }},
		{"G.Add", [][]int{shape, shape}, func(n []*G.Node) (*G.Node, error) { return G.Add(n[0], n[1]) }},
		{"kernels.ConcatChannels", [][]int{half, half}, func(n []*G.Node) (*G.Node, error) { return ConcatChannels(n...) }},
		{"G.Concat", [][]int{half, half}, func(n []*G.Node) (*G.Node, error) { return G.Concat(1, n...) }},
		{"kernels.ReLU", [][]int{shape}, func(n []*G.Node) (*G.Node, error) { return ReLU(n[0]) }},
		{"kernels.ReLU6", [][]int{shape}, func(n []*G.Node) (*G.Node, error) { return ReLU6(n[0]) }},
		{"G.Rectify", [][]int{shape}, func(n []*G.Node) (*G.Node, error) { return G.Rectify(n[0]) }},
		{"kernels.GlobalAvgPool", [][]int{shape}, func(n []*G.Node) (*G.Node, error) { return GlobalAvgPool(n[0]) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			g := G.NewGraph()
			var nodes []*G.Node
			for i, s := range c.ins {
				nodes = append(nodes, G.NodeFromAny(g, randTensor(r, tensor.Float32, s...), G.WithName(fmt.Sprint("in", i))))
			}
			y, err := c.build(nodes)
			if err != nil {
				b.Fatal(err)
			}
			rn := G.NodeFromAny(g, randTensor(r, tensor.Float32, y.Shape()...), G.WithName("R"))
			loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
			if _, err := G.Grad(loss, nodes...); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			_ = loopCPU(b, func() {
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkBatchNorm is a batch norm's forward (batch statistics) and its
// gradients (dx, dγ, dβ), by calling the ops' Do directly, on vgg-small's
// four batch-norm shapes at batch 64 (float32); one op is one training
// step's batch norms.
func BenchmarkBatchNorm(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	type layer struct {
		fwd   G.Op
		back  []G.Op
		x, gm *tensor.Dense
		bt    *tensor.Dense
		dy    *tensor.Dense
	}
	var ls []layer
	for _, s := range [][]int{{64, 16, 28, 28}, {64, 16, 28, 28}, {64, 32, 14, 14}, {64, 32, 14, 14}} {
		g := G.NewGraph()
		l := layer{x: randTensor(r, tensor.Float32, s...), gm: randTensor(r, tensor.Float32, s[1]), bt: randTensor(r, tensor.Float32, s[1]),
			dy: randTensor(r, tensor.Float32, s...)}
		xn := G.NodeFromAny(g, l.x, G.WithName("x"))
		gn := G.NodeFromAny(g, l.gm, G.WithName("g"))
		bn := G.NodeFromAny(g, l.bt, G.WithName("b"))
		y, err := BatchNorm(xn, gn, bn, newStats(tensor.Float32, s[1]), true)
		if err != nil {
			b.Fatal(err)
		}
		back, err := y.Op().(G.SDOp).SymDiff(G.Nodes{xn, gn, bn}, y, G.NodeFromAny(g, l.dy, G.WithName("dy")))
		if err != nil {
			b.Fatal(err)
		}
		l.fwd = y.Op()
		for _, n := range back {
			l.back = append(l.back, n.Op())
		}
		ls = append(ls, l)
	}
	_ = loopCPU(b, func() {
		for _, l := range ls {
			if _, err := l.fwd.Do(l.x, l.gm, l.bt); err != nil {
				b.Fatal(err)
			}
			for _, op := range l.back {
				if _, err := op.Do(l.x, l.gm, l.dy); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkBatchNormPlanes is a batch norm with ReLU6 (forward and the
// three gradients, float32) of the same size, 401,408 values, on planes from
// 28×28 to MobileNetV2's 4×4: the cost of a plane beyond its values.
func BenchmarkBatchNormPlanes(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][]int{{64, 8, 28, 28}, {64, 32, 14, 14}, {64, 128, 7, 7}, {64, 392, 4, 4}} {
		b.Run(fmt.Sprint(s), func(b *testing.B) {
			g := G.NewGraph()
			x, gm, bt, dy := randTensor(r, tensor.Float32, s...), randTensor(r, tensor.Float32, s[1]), randTensor(r, tensor.Float32, s[1]), randTensor(r, tensor.Float32, s...)
			xn := G.NodeFromAny(g, x, G.WithName("x"))
			gn := G.NodeFromAny(g, gm, G.WithName("g"))
			bn := G.NodeFromAny(g, bt, G.WithName("b"))
			y, err := BatchNormAct(xn, gn, bn, nil, newStats(tensor.Float32, s[1]), true, 6)
			if err != nil {
				b.Fatal(err)
			}
			back, err := y.Op().(G.SDOp).SymDiff(G.Nodes{xn, gn, bn}, y, G.NodeFromAny(g, dy, G.WithName("dy")))
			if err != nil {
				b.Fatal(err)
			}
			var yv G.Value
			loopCPU(b, func() {
				if yv, err = y.Op().Do(x, gm, bt); err != nil {
					b.Fatal(err)
				}
				for _, n := range back {
					args := []G.Value{x, gm, dy}
					if n.Op().Arity() == 4 { // the output too: the clamp's mask
						args = append(args, yv)
					}
					if _, err := n.Op().Do(args...); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// loopCPU runs f b.N times and reports and returns the CPU seconds per op.
func loopCPU(b *testing.B, f func()) float64 {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		f()
	}
	cpu := (cpuTime() - c0).Seconds() / float64(b.N)
	b.ReportMetric(cpu*1e3, "cpu-ms/op")
	return cpu
}

// BenchmarkPointwise is a 1×1 convolution (MobileNetV2's expansion and
// projection, ResNet's shortcut projection), forward + dX + dW + bias
// gradient, float32: its GEMMs read the image itself, with no unfolding.
func BenchmarkPointwise(b *testing.B) {
	for _, s := range []struct {
		name       string
		n, c, o, h int
	}{
		{"N64_32to192_14x14", 64, 32, 192, 14},
		{"N64_192to32_14x14", 64, 192, 32, 14},
		{"N64_64to384_7x7", 64, 64, 384, 7},
		{"N64_64to384_4x4", 64, 64, 384, 4},
		{"N64_384to64_4x4", 64, 384, 64, 4},
	} {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(9, 10))
			ins := []*tensor.Dense{randTensor(r, tensor.Float32, s.n, s.c, s.h, s.h), randTensor(r, tensor.Float32, s.o, s.c, 1, 1), randTensor(r, tensor.Float32, s.o)}
			step := convSteps(b, ins, ConvParams{}, true)
			cpu := loopCPU(b, step)
			b.ReportMetric(3*2*float64(s.n*s.c*s.o*s.h*s.h)/cpu/1e9, "GFLOP/cpu-s")
		})
	}
}

// fixedQuantizer is an InnerQuantizer with fixed constants (uint8, scale
// 1/32, zero point 0), as a moving-average observer's settle.
type fixedQuantizer struct{}

func (fixedQuantizer) Prepare(mn, mx float32, ok bool, n int, shape []int, values func() []float32) (c [6]float32, wlo, whi float32, on bool, err error) {
	return [6]float32{1. / 32, 32, -1, 256, 0, 255}, -1. / 64, 255.5 / 32, true, nil
}

// BenchmarkBatchNormSum is the forward of a ResNet block's last batch norm
// with the block's sum and ReLU (float32, batch 64, resnet20's three
// stages): FP32's BatchNormAddAct, and QAT's BatchNormQuantAddAct (the
// batch norm's quantizer inside, the range for the sum's quantizer taken),
// against the ops it replaced, BatchNormFold then AddAct (the quantizer's
// own pass between them not counted).
func BenchmarkBatchNormSum(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range [][]int{{64, 16, 28, 28}, {64, 32, 14, 14}, {64, 64, 7, 7}} {
		x, gm, bt, res := randTensor(r, tensor.Float32, s...), randTensor(r, tensor.Float32, s[1]), randTensor(r, tensor.Float32, s[1]), randTensor(r, tensor.Float32, s...)
		for _, kind := range []string{"fp32", "qat", "qat-3ops"} {
			b.Run(fmt.Sprint(kind, s), func(b *testing.B) {
				g := G.NewGraph()
				xn := G.NodeFromAny(g, x, G.WithName("x"))
				gn := G.NodeFromAny(g, gm, G.WithName("g"))
				bn := G.NodeFromAny(g, bt, G.WithName("b"))
				rn := G.NodeFromAny(g, res, G.WithName("r"))
				st := newStats(tensor.Float32, s[1])
				var ops []func() error
				switch kind {
				case "fp32":
					y, err := BatchNormAddAct(xn, gn, bn, rn, st, true, math.Inf(1))
					if err != nil {
						b.Fatal(err)
					}
					ops = append(ops, func() error { _, err := y.Op().Do(x, gm, bt, res); return err })
				case "qat":
					y, err := BatchNormQuantAddAct(xn, gn, bn, nil, rn, st, true, math.Inf(1), fixedQuantizer{}, &Fold{})
					if err != nil {
						b.Fatal(err)
					}
					ops = append(ops, func() error { _, err := y.Op().Do(x, gm, bt, res); return err })
				default:
					f1, f2 := &Fold{}, &Fold{}
					y, err := BatchNormFold(xn, gn, bn, nil, st, true, 0, f1)
					if err != nil {
						b.Fatal(err)
					}
					z, err := AddAct(y, rn, math.Inf(1), f2)
					if err != nil {
						b.Fatal(err)
					}
					var yv G.Value
					ops = append(ops, func() error { var err error; yv, err = y.Op().Do(x, gm, bt); return err },
						func() error { _, err := z.Op().Do(yv, res); return err })
				}
				loopCPU(b, func() {
					for _, op := range ops {
						if err := op(); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
	}
}
