package nn

import (
	"fmt"
	"math"
	"reflect"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Container is a module made of other modules. Preparation for QAT
// (package qconfig) walks containers recursively to give every layer its
// quantizers, so a user-written module that holds layers implements it; a
// module that holds parameters but is neither a known layer nor a Container
// is refused by name.
type Container interface {
	Module
	Children() []Module
}

// Children returns the layers in order.
func (s *Sequential) Children() []Module { return s.Layers }

// Children returns the body.
func (m *Model) Children() []Module { return []Module{m.Body} }

// ReLU6 is min(max(x, 0), 6) (MobileNet's activation). Sequential fuses it
// into a preceding Linear, Conv2d, ConvBn or Residual, so that the
// activation quantizer sits after it and the integer model clamps to
// [Z, Z + round(6/S)].
type ReLU6 struct{ LayerName string }

func (r *ReLU6) Name() string                 { return r.LayerName }
func (r *ReLU6) Params() []*Param             { return nil }
func (r *ReLU6) Quantizers() []NamedQuantizer { return nil }
func (r *ReLU6) Build(b *Builder, x *G.Node) (*G.Node, error) {
	y, err := kernels.ReLU6(x)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", r.LayerName, err)
	}
	b.emit(r, []*G.Node{x}, y, b.GridOf(x))
	return y, nil
}
func (r *ReLU6) describe() LayerInfo { return LayerInfo{Name: r.LayerName, Kind: "relu6"} }

// GlobalAvgPool averages each channel of an NCHW tensor over its H×W
// positions and returns (N, C): the head of ResNets and MobileNets, followed
// by a Linear. AQ (when set) quantizes the mean; the integer model divides
// the sum of codes by H·W with a fixed-point multiplier.
type GlobalAvgPool struct {
	LayerName string
	AQ        fakequant.Quantizer
}

func (p *GlobalAvgPool) Name() string     { return p.LayerName }
func (p *GlobalAvgPool) Params() []*Param { return nil }
func (p *GlobalAvgPool) Quantizers() []NamedQuantizer {
	return namedQ(p.LayerName, nil, p.AQ)
}
func (p *GlobalAvgPool) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("nn: %s: input shape %v, want (N, C, H, W)", p.LayerName, x.Shape())
	}
	inQ := b.GridOf(x)
	y, err := kernels.GlobalAvgPool(x)
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
func (p *GlobalAvgPool) describe() LayerInfo {
	return LayerInfo{Name: p.LayerName, Kind: "globalavgpool", OutputQ: nq(p.LayerName+".act", p.AQ)}
}

// Add sums two tensors of one shape (a residual connection), with an
// optional fused ReLU or ReLU6 and an output quantizer of its own: its two
// inputs are on different grids, and the integer model rescales each with a
// fixed-point multiplier before the sum (TFLite's ADD).
type Add struct {
	LayerName   string
	ReLU, ReLU6 bool
	AQ          fakequant.Quantizer
}

func (a *Add) Name() string     { return a.LayerName }
func (a *Add) Params() []*Param { return nil }
func (a *Add) Quantizers() []NamedQuantizer {
	return namedQ(a.LayerName, nil, a.AQ)
}

// Build is the identity-free form of Apply for a Module list: it fails,
// since an Add needs two inputs. Use Apply (or Residual).
func (a *Add) Build(b *Builder, x *G.Node) (*G.Node, error) {
	return nil, fmt.Errorf("nn: %s: Add takes two inputs: call its Apply from a module's Build, or use Residual", a.LayerName)
}

// Apply adds x1 and x2.
func (a *Add) Apply(b *Builder, x1, x2 *G.Node) (*G.Node, error) {
	if !x1.Shape().Eq(x2.Shape()) {
		return nil, fmt.Errorf("nn: %s: input shapes %v and %v differ", a.LayerName, x1.Shape(), x2.Shape())
	}
	q1, q2 := b.GridOf(x1), b.GridOf(x2)
	var y *G.Node
	var err error
	if (a.ReLU || a.ReLU6) && !b.noFold {
		// The sum and its activation in one pass, the output quantizer
		// folded into it in training (see ConvBn.Build).
		hi := math.Inf(1)
		if a.ReLU6 {
			hi = 6
		}
		var fold *kernels.Fold
		if b.folds(a.AQ, x1) {
			fold = &kernels.Fold{}
		}
		if y, err = kernels.AddAct(x1, x2, hi, fold); err != nil {
			return nil, fmt.Errorf("nn: %s: %w", a.LayerName, err)
		}
		if fold != nil {
			if y, err = b.quantizeFolded(a.LayerName+".act", a.AQ, y, fold); err != nil {
				return nil, err
			}
		} else if y, err = b.Quantize(a.LayerName+".act", a.AQ, y); err != nil {
			return nil, err
		}
	} else {
		if y, err = kernels.Add(x1, x2); err != nil {
			return nil, fmt.Errorf("nn: %s: %w", a.LayerName, err)
		}
		if y, err = b.actOut(a.LayerName, a.ReLU, a.ReLU6, a.AQ, y); err != nil {
			return nil, err
		}
	}
	if y, err = b.integerExactAdd(a, q1, q2, x1, x2, y); err != nil {
		return nil, err
	}
	b.emit(a, []*G.Node{x1, x2}, y, nq(a.LayerName+".act", a.AQ))
	return y, nil
}
func (a *Add) describe() LayerInfo {
	return LayerInfo{Name: a.LayerName, Kind: "add", ReLU: a.ReLU, ReLU6: a.ReLU6, OutputQ: nq(a.LayerName+".act", a.AQ)}
}

// Residual is y = act(Body(x) + Shortcut(x)): a ResNet basic block or a
// MobileNetV2 inverted residual. A nil Shortcut is the identity; a 1×1
// projection (a ConvBn) matches the channels and stride of the body.
type Residual struct {
	LayerName string
	Body      Module
	Shortcut  Module // nil: identity
	Sum       *Add
}

// NewResidual returns a residual block whose sum is named name+".add".
func NewResidual(name string, body, shortcut Module) *Residual {
	return &Residual{LayerName: name, Body: body, Shortcut: shortcut, Sum: &Add{LayerName: name + ".add"}}
}

func (r *Residual) Name() string { return r.LayerName }
func (r *Residual) Children() []Module {
	ms := []Module{r.Body}
	if r.Shortcut != nil {
		ms = append(ms, r.Shortcut)
	}
	return append(ms, r.Sum)
}
func (r *Residual) Params() []*Param { return paramsOf(r.Body, r.Shortcut) }
func (r *Residual) Quantizers() []NamedQuantizer {
	qs := quantizersOf(r.Body, r.Shortcut)
	if r.Sum != nil {
		qs = append(qs, r.Sum.Quantizers()...)
	}
	return qs
}
func (r *Residual) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if r.Sum == nil {
		return nil, fmt.Errorf("nn: %s: residual block without its Add", r.LayerName)
	}
	if tail, prefix := r.sumTail(b); tail != nil {
		return r.buildSum(b, x, prefix, tail)
	}
	if tail, prefix := r.quantSumTail(b); tail != nil {
		return r.buildQuantSum(b, x, prefix, tail)
	}
	y, err := b.Build(r.Body, x)
	if err != nil {
		return nil, err
	}
	s := x
	if r.Shortcut != nil {
		if s, err = b.Build(r.Shortcut, x); err != nil {
			return nil, err
		}
	}
	return r.Sum.Apply(b, y, s)
}

// Concat joins tensors along the channel axis (NCHW axis 1, or the feature
// axis of (N, F) tensors). Its output quantizer is its own; the integer
// model rescales each input whose grid differs (TFLite's CONCATENATION).
type Concat struct {
	LayerName string
	AQ        fakequant.Quantizer
}

func (c *Concat) Name() string     { return c.LayerName }
func (c *Concat) Params() []*Param { return nil }
func (c *Concat) Quantizers() []NamedQuantizer {
	return namedQ(c.LayerName, nil, c.AQ)
}

// Build fails: a Concat takes several inputs. Use Apply or Branches.
func (c *Concat) Build(b *Builder, x *G.Node) (*G.Node, error) {
	return nil, fmt.Errorf("nn: %s: Concat takes several inputs: call its Apply from a module's Build, or use Branches", c.LayerName)
}

// Apply concatenates xs along axis 1.
func (c *Concat) Apply(b *Builder, xs ...*G.Node) (*G.Node, error) {
	if len(xs) < 2 {
		return nil, fmt.Errorf("nn: %s: concat of %d inputs, want at least 2", c.LayerName, len(xs))
	}
	s0 := xs[0].Shape()
	qs := make([]NamedQuantizer, len(xs))
	for i, x := range xs {
		s := x.Shape()
		if s.Dims() != s0.Dims() || s[0] != s0[0] || (s.Dims() == 4 && (s[2] != s0[2] || s[3] != s0[3])) || (s.Dims() != 2 && s.Dims() != 4) {
			return nil, fmt.Errorf("nn: %s: input %d has shape %v, want (N, C, %v) like input 0 %v", c.LayerName, i, s, s0[2:], s0)
		}
		qs[i] = b.GridOf(x)
	}
	y, err := concatNode(xs)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	if y, err = b.Quantize(c.LayerName+".act", c.AQ, y); err != nil {
		return nil, err
	}
	if y, err = b.integerExactConcat(c, qs, xs, y); err != nil {
		return nil, err
	}
	b.emit(c, xs, y, nq(c.LayerName+".act", c.AQ))
	return y, nil
}
func (c *Concat) describe() LayerInfo {
	return LayerInfo{Name: c.LayerName, Kind: "concat", OutputQ: nq(c.LayerName+".act", c.AQ)}
}

// Branches runs every branch on the same input and concatenates their
// outputs along the channels (an Inception-style block).
type Branches struct {
	LayerName string
	Paths     []Module
	Cat       *Concat
}

// NewBranches returns the branches joined by a Concat named name+".cat".
func NewBranches(name string, paths ...Module) *Branches {
	return &Branches{LayerName: name, Paths: paths, Cat: &Concat{LayerName: name + ".cat"}}
}

func (br *Branches) Name() string { return br.LayerName }
func (br *Branches) Children() []Module {
	return append(append([]Module(nil), br.Paths...), br.Cat)
}
func (br *Branches) Params() []*Param { return paramsOf(br.Paths...) }
func (br *Branches) Quantizers() []NamedQuantizer {
	qs := quantizersOf(br.Paths...)
	if br.Cat != nil {
		qs = append(qs, br.Cat.Quantizers()...)
	}
	return qs
}
func (br *Branches) Build(b *Builder, x *G.Node) (*G.Node, error) {
	if br.Cat == nil || len(br.Paths) < 2 {
		return nil, fmt.Errorf("nn: %s: branches need at least two paths and their Concat", br.LayerName)
	}
	ys := make([]*G.Node, len(br.Paths))
	for i, p := range br.Paths {
		y, err := b.Build(p, x)
		if err != nil {
			return nil, err
		}
		ys[i] = y
	}
	return br.Cat.Apply(b, ys...)
}

// concatNode joins xs along axis 1; (N, C_i, H, W) or (N, F_i).
func concatNode(xs []*G.Node) (*G.Node, error) {
	if xs[0].Dims() == 4 {
		return kernels.ConcatChannels(xs...)
	}
	// (N, F) as (N, F, 1, 1).
	x4 := make([]*G.Node, len(xs))
	for i, x := range xs {
		r, err := G.Reshape(x, tensor.Shape{x.Shape()[0], x.Shape()[1], 1, 1})
		if err != nil {
			return nil, err
		}
		x4[i] = r
	}
	y, err := kernels.ConcatChannels(x4...)
	if err != nil {
		return nil, err
	}
	return G.Reshape(y, tensor.Shape{y.Shape()[0], y.Shape()[1]})
}

// groupedConv is a convolution with groups (1: dense).
func groupedConv(x, w, bias *G.Node, p kernels.ConvParams, groups int) (*G.Node, error) {
	p.Groups = groups
	return kernels.Conv2d(x, w, bias, p)
}

// Walk calls fn for m and then, depth first in order, for every module
// inside it (through Container.Children).
func Walk(m Module, fn func(Module) error) error {
	if m == nil {
		return nil
	}
	if err := fn(m); err != nil {
		return err
	}
	if c, ok := m.(Container); ok {
		for _, ch := range c.Children() {
			if err := Walk(ch, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// isNil reports whether m is nil or a nil pointer in an interface.
func isNil(m Module) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// paramsOf lists the parameters of the non-nil modules.
func paramsOf(ms ...Module) []*Param {
	var ps []*Param
	for _, m := range ms {
		if !isNil(m) {
			ps = append(ps, m.Params()...)
		}
	}
	return ps
}

// quantizersOf lists the quantizers of the non-nil modules.
func quantizersOf(ms ...Module) []NamedQuantizer {
	var qs []NamedQuantizer
	for _, m := range ms {
		if !isNil(m) {
			qs = append(qs, m.Quantizers()...)
		}
	}
	return qs
}

// sumTail returns the body's last layer and the layers before it when the
// block's sum and its activation can be taken into that layer's op, else
// nil: a float ConvBn without activation or quantizers at the end of a
// Sequential body (or the body itself), a sum without an output quantizer.
// An evaluation graph applies the sum to each image's convolution output
// while it is in cache (kernels.Conv2dBNAddEval; the convolution's own
// output never exists, so not where KeepActivations reads every layer's,
// and not on grouped convolutions); a training graph applies it in the
// batch norm's output loop (kernels.BatchNormAddAct). Either way a pass
// over two tensors from memory is saved (the residual add and ReLU were 7%
// of resnet20's inference, 2% of its training step).
func (r *Residual) sumTail(b *Builder) (*ConvBn, []Module) {
	if b.noFold || r.Sum.AQ != nil || b.mode == Eval && b.keepActs {
		return nil, nil
	}
	tail, prefix := r.bodyTail()
	cb, ok := tail.(*ConvBn)
	if !ok || cb.Conv.WQ != nil || cb.Conv.AQ != nil || cb.Conv.ReLU || cb.Conv.ReLU6 {
		return nil, nil
	}
	if b.mode == Eval && cb.Conv.groups() != 1 {
		return nil, nil
	}
	return cb, prefix
}

// bodyTail returns the body's last layer and the layers before it: the
// body itself, or a Sequential body's last layer (nil when it is empty).
func (r *Residual) bodyTail() (Module, []Module) {
	if s, ok := r.Body.(*Sequential); ok {
		if len(s.Layers) == 0 {
			return nil, nil // Build reports it
		}
		return s.Layers[len(s.Layers)-1], s.Layers[:len(s.Layers)-1]
	}
	return r.Body, nil
}

// quantSumTail is sumTail for a QAT training graph: the body's last layer
// and the layers before it when that layer is a ConvBn without activation
// whose output quantizer can run inside the batch norm
// (fakequant.Inner) and the sum has a ReLU or ReLU6, else nil. The batch
// norm, its quantizer and the sum then run as one op
// (kernels.BatchNormQuantAddAct), where they were three passes over the
// block's output and a pass of the sum's quantizer besides: the sum's
// quantizer folds into it as into AddAct.
func (r *Residual) quantSumTail(b *Builder) (*ConvBn, []Module) {
	if b.mode != Train || b.noFold || b.dt != tensor.Float32 || !(r.Sum.ReLU || r.Sum.ReLU6) {
		return nil, nil
	}
	tail, prefix := r.bodyTail()
	cb, ok := tail.(*ConvBn)
	if !ok || cb.Conv.ReLU || cb.Conv.ReLU6 || cb.Conv.AQ == nil || !fakequant.CanFold(cb.Conv.AQ, tensor.Float32) {
		return nil, nil
	}
	return cb, prefix
}

// buildQuantSum builds the block with its last batch norm, that layer's
// output quantizer and the sum in one op (quantSumTail): the body's other
// layers, the shortcut, the convolution, the fused op and the sum's
// quantizer.
func (r *Residual) buildQuantSum(b *Builder, x *G.Node, prefix []Module, tail *ConvBn) (*G.Node, error) {
	y, s, _, err := r.buildAroundTail(b, x, prefix, tail)
	if err != nil {
		return nil, err
	}
	c := tail.Conv
	q, err := fakequant.Inner(c.AQ)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", c.LayerName, err)
	}
	hi := 6.0
	if r.Sum.ReLU {
		hi = math.Inf(1)
	}
	z, unscale, err := tail.conv(b, y)
	if err != nil {
		return nil, err
	}
	if !z.Shape().Eq(s.Shape()) {
		return nil, fmt.Errorf("nn: %s: input shapes %v and %v differ", r.Sum.LayerName, z.Shape(), s.Shape())
	}
	var fold *kernels.Fold
	if b.folds(r.Sum.AQ, z) {
		fold = &kernels.Fold{}
	}
	if z, err = tail.BN.nodeQuantSum(b, z, unscale, s, hi, q, fold); err != nil {
		return nil, fmt.Errorf("nn: %s: %w", r.Sum.LayerName, err)
	}
	name := r.Sum.LayerName + ".act"
	if fold != nil {
		z, err = b.quantizeFolded(name, r.Sum.AQ, z, fold)
	} else {
		z, err = b.Quantize(name, r.Sum.AQ, z)
	}
	if err != nil {
		return nil, err
	}
	b.emit(r.Sum, []*G.Node{y, s}, z, nq(name, r.Sum.AQ))
	return z, nil
}

// buildAroundTail builds what a block with its sum in the body's last
// layer (tail) builds before that layer: the body's other layers on x
// (their output y, the tail's input) and the shortcut (s); short is the
// evaluation graph's record count before the shortcut.
func (r *Residual) buildAroundTail(b *Builder, x *G.Node, prefix []Module, tail *ConvBn) (y, s *G.Node, short int, err error) {
	y = x
	for _, l := range prefix {
		if y, err = b.Build(l, y); err != nil {
			return nil, nil, 0, err
		}
	}
	if err := tail.Conv.checkInput(y); err != nil {
		return nil, nil, 0, err
	}
	short = len(b.records)
	s = x
	if r.Shortcut != nil {
		if s, err = b.Build(r.Shortcut, x); err != nil {
			return nil, nil, 0, err
		}
	}
	return y, s, short, nil
}

// buildSum builds the block with its sum in the body's last layer
// (sumTail): the body's other layers, the shortcut, then the convolution
// and batch norm with the shortcut's output as the addend. An evaluation
// graph records both layers in the order Build records them otherwise
// (body, shortcut, sum), the ConvBn's and the sum's outputs one node.
func (r *Residual) buildSum(b *Builder, x *G.Node, prefix []Module, tail *ConvBn) (*G.Node, error) {
	y, s, short, err := r.buildAroundTail(b, x, prefix, tail)
	if err != nil {
		return nil, err
	}
	c := tail.Conv
	hi := 0.0
	switch {
	case r.Sum.ReLU6:
		hi = 6
	case r.Sum.ReLU:
		hi = math.Inf(1)
	}
	var bias *G.Node
	if c.Bias != nil {
		bias = b.Node(c.Bias)
	}
	var z *G.Node
	if b.mode == Eval {
		z, err = tail.convBNAddEval(b, y, b.Node(c.Weight), bias, nil, s, hi)
	} else if z, err = c.conv(b, y, b.Node(c.Weight), bias); err == nil {
		z, err = tail.BN.nodeSum(b, z, s, hi)
	}
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", r.Sum.LayerName, err)
	}
	b.emit(tail, []*G.Node{y}, z, NamedQuantizer{})
	b.moveRecord(len(b.records)-1, short)
	b.emit(r.Sum, []*G.Node{z, s}, z, NamedQuantizer{})
	return z, nil
}
