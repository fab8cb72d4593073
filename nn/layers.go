package nn

import (
	"fmt"
	"math"
	"math/rand"
	randv2 "math/rand/v2"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear is y = x·Wᵀ + b with W stored (out, in) as PyTorch does (per-channel
// weight quantization along axis 0), optionally followed by a fused ReLU.
// WQ fake-quantizes the weight, AQ the output (after the ReLU when fused).
type Linear struct {
	LayerName    string
	In, Out      int
	Weight, Bias *Param // Bias may be nil
	// ReLU fuses max(x, 0) after the layer; ReLU6 fuses min(max(x, 0), 6).
	ReLU, ReLU6 bool
	WQ, AQ      fakequant.Quantizer
}

// NewLinear returns a Linear layer initialised like PyTorch's nn.Linear.
func NewLinear(name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{LayerName: name, In: in, Out: out, Weight: newParam(name+".weight", true, true, out, in)}
	if bias {
		l.Bias = newParam(name+".bias", true, false, out)
	}
	kaimingUniform(rng, l.Weight, l.Bias, in)
	return l
}

func (l *Linear) Name() string     { return l.LayerName }
func (l *Linear) Params() []*Param { return nonNil(l.Weight, l.Bias) }
func (l *Linear) Quantizers() []NamedQuantizer {
	return namedQ(l.LayerName, l.WQ, l.AQ)
}

func (l *Linear) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || x.Shape()[1] != l.In {
		return nil, fmt.Errorf("nn: %s: input shape %v, want (N, %d)", l.LayerName, x.Shape(), l.In)
	}
	inQ := b.GridOf(x)
	w, err := b.Quantize(l.LayerName+".weight", l.WQ, b.Node(l.Weight))
	if err != nil {
		return nil, err
	}
	var bias *G.Node
	if l.Bias != nil {
		bias = b.Node(l.Bias)
	}
	y, err := kernels.LinearWith(x, w, bias, kernels.LinearParams{NoInputGrad: !b.needsGrad(x)})
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", l.LayerName, err)
	}
	y, err = b.actOut(l.LayerName, l.ReLU, l.ReLU6, l.AQ, y)
	if err != nil {
		return nil, err
	}
	if y, err = b.integerExact(l, inQ, x, y); err != nil {
		return nil, err
	}
	b.emit(l, []*G.Node{x}, y, nq(l.LayerName+".act", l.AQ))
	return y, nil
}

func (l *Linear) describe() LayerInfo {
	li := LayerInfo{Name: l.LayerName, Kind: "linear", InChannels: l.In, OutChannels: l.Out, ReLU: l.ReLU, ReLU6: l.ReLU6, Groups: 1,
		Weight: l.Weight.Float32s(), WeightShape: []int{l.Out, l.In}, Bias: make([]float32, l.Out)}
	if l.Bias != nil {
		li.Bias = l.Bias.Float32s()
	}
	li.WeightQ, li.OutputQ = nq(l.LayerName+".weight", l.WQ), nq(l.LayerName+".act", l.AQ)
	return li
}

// actOut applies the fused activation (ReLU, or ReLU6 when relu6) and the
// output quantizer.
func (b *Builder) actOut(name string, relu, relu6 bool, aq fakequant.Quantizer, y *G.Node) (*G.Node, error) {
	var err error
	if (relu || relu6) && b.folds(aq, y) {
		// The quantizer folds into the clamp (see ConvBn.Build).
		fold := &kernels.Fold{}
		if y, err = kernels.ReLUFold(y, relu6, fold); err != nil {
			return nil, fmt.Errorf("nn: %s: relu: %w", name, err)
		}
		if y, err = b.quantizeFolded(name+".act", aq, y, fold); err != nil {
			return nil, err
		}
		return y, nil
	}
	switch {
	case relu6:
		if y, err = kernels.ReLU6(y); err != nil {
			return nil, fmt.Errorf("nn: %s: relu6: %w", name, err)
		}
	case relu:
		if y, err = kernels.ReLU(y); err != nil {
			return nil, fmt.Errorf("nn: %s: relu: %w", name, err)
		}
	}
	if y, err = b.Quantize(name+".act", aq, y); err != nil {
		return nil, err
	}
	return y, nil
}

// folds reports whether the activation quantizer q on y folds into the op
// that produces y (kernels.Fold): in training graphs, for the quantizers
// fakequant.ApplyFolded takes.
func (b *Builder) folds(q fakequant.Quantizer, y *G.Node) bool {
	return b.mode == Train && !b.noFold && q != nil && fakequant.CanFold(q, y.Dtype())
}

// Conv2d is a 2-D convolution on NCHW tensors with weight
// (O, I/Groups, kh, kw), optionally followed by a fused ReLU or ReLU6.
// Groups = InC = OutC/m is a depthwise convolution (channel multiplier m).
type Conv2d struct {
	LayerName               string
	InC, OutC               int
	Kernel, Stride, Padding [2]int
	Dilation                [2]int
	// Groups splits the channels into groups convolved separately; 0 or 1
	// is a dense convolution.
	Groups       int
	Weight, Bias *Param // Bias may be nil
	ReLU, ReLU6  bool
	WQ, AQ       fakequant.Quantizer
}

// ConvOpts are the geometry options of a convolution; zero values mean
// stride 1, padding 0, dilation 1, groups 1.
type ConvOpts struct {
	Stride, Padding, Dilation, Groups int
	NoBias                            bool
}

func (o ConvOpts) norm() ConvOpts {
	if o.Stride == 0 {
		o.Stride = 1
	}
	if o.Dilation == 0 {
		o.Dilation = 1
	}
	if o.Groups == 0 {
		o.Groups = 1
	}
	return o
}

func (c *Conv2d) groups() int { return max(c.Groups, 1) }

// NewConv2d returns a square-kernel convolution initialised like PyTorch's
// nn.Conv2d. With o.Groups > 1, inC and outC must be multiples of it
// (Build reports otherwise).
func NewConv2d(name string, inC, outC, k int, o ConvOpts, rng *rand.Rand) *Conv2d {
	o = o.norm()
	g := o.Groups
	if g < 1 || inC%g != 0 {
		g = 1 // Build reports the bad group count below
	}
	c := &Conv2d{LayerName: name, InC: inC, OutC: outC, Kernel: [2]int{k, k}, Stride: [2]int{o.Stride, o.Stride},
		Padding: [2]int{o.Padding, o.Padding}, Dilation: [2]int{o.Dilation, o.Dilation}, Groups: o.Groups,
		Weight: newParam(name+".weight", true, true, outC, inC/g, k, k)}
	if !o.NoBias {
		c.Bias = newParam(name+".bias", true, false, outC)
	}
	kaimingUniform(rng, c.Weight, c.Bias, inC/g*k*k)
	return c
}

func (c *Conv2d) Name() string     { return c.LayerName }
func (c *Conv2d) Params() []*Param { return nonNil(c.Weight, c.Bias) }
func (c *Conv2d) Quantizers() []NamedQuantizer {
	return namedQ(c.LayerName, c.WQ, c.AQ)
}

func (c *Conv2d) checkInput(x *G.Node) error {
	if x.Dims() != 4 || x.Shape()[1] != c.InC {
		return fmt.Errorf("nn: %s: input shape %v, want (N, %d, H, W)", c.LayerName, x.Shape(), c.InC)
	}
	if g := c.groups(); c.Groups < 0 || c.InC%g != 0 || c.OutC%g != 0 {
		return fmt.Errorf("nn: %s: %d groups do not divide %d input and %d output channels", c.LayerName, c.Groups, c.InC, c.OutC)
	}
	return nil
}

// conv adds the convolution of x with weight node w plus bias (fused into
// the op; nil for none).
func (c *Conv2d) conv(b *Builder, x, w, bias *G.Node) (*G.Node, error) {
	p := kernels.ConvParams{Stride: c.Stride, Pad: c.Padding, Dilation: c.Dilation, NoInputGrad: !b.needsGrad(x), Workspace: b.ws}
	y, err := b.convHandoff(x, w, bias, p, c.groups())
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	return y, nil
}

func (c *Conv2d) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if err := c.checkInput(x); err != nil {
		return nil, err
	}
	inQ := b.GridOf(x)
	w, err := b.Quantize(c.LayerName+".weight", c.WQ, b.Node(c.Weight))
	if err != nil {
		return nil, err
	}
	var bias *G.Node
	if c.Bias != nil {
		bias = b.Node(c.Bias)
	}
	var y *G.Node
	if !c.ReLU && !c.ReLU6 && c.groups() == 1 && b.folds(c.AQ, x) {
		// The output quantizer folds into the convolution (its range)
		// and into a max pool after it (its mask; see settleFolds).
		fold := &kernels.Fold{}
		p := kernels.ConvParams{Stride: c.Stride, Pad: c.Padding, Dilation: c.Dilation, NoInputGrad: !b.needsGrad(x), Workspace: b.ws}
		pre, err := kernels.Conv2dFold(x, w, bias, p, fold)
		if err != nil {
			return nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
		}
		if y, err = b.quantizeFolded(c.LayerName+".act", c.AQ, pre, fold); err != nil {
			return nil, err
		}
		if b.convFolds == nil {
			b.convFolds = map[*G.Node]*convFold{}
		}
		b.convFolds[y] = &convFold{pre: pre, fq: y, fold: fold}
	} else {
		if y, err = c.conv(b, x, w, bias); err != nil {
			return nil, err
		}
		if y, err = b.actOut(c.LayerName, c.ReLU, c.ReLU6, c.AQ, y); err != nil {
			return nil, err
		}
	}
	if y, err = b.integerExact(c, inQ, x, y); err != nil {
		return nil, err
	}
	b.emit(c, []*G.Node{x}, y, nq(c.LayerName+".act", c.AQ))
	return y, nil
}

func (c *Conv2d) geometry(kind string) LayerInfo {
	return LayerInfo{Name: c.LayerName, Kind: kind, InChannels: c.InC, OutChannels: c.OutC, Kernel: c.Kernel,
		Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation, ReLU: c.ReLU, ReLU6: c.ReLU6, Groups: c.groups(),
		WeightShape: []int{c.OutC, c.InC / c.groups(), c.Kernel[0], c.Kernel[1]},
		WeightQ:     nq(c.LayerName+".weight", c.WQ), OutputQ: nq(c.LayerName+".act", c.AQ)}
}

func (c *Conv2d) describe() LayerInfo {
	li := c.geometry("conv2d")
	li.Weight = c.Weight.Float32s()
	li.Bias = make([]float32, c.OutC)
	if c.Bias != nil {
		li.Bias = c.Bias.Float32s()
	}
	return li
}

// BatchNorm2d normalises each channel of an NCHW tensor: batch statistics
// and a running-statistics update (momentum 0.1, unbiased running variance,
// as PyTorch) in the training graph, running statistics in the evaluation
// graph and when frozen.
type BatchNorm2d struct {
	LayerName                            string
	C                                    int
	Gamma, Beta, RunningMean, RunningVar *Param
	Eps, Momentum                        float64
	st                                   *kernels.BNStats
}

// NewBatchNorm2d returns a batch norm with γ = 1, β = 0, running mean 0 and
// running variance 1, eps 1e-5 and momentum 0.1 (PyTorch's defaults).
func NewBatchNorm2d(name string, c int) *BatchNorm2d {
	bn := &BatchNorm2d{LayerName: name, C: c, Eps: 1e-5, Momentum: 0.1,
		Gamma: newParam(name+".weight", true, false, c), Beta: newParam(name+".bias", true, false, c),
		RunningMean: newParam(name+".running_mean", false, false, c), RunningVar: newParam(name+".running_var", false, false, c)}
	bn.Gamma.fill(1)
	bn.RunningVar.fill(1)
	bn.st = &kernels.BNStats{}
	return bn
}

func (bn *BatchNorm2d) Name() string { return bn.LayerName }
func (bn *BatchNorm2d) Params() []*Param {
	return []*Param{bn.Gamma, bn.Beta, bn.RunningMean, bn.RunningVar}
}
func (bn *BatchNorm2d) Quantizers() []NamedQuantizer { return nil }

// node is the batch norm of x, or of x divided per channel by scale when
// scale is not nil, clamped to [0, hi] when hi > 0, linked to a folded
// fake quantizer by fold when it is not nil (one fused op). In a training
// graph a clamped output without a fold may be left to the convolution
// that reads it (Builder.handoff).
func (bn *BatchNorm2d) node(b *Builder, x, scale *G.Node, hi float64, fold *kernels.Fold) (*G.Node, error) {
	bn.prepare()
	if x.Dims() < 2 || x.Shape()[1] != bn.C {
		return nil, fmt.Errorf("nn: %s: input shape %v, want (N, %d, ...)", bn.LayerName, x.Shape(), bn.C)
	}
	var y *G.Node
	var err error
	if h := b.handoff(hi); h != nil && x.Dims() == 4 {
		if y, err = kernels.BatchNormHandoff(x, b.Node(bn.Gamma), b.Node(bn.Beta), scale, bn.st, b.mode == Train, hi, fold, h); err == nil {
			if b.handoffs == nil {
				b.handoffs = map[*G.Node]*kernels.Handoff{}
			}
			b.handoffs[y] = h
		}
	} else if scale != nil || hi > 0 || fold != nil {
		y, err = kernels.BatchNormFold(x, b.Node(bn.Gamma), b.Node(bn.Beta), scale, bn.st, b.mode == Train, hi, fold)
	} else {
		y, err = kernels.BatchNorm(x, b.Node(bn.Gamma), b.Node(bn.Beta), bn.st, b.mode == Train)
	}
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", bn.LayerName, err)
	}
	if b.mode == Train {
		b.bns = append(b.bns, bn.st)
	}
	return y, nil
}

// nodeQuantSum is nodeSum with the batch norm divided per channel by
// unscale (when not nil) and its output fake-quantized by q before the sum
// (kernels.BatchNormQuantAddAct), fold linking the sum's folded quantizer
// when not nil.
func (bn *BatchNorm2d) nodeQuantSum(b *Builder, x, unscale, r *G.Node, hi float64, q kernels.InnerQuantizer, fold *kernels.Fold) (*G.Node, error) {
	bn.prepare()
	if x.Dims() < 2 || x.Shape()[1] != bn.C {
		return nil, fmt.Errorf("nn: %s: input shape %v, want (N, %d, ...)", bn.LayerName, x.Shape(), bn.C)
	}
	y, err := kernels.BatchNormQuantAddAct(x, b.Node(bn.Gamma), b.Node(bn.Beta), unscale, r, bn.st, b.mode == Train, hi, q, fold)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", bn.LayerName, err)
	}
	b.bns = append(b.bns, bn.st)
	return y, nil
}

// nodeSum is node without activation or fold, followed by the sum with r
// and its clamp to [0, hi] (hi > 0) in the same op
// (kernels.BatchNormAddAct).
func (bn *BatchNorm2d) nodeSum(b *Builder, x, r *G.Node, hi float64) (*G.Node, error) {
	bn.prepare()
	if x.Dims() < 2 || x.Shape()[1] != bn.C {
		return nil, fmt.Errorf("nn: %s: input shape %v, want (N, %d, ...)", bn.LayerName, x.Shape(), bn.C)
	}
	y, err := kernels.BatchNormAddAct(x, b.Node(bn.Gamma), b.Node(bn.Beta), r, bn.st, b.mode == Train, hi)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", bn.LayerName, err)
	}
	if b.mode == Train {
		b.bns = append(b.bns, bn.st)
	}
	return y, nil
}

// prepare points the ops' statistics at the layer's running statistics.
func (bn *BatchNorm2d) prepare() {
	if bn.st == nil {
		bn.st = &kernels.BNStats{}
	}
	// The running statistics are the Params' tensors, updated in place by
	// the training graph's op and read by the evaluation graph's.
	bn.st.Mean, bn.st.Var = bn.RunningMean.Value, bn.RunningVar.Value
	bn.st.Momentum, bn.st.Eps = bn.Momentum, bn.Eps
}

func (bn *BatchNorm2d) Build(b *Builder, x *G.Node) (*G.Node, error) {
	y, err := bn.node(b, x, nil, 0, nil)
	if err != nil {
		return nil, err
	}
	b.emit(bn, []*G.Node{x}, y, NamedQuantizer{})
	return y, nil
}

// factor returns γ/√(running_var+ε) and β − running_mean·γ/√(running_var+ε).
func (bn *BatchNorm2d) factor() (scale, shift []float64) {
	g, be, m, v := bn.Gamma.Float32s(), bn.Beta.Float32s(), bn.RunningMean.Float32s(), bn.RunningVar.Float32s()
	scale, shift = make([]float64, bn.C), make([]float64, bn.C)
	for i := range scale {
		scale[i] = float64(g[i]) / math.Sqrt(float64(v[i])+bn.Eps)
		shift[i] = float64(be[i]) - float64(m[i])*scale[i]
	}
	return scale, shift
}

func (bn *BatchNorm2d) describe() LayerInfo {
	s, sh := bn.factor()
	li := LayerInfo{Name: bn.LayerName, Kind: "batchnorm2d", InChannels: bn.C, OutChannels: bn.C,
		Weight: make([]float32, bn.C), WeightShape: []int{bn.C}, Bias: make([]float32, bn.C)}
	for i := range s {
		li.Weight[i], li.Bias[i] = float32(s[i]), float32(sh[i])
	}
	return li
}

// ConvBn is a convolution followed by a batch norm, trained with BN folding
// as PyTorch's intrinsic/qat ConvBn2d: the weight is scaled by
// γ/√(running_var+ε), fake-quantized, convolved, the output divided back by
// the factor (plus the conv bias), then normalised by the batch norm (batch
// statistics in training, running ones in evaluation or when frozen), an
// optional fused ReLU, and the output quantizer. In evaluation this is
// exactly the folded convolution. Without a weight quantizer the factor
// cancels and is skipped.
type ConvBn struct {
	Conv *Conv2d
	BN   *BatchNorm2d
}

// NewConvBn returns a ConvBn without conv bias (a bias before a batch norm is
// redundant), initialised like PyTorch's modules.
func NewConvBn(name string, inC, outC, k int, o ConvOpts, rng *rand.Rand) *ConvBn {
	o.NoBias = true
	return &ConvBn{Conv: NewConv2d(name, inC, outC, k, o, rng), BN: NewBatchNorm2d(name+".bn", outC)}
}

func (cb *ConvBn) Name() string { return cb.Conv.LayerName }
func (cb *ConvBn) Params() []*Param {
	return append(cb.Conv.Params(), cb.BN.Params()...)
}
func (cb *ConvBn) Quantizers() []NamedQuantizer { return cb.Conv.Quantizers() }

func (cb *ConvBn) Build(b *Builder, x *G.Node) (*G.Node, error) {
	c := cb.Conv
	if err := c.checkInput(x); err != nil {
		return nil, err
	}
	inQ := b.GridOf(x)
	var y, unscale *G.Node
	var err error
	// The fused ReLU/ReLU6 runs inside the batch norm's op.
	hi := 0.0
	switch {
	case c.ReLU6:
		hi = 6
	case c.ReLU:
		hi = math.Inf(1)
	}
	// An evaluation graph applies the batch norm (running statistics) to
	// each image's convolution output while it is in cache: one op, the
	// same bits.
	evalBN := b.mode == Eval && !b.noFold && (c.WQ == nil || c.Bias == nil)
	if evalBN {
		w, sf, err := cb.weight(b)
		if err != nil {
			return nil, err
		}
		var bias *G.Node
		if c.Bias != nil {
			bias = b.Node(c.Bias) // sf is nil (evalBN)
		}
		if y, err = cb.convBNEval(b, x, w, bias, sf, hi); err != nil {
			return nil, err
		}
	} else if y, unscale, err = cb.conv(b, x); err != nil {
		return nil, err
	}
	// In a training graph the output quantizer folds into the batch
	// norm: its observer takes the range the batch norm finds while
	// writing, and its straight-through mask joins the clamp's in the
	// batch norm's backward (the same bits, three passes fewer).
	var fold *kernels.Fold
	if b.folds(c.AQ, y) {
		fold = &kernels.Fold{}
	}
	if !evalBN {
		if y, err = cb.BN.node(b, y, unscale, hi, fold); err != nil {
			return nil, err
		}
	}
	if fold != nil {
		if y, err = b.quantizeFolded(c.LayerName+".act", c.AQ, y, fold); err != nil {
			return nil, err
		}
	} else if y, err = b.actOut(c.LayerName, false, false, c.AQ, y); err != nil {
		return nil, err
	}
	if y, err = b.integerExact(cb, inQ, x, y); err != nil {
		return nil, err
	}
	b.emit(cb, []*G.Node{x}, y, nq(c.LayerName+".act", c.AQ))
	return y, nil
}

// weight returns the convolution's weight as the graph uses it: the
// weight itself (sf nil) without a weight quantizer, else W·sf
// fake-quantized, with sf = γ/√(running_var+ε) differentiable in γ.
func (cb *ConvBn) weight(b *Builder) (w, sf *G.Node, err error) {
	c := cb.Conv
	if c.WQ == nil {
		return b.Node(c.Weight), nil, nil
	}
	if sf, err = bnFactorNode(b.Node(cb.BN.Gamma), b.Node(cb.BN.RunningVar), cb.BN); err != nil {
		return nil, nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	if !b.noFold && fakequant.CanScale(c.WQ) {
		// the scaling and the quantizer in one op, both gradients in
		// one more (the same bits)
		if w, err = fakequant.ApplyScaled(c.WQ, b.Node(c.Weight), sf); err != nil {
			return nil, nil, fmt.Errorf("nn: quantizer %s: %w", c.LayerName+".weight", err)
		}
		return w, sf, nil
	}
	if w, err = scaleNode(b.Node(c.Weight), sf, 0, false); err != nil {
		return nil, nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	if w, err = b.Quantize(c.LayerName+".weight", c.WQ, w); err != nil {
		return nil, nil, err
	}
	return w, sf, nil
}

// conv is the convolution of x the batch norm reads, outside an
// evaluation graph's fused op: with the weight of weight, the conv bias
// fused into it without a weight quantizer; with one, the output divided
// by the factor sf and the bias added after, or, without a bias, the
// division left to the batch norm (unscale = sf: in its one pass over y).
func (cb *ConvBn) conv(b *Builder, x *G.Node) (y, unscale *G.Node, err error) {
	c := cb.Conv
	w, sf, err := cb.weight(b)
	if err != nil {
		return nil, nil, err
	}
	var bias *G.Node
	if c.Bias != nil && sf == nil {
		bias = b.Node(c.Bias)
	}
	if y, err = c.conv(b, x, w, bias); err != nil {
		return nil, nil, err
	}
	switch {
	case sf == nil:
	case c.Bias == nil:
		unscale = sf
	default:
		if y, err = scaleNode(y, sf, 1, true); err != nil {
			return nil, nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
		}
		// The conv bias is added after the division by the factor.
		if y, err = biasNode(y, b.Node(c.Bias), 1); err != nil {
			return nil, nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
		}
	}
	return y, unscale, nil
}

// convBNEval is the evaluation graph's convolution of x and w (plus bias)
// with the batch norm applied per image (kernels.Conv2dBNEval), y divided
// by unscale first when it is not nil.
func (cb *ConvBn) convBNEval(b *Builder, x, w, bias, unscale *G.Node, hi float64) (*G.Node, error) {
	return cb.convBNAddEval(b, x, w, bias, unscale, nil, hi)
}

// convBNAddEval is convBNEval followed by the sum with res (when not nil:
// kernels.Conv2dBNAddEval) and the clamp to [0, hi] (hi > 0).
func (cb *ConvBn) convBNAddEval(b *Builder, x, w, bias, unscale, res *G.Node, hi float64) (*G.Node, error) {
	c, bn := cb.Conv, cb.BN
	bn.prepare()
	p := kernels.ConvParams{Stride: c.Stride, Pad: c.Padding, Dilation: c.Dilation, Groups: c.groups(), NoInputGrad: true, Workspace: b.ws}
	var y *G.Node
	var err error
	if res != nil {
		y, err = kernels.Conv2dBNAddEval(x, w, bias, b.Node(bn.Gamma), b.Node(bn.Beta), unscale, res, p, bn.st, hi)
	} else {
		y, err = kernels.Conv2dBNEval(x, w, bias, b.Node(bn.Gamma), b.Node(bn.Beta), unscale, p, bn.st, hi)
	}
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	return y, nil
}

// describe gives the folded weight W·γ/σ and bias β + (b − μ)·γ/σ with the
// running statistics: the convolution the integer model computes.
func (cb *ConvBn) describe() LayerInfo {
	c := cb.Conv
	li := c.geometry("convbn")
	s, sh := cb.BN.factor()
	w := c.Weight.Float32s()
	per := len(w) / c.OutC
	for o := 0; o < c.OutC; o++ {
		for i := o * per; i < (o+1)*per; i++ {
			// float32 product with the float32 factor, as the training and
			// evaluation graphs compute W·γ/σ before fake-quantizing it, so
			// that the exported codes are the graph's.
			w[i] *= float32(s[o])
		}
	}
	li.Weight = w
	li.Bias = make([]float32, c.OutC)
	var cbias []float32
	if c.Bias != nil {
		cbias = c.Bias.Float32s()
	}
	for o := range li.Bias {
		v := sh[o]
		if cbias != nil {
			v += float64(cbias[o]) * s[o]
		}
		li.Bias[o] = float32(v)
	}
	return li
}

// bnFactorNode is γ/√(v+ε) with the gradient for γ only (the running
// variance is a statistic, not a parameter).
func bnFactorNode(gamma, rv *G.Node, bn *BatchNorm2d) (*G.Node, error) {
	dt := gamma.Dtype()
	c := bn.C
	inv := func(o *tensor.Dense, g, v *tensor.Dense) error {
		return dispatch(dt, func() error {
			od, gd, vd := data[float32](o), data[float32](g), data[float32](v)
			for i := range od {
				od[i] = float32(float64(gd[i]) / math.Sqrt(float64(vd[i])+bn.Eps))
			}
			return nil
		}, func() error {
			od, gd, vd := data[float64](o), data[float64](g), data[float64](v)
			for i := range od {
				od[i] = gd[i] / math.Sqrt(vd[i]+bn.Eps)
			}
			return nil
		})
	}
	op := &fnOp{name: "bnfactor", dt: dt, outShape: tensor.Shape{c}, diff: []bool{true, false}}
	op.fwd = func(o *tensor.Dense, v []*tensor.Dense) error { return inv(o, v[0], v[1]) }
	op.sym = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		g := &fnOp{name: "bnfactor.dg", dt: dt, outShape: tensor.Shape{c}}
		g.fwd = func(o *tensor.Dense, v []*tensor.Dense) error { return inv(o, v[0], v[1]) }
		gg, err := apply(g, grad, in[1])
		if err != nil {
			return nil, err
		}
		return G.Nodes{gg, nil}, nil
	}
	return apply(op, gamma, rv)
}

// ReLU is max(x, 0). Sequential fuses it into a preceding Linear, Conv2d or
// ConvBn so that the activation quantizer sits after it.
type ReLU struct{ LayerName string }

func (r *ReLU) Name() string                 { return r.LayerName }
func (r *ReLU) Params() []*Param             { return nil }
func (r *ReLU) Quantizers() []NamedQuantizer { return nil }
func (r *ReLU) Build(b *Builder, x *G.Node) (*G.Node, error) {
	y, err := kernels.ReLU(x)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", r.LayerName, err)
	}
	b.emit(r, []*G.Node{x}, y, b.GridOf(x))
	return y, nil
}
func (r *ReLU) describe() LayerInfo { return LayerInfo{Name: r.LayerName, Kind: "relu"} }

// MaxPool2d is max pooling over square windows. It keeps the quantization
// grid of its input, so the next layer's input quantizer is its input's.
type MaxPool2d struct {
	LayerName               string
	Kernel, Stride, Padding int
}

func (p *MaxPool2d) Name() string                 { return p.LayerName }
func (p *MaxPool2d) Params() []*Param             { return nil }
func (p *MaxPool2d) Quantizers() []NamedQuantizer { return nil }
func (p *MaxPool2d) Build(b *Builder, x *G.Node) (*G.Node, error) {
	s := p.Stride
	if s == 0 {
		s = p.Kernel
	}
	var y *G.Node
	var err error
	if cf := b.convFolds[x]; cf != nil {
		// x is a quantizer folded into a convolution: the pool's
		// scatter applies its mask.
		y, err = kernels.MaxPool2dFold(x, cf.pre, [2]int{p.Kernel, p.Kernel}, [2]int{s, s}, [2]int{p.Padding, p.Padding}, cf.fold)
	} else {
		y, err = kernels.MaxPool2d(x, [2]int{p.Kernel, p.Kernel}, [2]int{s, s}, [2]int{p.Padding, p.Padding})
	}
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", p.LayerName, err)
	}
	b.emit(p, []*G.Node{x}, y, b.GridOf(x))
	return y, nil
}
func (p *MaxPool2d) describe() LayerInfo {
	s := p.Stride
	if s == 0 {
		s = p.Kernel
	}
	return LayerInfo{Name: p.LayerName, Kind: "maxpool2d", Kernel: [2]int{p.Kernel, p.Kernel}, Stride: [2]int{s, s},
		Padding: [2]int{p.Padding, p.Padding}, Dilation: [2]int{1, 1}}
}

// AvgPool2d is average pooling over square windows (padding counted as
// zeros, PyTorch's count_include_pad default). An average leaves its input's
// grid, so AQ (when set) puts the output on a grid of its own; the integer
// model then divides the sum of codes with a fixed-point multiplier.
type AvgPool2d struct {
	LayerName               string
	Kernel, Stride, Padding int
	AQ                      fakequant.Quantizer
}

func (p *AvgPool2d) Name() string     { return p.LayerName }
func (p *AvgPool2d) Params() []*Param { return nil }
func (p *AvgPool2d) Quantizers() []NamedQuantizer {
	return namedQ(p.LayerName, nil, p.AQ)
}
func (p *AvgPool2d) Build(b *Builder, x *G.Node) (*G.Node, error) {
	s := p.Stride
	if s == 0 {
		s = p.Kernel
	}
	inQ := b.GridOf(x)
	y, err := avgPoolNode(x, p.Kernel, s, p.Padding)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", p.LayerName, err)
	}
	if y, err = b.Quantize(p.LayerName+".act", p.AQ, y); err != nil {
		return nil, err
	}
	if y, err = b.integerExactPool(p, inQ, x, y); err != nil {
		return nil, err
	}
	b.emit(p, []*G.Node{x}, y, nq(p.LayerName+".act", p.AQ))
	return y, nil
}
func (p *AvgPool2d) describe() LayerInfo {
	s := p.Stride
	if s == 0 {
		s = p.Kernel
	}
	return LayerInfo{Name: p.LayerName, Kind: "avgpool2d", Kernel: [2]int{p.Kernel, p.Kernel}, Stride: [2]int{s, s},
		Padding: [2]int{p.Padding, p.Padding}, Dilation: [2]int{1, 1}, OutputQ: nq(p.LayerName+".act", p.AQ)}
}

// Flatten reshapes (N, ...) to (N, prod(...)).
type Flatten struct{ LayerName string }

func (f *Flatten) Name() string                 { return f.LayerName }
func (f *Flatten) Params() []*Param             { return nil }
func (f *Flatten) Quantizers() []NamedQuantizer { return nil }
func (f *Flatten) Build(b *Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if s.Dims() == 2 {
		return x, nil
	}
	y, err := G.Reshape(x, tensor.Shape{s[0], s.TotalSize() / s[0]})
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", f.LayerName, err)
	}
	b.emit(f, []*G.Node{x}, y, b.GridOf(x))
	return y, nil
}
func (f *Flatten) describe() LayerInfo { return LayerInfo{Name: f.LayerName, Kind: "flatten"} }

// Dropout zeroes each element with probability P in the training graph and
// scales the rest by 1/(1−P); it is the identity in the evaluation graph.
// Masks come from the layer's own generator, seeded from the model's, so a
// run is reproducible (gorgonia's dropout seeds from the clock); the
// generator is a PCG whose state MarshalRNG saves, so that a resumed run
// draws the masks an uninterrupted one would.
type Dropout struct {
	LayerName string
	P         float64
	src       *randv2.PCG
	rng       *randv2.Rand
}

// NewDropout returns a dropout layer seeded from rng (a nil rng seeds 0).
func NewDropout(name string, p float64, rng *rand.Rand) *Dropout {
	var seed uint64
	if rng != nil {
		seed = uint64(rng.Int63())
	}
	src := randv2.NewPCG(seed, 0x5851f42d4c957f2d)
	return &Dropout{LayerName: name, P: p, src: src, rng: randv2.New(src)}
}

// MarshalRNG returns the state of the layer's mask generator.
func (d *Dropout) MarshalRNG() ([]byte, error) { return d.src.MarshalBinary() }

// UnmarshalRNG restores a state from MarshalRNG.
func (d *Dropout) UnmarshalRNG(b []byte) error {
	if err := d.src.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("nn: %s: dropout generator state: %w", d.LayerName, err)
	}
	return nil
}

func (d *Dropout) Name() string                 { return d.LayerName }
func (d *Dropout) Params() []*Param             { return nil }
func (d *Dropout) Quantizers() []NamedQuantizer { return nil }

// dropoutMask is a train-graph mask input, refilled before every step.
type dropoutMask struct {
	d    *Dropout
	mask *tensor.Dense
}

func (m *dropoutMask) refill() {
	keep := 1 / (1 - m.d.P)
	switch v := m.mask.Data().(type) {
	case []float32:
		for i := range v {
			v[i] = 0
			if m.d.rng.Float64() >= m.d.P {
				v[i] = float32(keep)
			}
		}
	case []float64:
		for i := range v {
			v[i] = 0
			if m.d.rng.Float64() >= m.d.P {
				v[i] = keep
			}
		}
	}
}

func (d *Dropout) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if d.P < 0 || d.P >= 1 {
		return nil, fmt.Errorf("nn: %s: dropout probability %g not in [0, 1)", d.LayerName, d.P)
	}
	if b.mode == Eval || d.P == 0 {
		return x, nil // the identity: nothing to record
	}
	m := &dropoutMask{d: d, mask: tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(b.dt))}
	m.refill()
	mn := G.NewTensor(b.g, b.dt, x.Dims(), G.WithShape(x.Shape().Clone()...), G.WithName(d.LayerName+".mask"), G.WithValue(m.mask))
	y, err := G.HadamardProd(x, mn)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", d.LayerName, err)
	}
	b.dropouts = append(b.dropouts, m)
	b.alias(y, x)
	return y, nil
}
func (d *Dropout) describe() LayerInfo { return LayerInfo{Name: d.LayerName, Kind: "dropout"} }

// Sequential runs its layers in order. NewSequential fuses a ReLU or ReLU6
// that follows a Linear, Conv2d, ConvBn or Add into that layer.
type Sequential struct {
	LayerName string
	Layers    []Module
}

// NewSequential returns the layers in sequence, activations fused where
// possible.
func NewSequential(name string, layers ...Module) *Sequential {
	s := &Sequential{LayerName: name}
	for _, l := range layers {
		if len(s.Layers) > 0 && fuseActivation(s.Layers[len(s.Layers)-1], l) {
			continue
		}
		s.Layers = append(s.Layers, l)
	}
	return s
}

// fuseActivation fuses act (a *ReLU or *ReLU6) into prev when prev can
// carry it, and reports whether it did.
func fuseActivation(prev, act Module) bool {
	var six bool
	switch act.(type) {
	case *ReLU:
	case *ReLU6:
		six = true
	default:
		return false
	}
	var relu, relu6 *bool
	switch p := prev.(type) {
	case *Linear:
		relu, relu6 = &p.ReLU, &p.ReLU6
	case *Conv2d:
		relu, relu6 = &p.ReLU, &p.ReLU6
	case *ConvBn:
		relu, relu6 = &p.Conv.ReLU, &p.Conv.ReLU6
	case *Residual:
		if p.Sum == nil {
			return false // Build reports the missing Add
		}
		relu, relu6 = &p.Sum.ReLU, &p.Sum.ReLU6
	default:
		return false
	}
	if *relu || *relu6 {
		return false
	}
	if six {
		*relu6 = true
	} else {
		*relu = true
	}
	return true
}

func (s *Sequential) Name() string                 { return s.LayerName }
func (s *Sequential) Params() []*Param             { return paramsOf(s.Layers...) }
func (s *Sequential) Quantizers() []NamedQuantizer { return quantizersOf(s.Layers...) }
func (s *Sequential) Build(b *Builder, x *G.Node) (*G.Node, error) {
	var err error
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("nn: %s: empty Sequential", s.LayerName)
	}
	for _, l := range s.Layers {
		if x, err = b.Build(l, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func nonNil(ps ...*Param) []*Param {
	var out []*Param
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func nq(name string, q fakequant.Quantizer) NamedQuantizer {
	if q == nil {
		return NamedQuantizer{}
	}
	return NamedQuantizer{Name: name, Q: q}
}

func namedQ(layer string, wq, aq fakequant.Quantizer) []NamedQuantizer {
	var qs []NamedQuantizer
	if wq != nil {
		qs = append(qs, NamedQuantizer{layer + ".weight", wq})
	}
	if aq != nil {
		qs = append(qs, NamedQuantizer{layer + ".act", aq})
	}
	return qs
}
