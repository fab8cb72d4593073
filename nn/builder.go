package nn

import (
	"errors"
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
	"github.com/qatgo/qatgo/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode says which graph a Builder builds.
type Mode int

const (
	// Train builds the training graph: batch statistics, dropout on.
	Train Mode = iota
	// Eval builds the evaluation graph: running statistics, dropout off.
	Eval
)

func (m Mode) String() string {
	if m == Train {
		return "train"
	}
	return "eval"
}

// Module is a network or a part of one. Build adds its computation on x to
// the Builder's graph and returns the output node; it may be called several
// times (once per graph), and must then share its Params and Quantizers.
type Module interface {
	// Name is the module's name, the prefix of its Params' and Quantizers' names.
	Name() string
	// Build adds the module to b's graph.
	Build(b *Builder, x *G.Node) (*G.Node, error)
	// Params lists the module's persistent tensors (weights, BN statistics).
	// Learnable quantizer parameters are registered at Build time instead
	// (Net.Params has them).
	Params() []*Param
	// Quantizers lists the module's quantizers, with names like
	// "conv1.weight", "conv1.act" or "input".
	Quantizers() []NamedQuantizer
}

// NamedQuantizer is a quantizer with the name of the tensor it quantizes.
type NamedQuantizer struct {
	Name string
	Q    fakequant.Quantizer
}

// Builder builds one graph of a compiled module. Modules use it to get the
// graph node of a Param, to apply quantizers, and to record what the
// exporter needs (which quantizer's grid the current tensor is on).
type Builder struct {
	g    *G.ExprGraph
	mode Mode
	dt   tensor.Dtype
	fast bool
	// noFold builds the plain ops: no quantizer folded into the op before
	// it, no fused evaluation batch norm or residual activation (tests
	// compare both, bit for bit).
	noFold bool
	// convFolds are the quantizers folded into convolutions (Conv2d.Build)
	// by their output node: a max pool reading one applies its mask
	// (MaxPool2d.Build); settleFolds unfolds the rest.
	convFolds map[*G.Node]*convFold
	// handoffs are the training graph's batch norms whose output the
	// convolution reading it may compute (kernels.Handoff), by that output
	// node; settleFolds releases those another op reads too.
	handoffs map[*G.Node]*kernels.Handoff
	nodes    map[*Param]*G.Node
	// ws is the scratch the graph's convolutions share (its ops run one
	// at a time)
	ws *kernels.Workspace
	// input is the graph's data input; inputGrad says whether the loss
	// gradient with respect to it is wanted (gradient checks).
	input     *G.Node
	inputGrad bool
	// learn holds learnable quantizer parameters by name; shared between
	// the graphs of one Net.
	learn    map[string]*Param
	learnSeq *[]*Param

	// trace maps every node produced by a recorded layer (or the model
	// input) to its producer and the quantizer whose grid it is on: the
	// dataflow graph that export, analysis and integer-exact evaluation read.
	trace    map[*G.Node]traced
	traceErr error // the first module whose output was not traced
	outRec   int   // the record producing the graph's output
	keepActs bool  // read every layer's output (KeepActivations)
	records  []layerRecord
	dropouts []*dropoutMask
	bns      []*kernels.BNStats
	ie       *intExact // the Net's integer-exact evaluation state (intexact.go)
	// err is the first error of a Node call (which cannot return one);
	// Compile reports it.
	err error
}

// Graph is the graph being built.
func (b *Builder) Graph() *G.ExprGraph { return b.g }

// Mode is the kind of graph being built.
func (b *Builder) Mode() Mode { return b.mode }

// DType is the element type of the graph's tensors.
func (b *Builder) DType() tensor.Dtype { return b.dt }

// Node returns p's node in this graph, creating it on first use; every graph
// binds the same tensor.
func (b *Builder) Node(p *Param) *G.Node {
	if n, ok := b.nodes[p]; ok {
		return n
	}
	if p.shared != nil {
		return b.sharedNode(p)
	}
	n := G.NewTensor(b.g, b.dt, p.Value.Dims(), G.WithShape(p.Value.Shape().Clone()...), G.WithName(p.Name), G.WithValue(p.Value))
	b.nodes[p] = n
	return n
}

// traced is what the Builder knows of a node: which record produced it
// (modelInput for the model's input) and which quantizer's grid it is on.
type traced struct {
	rec  int
	grid NamedQuantizer
}

// modelInput is the producer index of the (quantized) model input.
const modelInput = -1

// GridOf returns the quantizer whose grid x is on (the output quantizer of
// the layer that produced it, or the input quantizer), or a zero
// NamedQuantizer for a float tensor or a node no layer produced.
func (b *Builder) GridOf(x *G.Node) NamedQuantizer { return b.trace[x].grid }

// Build builds module m on x and checks that its output was produced by a
// qatgo layer (or is one of its inputs): a module that computes its output
// with other graph operations can train, but it has no quantized or integer
// form, and Net.Graph names it. Containers build their children with it.
func (b *Builder) Build(m Module, x *G.Node) (*G.Node, error) {
	if isNil(m) {
		return nil, errors.New("nn: Build of a nil module (a container with a missing child?)")
	}
	y, err := m.Build(b, x)
	if err != nil {
		return nil, err
	}
	if _, ok := b.trace[y]; !ok && b.mode == Eval && b.traceErr == nil {
		b.traceErr = fmt.Errorf("%w: module %q (%T) computes its output with graph operations that are not qatgo layers", ErrUntraced, m.Name(), m)
	}
	return y, nil
}

// emit records layer l (eval graph) with its input nodes and output node y,
// and marks y as on grid out. An input that no layer produced makes the
// layer's record fail with ErrUntraced.
func (b *Builder) emit(l describer, ins []*G.Node, y *G.Node, out NamedQuantizer) {
	rec := modelInput - 1 // not recorded (training graph)
	if b.mode == Eval {
		r := layerRecord{l: l, out: y.Shape().Clone()}
		for _, x := range ins {
			t, ok := b.trace[x]
			if !ok {
				t.rec = modelInput - 1
			}
			if !ok && b.traceErr == nil {
				b.traceErr = fmt.Errorf("%w: the input of layer %q comes from graph operations that are not qatgo layers", ErrUntraced, l.describe().Name)
			}
			r.ins = append(r.ins, x.Shape().Clone())
			r.inQs = append(r.inQs, t.grid)
			r.from = append(r.from, t.rec)
		}
		if b.keepActs {
			r.val = new(G.Value)
			G.Read(y, r.val)
		}
		b.records = append(b.records, r)
		rec = len(b.records) - 1
	}
	b.trace[y] = traced{rec: rec, grid: out}
}

// moveRecord moves the evaluation graph's record at index from to index to
// (to ≤ from), shifting those between by one, and renumbers the references
// to them.
func (b *Builder) moveRecord(from, to int) {
	if b.mode != Eval || to >= from {
		return
	}
	renum := func(i int) int {
		switch {
		case i == from:
			return to
		case i >= to && i < from:
			return i + 1
		}
		return i
	}
	r := b.records[from]
	copy(b.records[to+1:from+1], b.records[to:from])
	b.records[to] = r
	for i := range b.records {
		for j, f := range b.records[i].from {
			b.records[i].from[j] = renum(f)
		}
	}
	for n, t := range b.trace {
		t.rec = renum(t.rec)
		b.trace[n] = t
	}
}

// alias marks y (an identity of x: dropout at evaluation, a no-op reshape)
// as x itself for the trace.
func (b *Builder) alias(y, x *G.Node) {
	if t, ok := b.trace[x]; ok {
		b.trace[y] = t
	}
}

// Quantize applies q (named name, e.g. "conv1.weight") to x; q may be nil,
// which returns x. Learnable tensors q registers get Params named
// name+"."+their name.
func (b *Builder) Quantize(name string, q fakequant.Quantizer, x *G.Node) (*G.Node, error) {
	if q == nil {
		return x, nil
	}
	y, err := q.Apply(binder{b, name}, x)
	if err != nil {
		return nil, fmt.Errorf("nn: quantizer %s: %w", name, err)
	}
	return y, nil
}

// quantizeFolded is Quantize of y by q folded into the op that produced y
// through f (fakequant.ApplyFolded; Builder.folds says when q can fold).
func (b *Builder) quantizeFolded(name string, q fakequant.Quantizer, y *G.Node, f *kernels.Fold) (*G.Node, error) {
	out, err := fakequant.ApplyFolded(q, y, f)
	if err != nil {
		return nil, fmt.Errorf("nn: quantizer %s: %w", name, err)
	}
	// A batch norm's Handoff goes to the quantizer's reader.
	if h := b.handoffs[y]; h != nil && h.Quantized(out) == nil {
		delete(b.handoffs, y)
		b.handoffs[out] = h
	}
	return out, nil
}

// convFold is a fake quantizer folded into the convolution before it: the
// convolution's output pre, the quantizer's output fq, their link.
type convFold struct {
	pre, fq *G.Node
	fold    *kernels.Fold
}

// settleFolds runs once the model's graph is built, before its gradient:
// a quantizer folded into a convolution stays folded only where exactly
// one op reads its output and that op (a max pool) applies its mask;
// elsewhere it is an ordinary fake quantizer again.
func (b *Builder) settleFolds() {
	for _, cf := range b.convFolds {
		if !cf.fold.Claimed() || b.g.To(cf.fq.ID()).Len() != 1 {
			cf.fold.Release()
			fakequant.Unfold(cf.fq)
		}
	}
	// Likewise a batch norm leaves its output to the convolution after it
	// only where that convolution is its one reader.
	for y, h := range b.handoffs {
		if h.Claimed() && b.g.To(y.ID()).Len() != 1 {
			h.Release()
		}
	}
}

// handoff returns the kernels.Handoff for a training graph's batch norm
// with a clamp (hi > 0), or nil: the convolution that reads its output, or
// its folded quantizer's (quantizeFolded), may compute it.
func (b *Builder) handoff(hi float64) *kernels.Handoff {
	if b.mode != Train || b.noFold || hi <= 0 || b.dt != tensor.Float32 {
		return nil
	}
	return &kernels.Handoff{}
}

// convHandoff is the convolution of x (groupedConv) built with x's
// Handoff where x is a batch norm's output that has one.
func (b *Builder) convHandoff(x, w, bias *G.Node, p kernels.ConvParams, groups int) (*G.Node, error) {
	if h := b.handoffs[x]; h != nil && groups <= 1 {
		p.Groups = groups
		return kernels.Conv2dHandoff(x, w, bias, p, h)
	}
	return groupedConv(x, w, bias, p, groups)
}

// binder registers a quantizer's learnable tensors as Params.
type binder struct {
	b     *Builder
	owner string
}

func (bd binder) Learnable(name string, v *tensor.Dense) *G.Node {
	full := bd.owner + "." + name
	p, ok := bd.b.learn[full]
	if !ok || p.Value != v {
		p = &Param{Name: full, Value: v, Trainable: true, LRScale: 1,
			Grad: tensor.New(tensor.WithShape(v.Shape().Clone()...), tensor.Of(v.Dtype()))}
		bd.b.learn[full] = p
		*bd.b.learnSeq = append(*bd.b.learnSeq, p)
	}
	return bd.b.Node(p)
}

// needsGrad reports whether a training graph must propagate the loss
// gradient into x: whether x depends on a trainable parameter (a learnable
// quantizer scale included), or on the input when its gradient is wanted.
// Layers whose input needs none skip computing it (LeNet-5's first
// convolution): gorgonia would otherwise compute every gradient node.
func (b *Builder) needsGrad(x *G.Node) bool {
	if b.mode != Train {
		return false
	}
	wants := map[*G.Node]bool{}
	for p, n := range b.nodes {
		if p.Trainable {
			wants[n] = true
		}
	}
	if b.inputGrad && b.input != nil {
		wants[b.input] = true
	}
	seen := map[int64]bool{}
	stack := []*G.Node{x}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if wants[n] {
			return true
		}
		if seen[n.ID()] {
			continue
		}
		seen[n.ID()] = true
		it := b.g.From(n.ID())
		for it.Next() {
			if c, ok := it.Node().(*G.Node); ok {
				stack = append(stack, c)
			}
		}
	}
	return false
}
