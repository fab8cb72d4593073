package intmodel

import (
	"errors"
	"fmt"
	"math"

	"github.com/qatgo/qatgo/fixedpoint"
)

// ErrInvalid is wrapped by every error that reports a model which breaks an
// invariant (bad bit width, inconsistent shapes, clamp out of range, ...).
var ErrInvalid = errors.New("intmodel: invalid model")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Limits that keep every size computation far from integer overflow and a
// corrupt file from asking for absurd allocations.
const (
	// MaxDim bounds every channel count, feature count, spatial size,
	// kernel size, stride and padding.
	MaxDim = 1 << 16
	// MaxLayers bounds the number of layers of a model.
	MaxLayers = 4096
	// MaxElems bounds the element count of one weight tensor and of one
	// activation (per image).
	MaxElems = 1 << 28
)

// Shape is the shape of one image's activation, channel-major (C, H, W). A
// flattened activation of n features has Shape{n, 1, 1}.
type Shape struct {
	C, H, W int
}

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

func (s Shape) validate() error {
	if s.C < 1 || s.H < 1 || s.W < 1 || s.C > MaxDim || s.H > MaxDim || s.W > MaxDim {
		return invalid("shape %v out of range 1..%d", s, MaxDim)
	}
	if int64(s.C)*int64(s.H)*int64(s.W) > MaxElems {
		return invalid("shape %v has more than %d elements", s, MaxElems)
	}
	return nil
}

// ActQuant is the affine quantization of an activation: r = Scale·(q − ZeroPoint)
// with q a Bits-wide integer, two's complement if Signed (held in an int8)
// or unsigned (held in a uint8).
type ActQuant struct {
	Scale     float32 `json:"scale"`
	ZeroPoint int32   `json:"zero_point"`
	Bits      int     `json:"bits"`
	Signed    bool    `json:"signed"`
}

// Range returns the smallest and largest code of the activation type:
// [-2^(b-1), 2^(b-1)-1] if signed, [0, 2^b-1] otherwise. Bits must be 1..8.
func (a ActQuant) Range() (qmin, qmax int32) {
	if a.Signed {
		return -(1 << (a.Bits - 1)), 1<<(a.Bits-1) - 1
	}
	return 0, 1<<a.Bits - 1
}

// Validate reports whether a is a usable activation quantization.
func (a ActQuant) Validate() error {
	if a.Bits < 1 || a.Bits > 8 {
		return invalid("activation bits %d, want 1..8", a.Bits)
	}
	if !finitePositive(a.Scale) {
		return invalid("activation scale %g, want finite and > 0", a.Scale)
	}
	lo, hi := a.Range()
	if a.ZeroPoint < lo || a.ZeroPoint > hi {
		return invalid("activation zero point %d outside [%d, %d]", a.ZeroPoint, lo, hi)
	}
	return nil
}

func finitePositive(x float32) bool {
	return x > 0 && !math.IsInf(float64(x), 0) // NaN fails x > 0
}

// Kind names a layer type.
type Kind int

// The layer kinds. ReLU is not a layer: it is fused into a quantized layer's
// clamp bounds (Quantized.FuseReLU).
const (
	KindConv2d Kind = iota + 1
	KindLinear
	KindMaxPool2d
	KindAvgPool2d
	KindFlatten
	KindAdd
	KindConcat
	KindGlobalAvgPool
)

var kindNames = map[Kind]string{
	KindConv2d:        "conv2d",
	KindLinear:        "linear",
	KindMaxPool2d:     "maxpool2d",
	KindAvgPool2d:     "avgpool2d",
	KindFlatten:       "flatten",
	KindAdd:           "add",
	KindConcat:        "concat",
	KindGlobalAvgPool: "globalavgpool",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Layer is one step of a Model. The concrete types are *Conv2d, *Linear,
// *MaxPool2d, *AvgPool2d, *Flatten, *Add, *Concat and *GlobalAvgPool; the
// runtime switches on them. Add and Concat read several tensors: their
// OutShape checks one input, Model.Shapes checks them together.
type Layer interface {
	Kind() Kind
	// LayerName is the layer's Name field (for messages and Inspect).
	LayerName() string
	// OutShape returns the output shape for input shape in, or an error
	// (wrapping ErrInvalid) if the layer cannot take that input.
	OutShape(in Shape) (Shape, error)
}

// Quantized holds the integer parameters of a Conv2d or Linear layer with
// OutC output channels and K = (input channels)·KernelH·KernelW (Conv2d) or
// K = InFeatures (Linear) inputs per output.
//
// The integer computation (SPEC §5) is, for output channel c:
//
//	acc  = Σ_k W[c,k]·(q_X[k] − InAct.ZeroPoint) + Bias[c]        (int32)
//	q_Y  = MultiplyByQuantizedMultiplier(acc, M0[c], Shift[c]) + OutAct.ZeroPoint
//	q_Y  = clamp(q_Y, QMin, QMax)
//
// The file stores the raw bias q_b (Bias); the runtime folds the input zero
// point into it once at load time (FoldedBias), so that its inner loop is a
// plain Σ W·q_X.
type Quantized struct {
	// WeightBits is the weight width, 1..8: weights are symmetric signed
	// two's complement codes in [-2^(b-1), 2^(b-1)-1] with zero point 0.
	WeightBits int
	// Weights holds OutC·K codes, output channel first: Conv2d weights are
	// [out][in][kh][kw] (PyTorch's layout), Linear weights [out][in].
	Weights []int8
	// WeightScale is S_W: 1 value (per tensor) or OutC values (per channel).
	// Kept for documentation and inspection; the runtime uses M0 and Shift.
	WeightScale []float32
	// InAct is the quantization of the layer's input (S_X, Z_X); it must
	// equal the quantization of the previous layer's output.
	InAct ActQuant
	// OutAct is the quantization of the layer's output (S_Y, Z_Y).
	OutAct ActQuant
	// Bias is q_b = round(b / (S_W·S_X)), OutC values with zero point 0, or
	// nil for a layer without bias.
	Bias []int32
	// M0 and Shift (OutC values each) are the requantization multipliers
	// M[c] = S_W[c]·S_X/S_Y = M0[c]·2^(Shift[c]−31), as QuantizeMultiplier
	// returns them: M0 in [2^30, 2^31) and Shift in [-31, 30], or (0, 0).
	// SetRequant fills them from the scales.
	M0    []int32
	Shift []int
	// QMin and QMax clamp the output codes; they lie within OutAct.Range().
	// A fused ReLU raises QMin to OutAct.ZeroPoint (FuseReLU).
	QMin, QMax int32
}

// SetRequant computes M0 and Shift from WeightScale, InAct.Scale and
// OutAct.Scale (in float64: M = S_W·S_X/S_Y) for outC output channels.
func (q *Quantized) SetRequant(outC int) error {
	if outC < 1 || outC > MaxDim {
		return invalid("%d output channels", outC)
	}
	if len(q.WeightScale) != 1 && len(q.WeightScale) != outC {
		return invalid("%d weight scales for %d output channels", len(q.WeightScale), outC)
	}
	if !finitePositive(q.InAct.Scale) || !finitePositive(q.OutAct.Scale) {
		return invalid("activation scales %g, %g, want finite and > 0", q.InAct.Scale, q.OutAct.Scale)
	}
	q.M0 = make([]int32, outC)
	q.Shift = make([]int, outC)
	for c := range outC {
		sw := q.WeightScale[0]
		if len(q.WeightScale) > 1 {
			sw = q.WeightScale[c]
		}
		if !finitePositive(sw) {
			return invalid("weight scale %d is %g, want finite and > 0", c, sw)
		}
		q.M0[c], q.Shift[c] = fixedpoint.RequantMultiplier(sw, q.InAct.Scale, q.OutAct.Scale)
	}
	return nil
}

// SetClamp sets QMin and QMax to the full range of OutAct, raising QMin to
// OutAct.ZeroPoint (real 0) if relu is set: a fused ReLU.
func (q *Quantized) SetClamp(relu bool) {
	q.QMin, q.QMax = q.OutAct.Range()
	if relu {
		q.FuseReLU()
	}
}

// FuseReLU raises QMin to OutAct.ZeroPoint, the code of real 0.
func (q *Quantized) FuseReLU() {
	q.QMin = max(q.QMin, q.OutAct.ZeroPoint)
}

// FoldedBias returns q_bias[c] = q_b[c] − zx·Σ_k W[c,k] for the given input
// zero point zx (normally InAct.ZeroPoint; the runtime passes a shifted one
// when it stores signed codes with an offset), checking that it fits int32.
func (q *Quantized) FoldedBias(outC int, zx int32) ([]int32, error) {
	if outC < 1 || len(q.Weights)%outC != 0 {
		return nil, invalid("%d weights for %d output channels", len(q.Weights), outC)
	}
	k := len(q.Weights) / outC
	out := make([]int32, outC)
	for c := range outC {
		var s int64
		for _, w := range q.Weights[c*k : (c+1)*k] {
			s += int64(w)
		}
		var b int64
		if q.Bias != nil {
			b = int64(q.Bias[c])
		}
		v := b - int64(zx)*s
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, invalid("folded bias of channel %d (%d) overflows int32", c, v)
		}
		out[c] = int32(v)
	}
	return out, nil
}

// validate checks q for a layer with outC outputs and k inputs per output.
func (q *Quantized) validate(outC, k int) error {
	if q.WeightBits < 1 || q.WeightBits > 8 {
		return invalid("weight bits %d, want 1..8", q.WeightBits)
	}
	if k > MaxElems || int64(outC)*int64(k) > MaxElems {
		return invalid("%d×%d weights, more than %d", outC, k, MaxElems)
	}
	if len(q.Weights) != outC*k {
		return invalid("%d weights, want %d×%d = %d", len(q.Weights), outC, k, outC*k)
	}
	lo, hi := int8(-1<<(q.WeightBits-1)), int8(1<<(q.WeightBits-1)-1)
	for i, w := range q.Weights {
		if w < lo || w > hi {
			return invalid("weight %d is %d, outside the %d-bit range [%d, %d]", i, w, q.WeightBits, lo, hi)
		}
	}
	if len(q.WeightScale) != 1 && len(q.WeightScale) != outC {
		return invalid("%d weight scales, want 1 or %d", len(q.WeightScale), outC)
	}
	for i, s := range q.WeightScale {
		if !finitePositive(s) {
			return invalid("weight scale %d is %g, want finite and > 0", i, s)
		}
	}
	if err := q.InAct.Validate(); err != nil {
		return fmt.Errorf("input activation: %w", err)
	}
	if err := q.OutAct.Validate(); err != nil {
		return fmt.Errorf("output activation: %w", err)
	}
	if q.Bias != nil && len(q.Bias) != outC {
		return invalid("%d biases, want %d", len(q.Bias), outC)
	}
	if len(q.M0) != outC || len(q.Shift) != outC {
		return invalid("%d multipliers and %d shifts, want %d each", len(q.M0), len(q.Shift), outC)
	}
	for c := range outC {
		if err := validMultiplier(q.M0[c], q.Shift[c]); err != nil {
			return fmt.Errorf("channel %d: %w", c, err)
		}
	}
	olo, ohi := q.OutAct.Range()
	if q.QMin > q.QMax || q.QMin < olo || q.QMax > ohi {
		return invalid("clamp [%d, %d] not within the output range [%d, %d]", q.QMin, q.QMax, olo, ohi)
	}
	if _, err := q.FoldedBias(outC, q.InAct.ZeroPoint); err != nil {
		return err
	}
	return nil
}

// validMultiplier accepts what QuantizeMultiplier can return.
func validMultiplier(m0 int32, shift int) error {
	if m0 == 0 {
		if shift != 0 {
			return invalid("zero multiplier with shift %d, want 0", shift)
		}
		return nil
	}
	if m0 < 1<<30 {
		return invalid("multiplier M0 %d outside [2^30, 2^31)", m0)
	}
	if shift < MinShift || shift > MaxShift {
		return invalid("shift %d outside [%d, %d]", shift, MinShift, MaxShift)
	}
	return nil
}

func validGeom(what string, v, lo int) error {
	if v < lo || v > MaxDim {
		return invalid("%s %d outside %d..%d", what, v, lo, MaxDim)
	}
	return nil
}

// window computes the output size of a sliding window along one axis.
func window(in, k, stride, pad int) (int, error) {
	span := in + 2*pad - k
	if span < 0 {
		return 0, invalid("kernel %d larger than the padded input %d+2·%d", k, in, pad)
	}
	return span/stride + 1, nil
}

// Conv2d is a quantized 2-D convolution (cross-correlation, as PyTorch),
// dilation = 1, zero padding (padding with the input's zero point, which is
// real 0). With Groups > 1 the channels split into Groups groups, output
// group g reading only input group g (PyTorch's groups); Groups ==
// InChannels is a depthwise convolution.
type Conv2d struct {
	Name                                      string
	InChannels, OutChannels, KernelH, KernelW int
	StrideH, StrideW, PadH, PadW              int
	// Groups is 0 or 1 for a dense convolution; otherwise it divides
	// InChannels and OutChannels, and the weights are
	// [out][in/Groups][kh][kw].
	Groups int
	Quantized
}

// NumGroups is Groups, with 0 read as 1.
func (l *Conv2d) NumGroups() int { return max(l.Groups, 1) }

// Depthwise reports one input channel per group (Groups == InChannels > 1).
func (l *Conv2d) Depthwise() bool { return l.NumGroups() > 1 && l.NumGroups() == l.InChannels }

// Kind returns KindConv2d.
func (l *Conv2d) Kind() Kind { return KindConv2d }

// LayerName returns l.Name.
func (l *Conv2d) LayerName() string { return l.Name }

// OutShape is (OutChannels, (H+2·PadH−KernelH)/StrideH+1, same for W).
func (l *Conv2d) OutShape(in Shape) (Shape, error) {
	if err := l.validGeometry(); err != nil {
		return Shape{}, err
	}
	if in.C != l.InChannels {
		return Shape{}, invalid("conv2d takes %d channels, input has %d", l.InChannels, in.C)
	}
	h, err := window(in.H, l.KernelH, l.StrideH, l.PadH)
	if err != nil {
		return Shape{}, err
	}
	w, err := window(in.W, l.KernelW, l.StrideW, l.PadW)
	if err != nil {
		return Shape{}, err
	}
	return Shape{l.OutChannels, h, w}, nil
}

func (l *Conv2d) validGeometry() error {
	for _, g := range []struct {
		what   string
		v, min int
	}{
		{"input channels", l.InChannels, 1}, {"output channels", l.OutChannels, 1},
		{"kernel height", l.KernelH, 1}, {"kernel width", l.KernelW, 1},
		{"stride height", l.StrideH, 1}, {"stride width", l.StrideW, 1},
		{"padding height", l.PadH, 0}, {"padding width", l.PadW, 0},
	} {
		if err := validGeom(g.what, g.v, g.min); err != nil {
			return err
		}
	}
	if l.Groups < 0 || l.Groups > MaxDim {
		return invalid("groups %d outside 0..%d", l.Groups, MaxDim)
	}
	if g := l.NumGroups(); l.InChannels%g != 0 || l.OutChannels%g != 0 {
		return invalid("groups %d do not divide %d input and %d output channels", g, l.InChannels, l.OutChannels)
	}
	return nil
}

// K is the number of inputs of one output: (InChannels/Groups)·KernelH·KernelW.
func (l *Conv2d) K() int { return l.InChannels / l.NumGroups() * l.KernelH * l.KernelW }

// Linear is a quantized fully connected layer. Its input must be flat
// (Shape{InFeatures, 1, 1}, e.g. after Flatten).
type Linear struct {
	Name                    string
	InFeatures, OutFeatures int
	Quantized
}

// Kind returns KindLinear.
func (l *Linear) Kind() Kind { return KindLinear }

// LayerName returns l.Name.
func (l *Linear) LayerName() string { return l.Name }

// OutShape is (OutFeatures, 1, 1).
func (l *Linear) OutShape(in Shape) (Shape, error) {
	if err := validGeom("input features", l.InFeatures, 1); err != nil {
		return Shape{}, err
	}
	if err := validGeom("output features", l.OutFeatures, 1); err != nil {
		return Shape{}, err
	}
	if in.H != 1 || in.W != 1 || in.C != l.InFeatures {
		return Shape{}, invalid("linear takes %d flat features, input is %v (flatten first)", l.InFeatures, in)
	}
	return Shape{l.OutFeatures, 1, 1}, nil
}

// Pool2d is the geometry of a pooling window.
type Pool2d struct {
	KernelH, KernelW, StrideH, StrideW, PadH, PadW int
}

func (p Pool2d) outShape(in Shape) (Shape, error) {
	for _, g := range []struct {
		what   string
		v, min int
	}{
		{"kernel height", p.KernelH, 1}, {"kernel width", p.KernelW, 1},
		{"stride height", p.StrideH, 1}, {"stride width", p.StrideW, 1},
		{"padding height", p.PadH, 0}, {"padding width", p.PadW, 0},
	} {
		if err := validGeom(g.what, g.v, g.min); err != nil {
			return Shape{}, err
		}
	}
	// PyTorch's rule: padding at most half the kernel, so that every window
	// holds at least one real element.
	if 2*p.PadH > p.KernelH || 2*p.PadW > p.KernelW {
		return Shape{}, invalid("pool padding %dx%d more than half the kernel %dx%d", p.PadH, p.PadW, p.KernelH, p.KernelW)
	}
	h, err := window(in.H, p.KernelH, p.StrideH, p.PadH)
	if err != nil {
		return Shape{}, err
	}
	w, err := window(in.W, p.KernelW, p.StrideW, p.PadW)
	if err != nil {
		return Shape{}, err
	}
	return Shape{in.C, h, w}, nil
}

// MaxPool2d takes the maximum of the integer codes in each window (the
// quantization is monotone, so this is the code of the real maximum).
// Padded positions are ignored, as in PyTorch. Input and output share their
// quantization.
type MaxPool2d struct {
	Name string
	Pool2d
}

// Kind returns KindMaxPool2d.
func (l *MaxPool2d) Kind() Kind { return KindMaxPool2d }

// LayerName returns l.Name.
func (l *MaxPool2d) LayerName() string { return l.Name }

// OutShape applies the window to in's spatial dimensions.
func (l *MaxPool2d) OutShape(in Shape) (Shape, error) { return l.Pool2d.outShape(in) }

// AvgPool2d averages the integer codes in each window.
//
// Without Requant (v1): it divides the sum of codes by the number of
// in-bounds elements (padding not counted, TFLite's rule), rounding half
// away from zero; input and output share their quantization.
//
// With Requant: acc = Σ (q − Requant.In.ZeroPoint) over the window, padded
// positions counting as real 0, is rescaled by Requant with count
// KernelH·KernelW always (PyTorch's count_include_pad=True); the output
// takes Requant.Out.
type AvgPool2d struct {
	Name string
	Pool2d
	Requant *Rescale
}

// Kind returns KindAvgPool2d.
func (l *AvgPool2d) Kind() Kind { return KindAvgPool2d }

// LayerName returns l.Name.
func (l *AvgPool2d) LayerName() string { return l.Name }

// OutShape applies the window to in's spatial dimensions.
func (l *AvgPool2d) OutShape(in Shape) (Shape, error) { return l.Pool2d.outShape(in) }

// Flatten turns (C, H, W) into (C·H·W, 1, 1), in C, H, W order (PyTorch's
// flatten of an NCHW tensor).
type Flatten struct {
	Name string
}

// Kind returns KindFlatten.
func (l *Flatten) Kind() Kind { return KindFlatten }

// LayerName returns l.Name.
func (l *Flatten) LayerName() string { return l.Name }

// OutShape is (C·H·W, 1, 1).
func (l *Flatten) OutShape(in Shape) (Shape, error) {
	return Shape{in.Size(), 1, 1}, nil
}

// Model is an exported integer model: a graph of layers in topological
// order. Tensor 0 is the (quantized) model input and tensor j+1 is the
// output of layer j; layer i reads the tensors LayerInputs(i), and the
// model's output is the last layer's output.
type Model struct {
	// Input quantizes the float32 input: q = clamp(Z + round(x/S)).
	Input ActQuant
	// InputShape is one image's shape, e.g. {1, 28, 28} for MNIST.
	InputShape Shape
	// Layers run in order.
	Layers []Layer
	// Inputs[i] lists the tensors layer i reads (each < i+1). A nil Inputs,
	// or a nil or empty Inputs[i], means tensor i, the previous layer's
	// output: a sequential (v1) model needs no Inputs.
	Inputs [][]int
	// Output dequantizes the last layer's codes into logits,
	// y = Output.Scale·(q − Output.ZeroPoint). It must equal the
	// quantization of the last layer's output.
	Output ActQuant
	// Meta is free-form provenance (source model, config, accuracy).
	Meta map[string]string
}

// LayerInputs returns the tensors layer i reads: Inputs[i], or {i} (the
// previous tensor) when that is nil or empty. The result must not be
// modified.
func (m *Model) LayerInputs(i int) []int {
	if i < len(m.Inputs) && len(m.Inputs[i]) > 0 {
		return m.Inputs[i]
	}
	return []int{i}
}

// Shapes validates m and returns the output shape of every layer.
func (m *Model) Shapes() ([]Shape, error) {
	shapes, _, err := m.analyze()
	if err != nil {
		return nil, err
	}
	return shapes[1:], nil
}

// Acts validates m and returns the quantization of every tensor: acts[0]
// is Input, acts[j+1] the output of layer j.
func (m *Model) Acts() ([]ActQuant, error) {
	_, acts, err := m.analyze()
	return acts, err
}

// TensorShapes validates m and returns the shape of every tensor:
// shapes[0] is InputShape, shapes[j+1] the output of layer j.
func (m *Model) TensorShapes() ([]Shape, error) {
	shapes, _, err := m.analyze()
	return shapes, err
}

// Sequential reports whether every layer reads the previous tensor only.
func (m *Model) Sequential() bool {
	for i := range m.Layers {
		if in := m.LayerInputs(i); len(in) != 1 || in[0] != i {
			return false
		}
	}
	return true
}

// analyze validates m and returns the shape and quantization of every
// tensor (index 0: the input).
func (m *Model) analyze() ([]Shape, []ActQuant, error) {
	if err := m.Input.Validate(); err != nil {
		return nil, nil, fmt.Errorf("input: %w", err)
	}
	if err := m.InputShape.validate(); err != nil {
		return nil, nil, fmt.Errorf("input: %w", err)
	}
	if len(m.Layers) == 0 {
		return nil, nil, invalid("no layers")
	}
	if len(m.Layers) > MaxLayers {
		return nil, nil, invalid("%d layers, at most %d", len(m.Layers), MaxLayers)
	}
	if len(m.Inputs) > len(m.Layers) {
		return nil, nil, invalid("%d input lists for %d layers", len(m.Inputs), len(m.Layers))
	}
	shapes := make([]Shape, len(m.Layers)+1)
	acts := make([]ActQuant, len(m.Layers)+1)
	shapes[0], acts[0] = m.InputShape, m.Input
	for i, l := range m.Layers {
		if l == nil {
			return nil, nil, invalid("layer %d is nil", i)
		}
		where := func(err error) error {
			return fmt.Errorf("layer %d (%s %q): %w", i, l.Kind(), l.LayerName(), err)
		}
		ins := m.LayerInputs(i)
		lo, hi := arity(l)
		if len(ins) < lo || len(ins) > hi {
			return nil, nil, where(invalid("%d inputs, want %d..%d", len(ins), lo, hi))
		}
		inShapes := make([]Shape, len(ins))
		inActs := make([]ActQuant, len(ins))
		for k, t := range ins {
			if t < 0 || t > i {
				return nil, nil, where(invalid("input %d reads tensor %d, want 0..%d (layers in topological order)", k, t, i))
			}
			inShapes[k], inActs[k] = shapes[t], acts[t]
		}
		out, outAct, err := layerOut(l, inShapes, inActs)
		if err != nil {
			return nil, nil, where(err)
		}
		if err := out.validate(); err != nil {
			return nil, nil, where(err)
		}
		shapes[i+1], acts[i+1] = out, outAct
	}
	if last := acts[len(acts)-1]; m.Output != last {
		return nil, nil, invalid("output dequantization %+v differs from the last layer's output quantization %+v", m.Output, last)
	}
	return shapes, acts, nil
}

// MaxInputs bounds the inputs of one layer (a Concat's fan-in).
const MaxInputs = 1024

// arity is the number of inputs a layer takes.
func arity(l Layer) (lo, hi int) {
	switch l.(type) {
	case *Add:
		return 2, 2
	case *Concat:
		return 2, MaxInputs
	}
	return 1, 1
}

func sameAct(what string, got, want ActQuant) error {
	if got != want {
		return invalid("%s quantization %+v differs from its input tensor's %+v", what, got, want)
	}
	return nil
}

// layerOut validates l against its input tensors and returns its output
// shape and quantization.
func layerOut(l Layer, in []Shape, act []ActQuant) (Shape, ActQuant, error) {
	switch l := l.(type) {
	case *Add:
		out, err := l.OutShapes(in)
		if err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := l.validate(); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("first input", l.A, act[0]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("second input", l.B, act[1]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		return out, l.Out, nil
	case *Concat:
		out, err := l.OutShapes(in)
		if err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := l.validate(); err != nil {
			return Shape{}, ActQuant{}, err
		}
		for k := range in {
			if err := sameAct(fmt.Sprintf("input %d", k), l.In[k], act[k]); err != nil {
				return Shape{}, ActQuant{}, err
			}
		}
		return out, l.Out, nil
	}
	out, err := l.OutShape(in[0])
	if err != nil {
		return Shape{}, ActQuant{}, err
	}
	switch l := l.(type) {
	case *Conv2d:
		if err := l.Quantized.validate(l.OutChannels, l.K()); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("input", l.InAct, act[0]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		return out, l.OutAct, nil
	case *Linear:
		if err := l.Quantized.validate(l.OutFeatures, l.InFeatures); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("input", l.InAct, act[0]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		return out, l.OutAct, nil
	case *AvgPool2d:
		if l.Requant == nil {
			return out, act[0], nil
		}
		if err := l.Requant.check("requant", l.KernelH*l.KernelW); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("requant input", l.Requant.In, act[0]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		return out, l.Requant.Out, nil
	case *GlobalAvgPool:
		if err := l.Rescale.check("rescale", in[0].H*in[0].W); err != nil {
			return Shape{}, ActQuant{}, err
		}
		if err := sameAct("input", l.In, act[0]); err != nil {
			return Shape{}, ActQuant{}, err
		}
		return out, l.Out, nil
	case *MaxPool2d, *Flatten:
		return out, act[0], nil
	}
	return Shape{}, ActQuant{}, invalid("unknown layer type %T", l)
}

// Validate checks every invariant of m: bit widths, ranges, multipliers,
// clamp bounds, sizes against shapes, the graph's edges, and that each
// layer's input shapes and quantizations are those of the tensors it reads.
func (m *Model) Validate() error {
	_, err := m.Shapes()
	return err
}
