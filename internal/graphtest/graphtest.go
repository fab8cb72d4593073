// Package graphtest builds small random integer graph models (residual,
// inverted-residual with depthwise convolutions, concat) for the tests of
// the integer runtime and the ONNX export: one definition of the test
// graphs, so that both back ends are checked on the same models.
package graphtest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/qatgo/qatgo/intmodel"
)

// Builder appends layers to a model and tracks its tensors. Methods return
// the index of the tensor they produce; the first error sticks (Model
// returns it).
type Builder struct {
	rng    *rand.Rand
	m      *intmodel.Model
	shapes []intmodel.Shape
	acts   []intmodel.ActQuant
	wbits  int
	err    error
}

// NewBuilder starts a model with input shape in and quantization inq;
// quantized layers get wbits-bit weights.
func NewBuilder(seed uint64, in intmodel.Shape, inq intmodel.ActQuant, wbits int) *Builder {
	return &Builder{rng: rand.New(rand.NewPCG(seed, 17)), m: &intmodel.Model{Input: inq, InputShape: in, Output: inq},
		shapes: []intmodel.Shape{in}, acts: []intmodel.ActQuant{inq}, wbits: wbits}
}

// Act returns a random 8-bit activation quantization.
func (b *Builder) Act(signed bool) intmodel.ActQuant {
	a := intmodel.ActQuant{Scale: 0.02 + 0.08*b.rng.Float32(), Bits: 8, Signed: signed}
	a.ZeroPoint = int32(b.rng.IntN(64))
	if signed {
		a.ZeroPoint -= 128
	}
	return a
}

func (b *Builder) push(l intmodel.Layer, from ...int) int {
	if b.err != nil {
		return 0
	}
	b.m.Layers = append(b.m.Layers, l)
	b.m.Inputs = append(b.m.Inputs, from)
	b.m.Output = intmodel.OutAct(l, b.acts[from[0]])
	shapes, err := b.m.TensorShapes()
	if err != nil {
		b.err = fmt.Errorf("graphtest: layer %d (%s): %w", len(b.m.Layers)-1, l.LayerName(), err)
		return 0
	}
	b.shapes = shapes
	acts, _ := b.m.Acts()
	b.acts = acts
	return len(b.shapes) - 1
}

// quant fills random weights and bias and a multiplier that maps a typical
// accumulator onto about 150 codes (random weights have no trained scales).
func (b *Builder) quant(outC, k int, in, out intmodel.ActQuant, relu, relu6 bool) intmodel.Quantized {
	q := intmodel.Quantized{WeightBits: b.wbits, Weights: make([]int8, outC*k), InAct: in, OutAct: out, Bias: make([]int32, outC)}
	for i := range q.Weights {
		q.Weights[i] = int8(b.rng.IntN(1<<b.wbits) - 1<<(b.wbits-1))
	}
	q.WeightScale = make([]float32, outC)
	for c := range outC {
		q.WeightScale[c] = 0.01 * (1 + b.rng.Float32())
		q.Bias[c] = int32(b.rng.IntN(4001) - 2000)
	}
	if err := q.SetRequant(outC); err != nil && b.err == nil {
		b.err = err
	}
	for c := range q.M0 {
		q.M0[c], q.Shift[c] = intmodel.QuantizeMultiplier(150 / (math.Sqrt(float64(k)) * float64(int(1)<<(b.wbits-1)) * 60) * (1 + 0.3*b.rng.Float64()))
	}
	q.QMin, q.QMax = intmodel.ClampFor(out, relu, relu6)
	return q
}

// Conv appends a convolution (groups 1: dense) reading tensor from.
func (b *Builder) Conv(from, outC, k, stride, pad, groups int, relu, relu6 bool) int {
	if b.err != nil {
		return 0
	}
	inC := b.shapes[from].C
	l := &intmodel.Conv2d{Name: fmt.Sprintf("conv%d", len(b.m.Layers)), InChannels: inC, OutChannels: outC, KernelH: k, KernelW: k,
		StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, Groups: groups}
	l.Quantized = b.quant(outC, inC/max(groups, 1)*k*k, b.acts[from], b.Act(b.rng.IntN(2) == 0), relu, relu6)
	return b.push(l, from)
}

// ConvTo is Conv with the output quantization out instead of a random one
// (ReLU6 onto [0, 255] with zero point 0, say: the integer runtime's
// relu8 kernels).
func (b *Builder) ConvTo(from, outC, k, stride, pad, groups int, out intmodel.ActQuant, relu, relu6 bool) int {
	if b.err != nil {
		return 0
	}
	inC := b.shapes[from].C
	l := &intmodel.Conv2d{Name: fmt.Sprintf("conv%d", len(b.m.Layers)), InChannels: inC, OutChannels: outC, KernelH: k, KernelW: k,
		StrideH: stride, StrideW: stride, PadH: pad, PadW: pad, Groups: groups}
	l.Quantized = b.quant(outC, inC/max(groups, 1)*k*k, b.acts[from], out, relu, relu6)
	return b.push(l, from)
}

// Linear appends a fully connected layer (its input must be flat).
func (b *Builder) Linear(from, outF int, relu bool) int {
	if b.err != nil {
		return 0
	}
	inF := b.shapes[from].Size()
	l := &intmodel.Linear{Name: fmt.Sprintf("fc%d", len(b.m.Layers)), InFeatures: inF, OutFeatures: outF}
	l.Quantized = b.quant(outF, inF, b.acts[from], b.Act(true), relu, false)
	return b.push(l, from)
}

// Add appends a residual add of tensors x and y.
func (b *Builder) Add(x, y int, relu, relu6 bool) int {
	if b.err != nil {
		return 0
	}
	out := b.Act(b.rng.IntN(2) == 0)
	l, err := intmodel.NewAdd(fmt.Sprintf("add%d", len(b.m.Layers)), b.acts[x], b.acts[y], out)
	if err != nil {
		b.err = err
		return 0
	}
	l.QMin, l.QMax = intmodel.ClampFor(out, relu, relu6)
	return b.push(l, x, y)
}

// Concat appends a channel concat of tensors from into out's quantization
// (nil: the first input's, so that input is copied).
func (b *Builder) Concat(out *intmodel.ActQuant, from ...int) int {
	if b.err != nil {
		return 0
	}
	var in []intmodel.ActQuant
	for _, t := range from {
		in = append(in, b.acts[t])
	}
	o := in[0]
	if out != nil {
		o = *out
	}
	l, err := intmodel.NewConcat(fmt.Sprintf("cat%d", len(b.m.Layers)), in, o)
	if err != nil {
		b.err = err
		return 0
	}
	return b.push(l, from...)
}

// MaxPool appends a max pool.
func (b *Builder) MaxPool(from, k, stride, pad int) int {
	return b.push(&intmodel.MaxPool2d{Name: fmt.Sprintf("maxpool%d", len(b.m.Layers)), Pool2d: intmodel.Pool2d{KernelH: k, KernelW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}}, from)
}

// AvgPool appends an average pool; requant: with a Rescale to a new
// quantization (padding counted), else the v1 average.
func (b *Builder) AvgPool(from, k, stride, pad int, requant bool) int {
	if b.err != nil {
		return 0
	}
	p := intmodel.Pool2d{KernelH: k, KernelW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}
	name := fmt.Sprintf("avgpool%d", len(b.m.Layers))
	if !requant {
		return b.push(&intmodel.AvgPool2d{Name: name, Pool2d: p}, from)
	}
	in := b.acts[from]
	out := b.near(in, 0.5+b.rng.Float32())
	l, err := intmodel.NewAvgPool2dRequant(name, p, in, out)
	if err != nil {
		b.err = err
		return 0
	}
	return b.push(l, from)
}

// near returns a quantization like in, its scale times f and its zero
// point moved by up to 4 codes (within range).
func (b *Builder) near(in intmodel.ActQuant, f float32) intmodel.ActQuant {
	out := intmodel.ActQuant{Scale: in.Scale * f, Bits: in.Bits, Signed: in.Signed}
	lo, hi := in.Range()
	out.ZeroPoint = min(max(in.ZeroPoint+int32(b.rng.IntN(9))-4, lo), hi)
	return out
}

// GlobalAvgPool appends a global average pool to a new quantization.
func (b *Builder) GlobalAvgPool(from int) int {
	if b.err != nil {
		return 0
	}
	in := b.acts[from]
	out := b.near(in, 0.3+0.5*b.rng.Float32())
	l, err := intmodel.NewGlobalAvgPool(fmt.Sprintf("gap%d", len(b.m.Layers)), in, out, b.shapes[from].H*b.shapes[from].W)
	if err != nil {
		b.err = err
		return 0
	}
	return b.push(l, from)
}

// Flatten appends a flatten.
func (b *Builder) Flatten(from int) int {
	return b.push(&intmodel.Flatten{Name: fmt.Sprintf("flatten%d", len(b.m.Layers))}, from)
}

// Model returns the model (output: the last layer), validated.
func (b *Builder) Model() (*intmodel.Model, error) {
	if b.err != nil {
		return nil, b.err
	}
	if err := b.m.Validate(); err != nil {
		return nil, err
	}
	return b.m, nil
}

// Residual is a ResNet-style graph on 3×8×8: conv, a basic block with an
// identity shortcut (add + ReLU), a strided block with a 1×1 projection
// shortcut (add + ReLU6), global average pool, linear.
func Residual(seed uint64, wbits int) (*intmodel.Model, error) {
	b := NewBuilder(seed, intmodel.Shape{C: 3, H: 8, W: 8}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	t1 := b.Conv(0, 8, 3, 1, 1, 1, true, false)
	t2 := b.Conv(t1, 8, 3, 1, 1, 1, true, false)
	t3 := b.Conv(t2, 8, 3, 1, 1, 1, false, false)
	t4 := b.Add(t1, t3, true, false)
	p := b.Conv(t4, 16, 1, 2, 0, 1, false, false)
	t5 := b.Conv(t4, 16, 3, 2, 1, 1, true, false)
	t6 := b.Conv(t5, 16, 3, 1, 1, 1, false, false)
	t7 := b.Add(t6, p, false, true)
	g := b.GlobalAvgPool(t7)
	f := b.Flatten(g)
	b.Linear(f, 10, false)
	return b.Model()
}

// InvertedResidual is a MobileNetV2-style graph on signed 4×9×9 input:
// expand 1×1 (ReLU6), depthwise 3×3 (ReLU6), linear 1×1 projection, add
// with the block input; a strided depthwise with channel multiplier 2, a
// grouped 3×3 (2 groups), a depthwise 5×5, a strided grouped 3×3, an
// average pool with requantization and padding, flatten, linear.
func InvertedResidual(seed uint64, wbits int) (*intmodel.Model, error) {
	b := NewBuilder(seed, intmodel.Shape{C: 4, H: 9, W: 9}, intmodel.ActQuant{Scale: 1.0 / 127, ZeroPoint: -3, Bits: 8, Signed: true}, wbits)
	t1 := b.Conv(0, 12, 1, 1, 0, 1, false, true)
	t2 := b.Conv(t1, 12, 3, 1, 1, 12, false, true)
	t3 := b.Conv(t2, 4, 1, 1, 0, 1, false, false)
	t4 := b.Add(0, t3, false, false)
	t5 := b.Conv(t4, 8, 3, 2, 1, 4, true, false)
	t6 := b.Conv(t5, 8, 3, 1, 1, 2, false, true)
	t7 := b.Conv(t6, 8, 5, 1, 2, 8, false, false)
	t7 = b.Conv(t7, 8, 3, 2, 1, 2, true, false)
	t8 := b.AvgPool(t7, 3, 2, 1, true)
	f := b.Flatten(t8)
	b.Linear(f, 10, false)
	return b.Model()
}

// ConcatNet is a graph with concats on 2×6×6: two convolutions of the input,
// one followed by a fused max pool, the other read twice (so its pool is
// not fused); concat of both with the input (copied and requantized
// inputs), a v1 average pool, a second concat, global average pool, linear.
func ConcatNet(seed uint64, wbits int) (*intmodel.Model, error) {
	b := NewBuilder(seed, intmodel.Shape{C: 2, H: 6, W: 6}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	t1 := b.Conv(0, 4, 3, 1, 1, 1, true, false)
	t2 := b.MaxPool(t1, 2, 2, 0)
	t3 := b.Conv(0, 4, 3, 1, 1, 1, false, false)
	t4 := b.MaxPool(t3, 2, 2, 0)
	t5 := b.Concat(nil, t3, t1, 0)
	t6 := b.AvgPool(t5, 2, 2, 0, false)
	out := b.Act(false)
	t7 := b.Concat(&out, t2, t4, t6)
	g := b.GlobalAvgPool(t7)
	f := b.Flatten(g)
	b.Linear(f, 10, false)
	return b.Model()
}

// FlatNet mixes flat and image tensors on 1×4×4: flatten, two linear layers
// of the flat input, their add, a concat of the sum with one of them, a
// linear layer; and a branch that concatenates an image tensor after a
// global average pool. Ranks change along the edges (the ONNX export
// reshapes).
func FlatNet(seed uint64, wbits int) (*intmodel.Model, error) {
	b := NewBuilder(seed, intmodel.Shape{C: 1, H: 4, W: 4}, intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8}, wbits)
	f := b.Flatten(0)
	l1 := b.Linear(f, 8, true)
	l2 := b.Linear(f, 8, false)
	a := b.Add(l1, l2, false, true)
	c := b.Conv(0, 4, 3, 1, 1, 1, true, false)
	g := b.GlobalAvgPool(c)
	cat := b.Concat(nil, a, l2, g)
	b.Linear(b.Flatten(cat), 10, false)
	return b.Model()
}

// Random builds a random graph of about n layers on a small random input:
// convolutions (dense, grouped, depthwise with channel multipliers, 1×1 and
// 3×3, strides 1 and 2, with and without padding, ReLU/ReLU6), adds of
// equal-shaped tensors (any earlier ones: long skips), concats of tensors of
// one height and width, max and average pools (with and without
// requantization), global average pools and flattens, each reading a
// random earlier tensor; then flatten and a linear layer.
func Random(seed uint64, wbits, n int) (*intmodel.Model, error) {
	rng := rand.New(rand.NewPCG(seed, 99))
	signed := rng.IntN(2) == 0
	inq := intmodel.ActQuant{Scale: 1.0 / 255, Bits: 8, Signed: signed}
	if signed {
		inq.ZeroPoint = -128 + int32(rng.IntN(20))
	}
	in := intmodel.Shape{C: 1 + rng.IntN(3), H: 4 + rng.IntN(6), W: 4 + rng.IntN(6)}
	b := NewBuilder(seed, in, inq, wbits)
	pick := func() int { // a random tensor, recent ones more likely
		nt := len(b.shapes)
		return max(0, nt-1-rng.IntN(min(nt, 4)))
	}
	for len(b.m.Layers) < n && b.err == nil {
		t := pick()
		s := b.shapes[t]
		switch op := rng.IntN(10); {
		case op < 4: // convolution
			k := []int{1, 3}[rng.IntN(2)]
			stride := 1 + rng.IntN(2)
			pad := rng.IntN(k/2 + 1)
			if s.H+2*pad < k || s.W+2*pad < k {
				continue
			}
			g, outC := 1, 1+rng.IntN(12)
			switch rng.IntN(3) {
			case 0: // depthwise, channel multiplier 1 or 2
				g, outC = s.C, s.C*(1+rng.IntN(2))
			case 1: // grouped, when C has a divisor > 1
				for d := s.C / 2; d > 1; d-- {
					if s.C%d == 0 {
						g, outC = d, d*(1+rng.IntN(3))
						break
					}
				}
			}
			b.Conv(t, outC, k, stride, pad, g, rng.IntN(3) == 0, rng.IntN(3) == 0)
		case op < 6: // add with an equal-shaped tensor
			var same []int
			for u, su := range b.shapes {
				if su == s {
					same = append(same, u)
				}
			}
			b.Add(t, same[rng.IntN(len(same))], rng.IntN(3) == 0, rng.IntN(3) == 0)
		case op < 7: // concat of 2–3 tensors of one height and width
			from := []int{t}
			for u, su := range b.shapes {
				if u != t && su.H == s.H && su.W == s.W && len(from) < 3 && rng.IntN(2) == 0 {
					from = append(from, u)
				}
			}
			if len(from) == 1 {
				from = append(from, t)
			}
			var out *intmodel.ActQuant
			if rng.IntN(2) == 0 {
				a := b.Act(rng.IntN(2) == 0)
				out = &a
			}
			b.Concat(out, from...)
		case op < 8: // pool
			k := 2 + rng.IntN(2)
			stride := 1 + rng.IntN(2)
			pad := rng.IntN(k/2 + 1)
			if s.H+2*pad < k || s.W+2*pad < k {
				continue
			}
			if rng.IntN(2) == 0 {
				b.MaxPool(t, k, stride, pad)
			} else {
				b.AvgPool(t, k, stride, pad, rng.IntN(3) != 0)
			}
		case op < 9:
			if s.H*s.W > 1 {
				b.GlobalAvgPool(t)
			}
		default:
			if s.H*s.W > 1 && rng.IntN(3) == 0 {
				b.Flatten(t)
			}
		}
	}
	last := len(b.shapes) - 1
	if b.err == nil && (b.shapes[last].H > 1 || b.shapes[last].W > 1) {
		last = b.Flatten(last)
	}
	b.Linear(last, 10, false)
	return b.Model()
}
