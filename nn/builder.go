package nn

import (
	"fmt"

	"github.com/qatgo/qatgo/fakequant"
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
	g     *G.ExprGraph
	mode  Mode
	dt    tensor.Dtype
	fast  bool
	nodes map[*Param]*G.Node
	// input is the graph's data input; inputGrad says whether the loss
	// gradient with respect to it is wanted (gradient checks).
	input     *G.Node
	inputGrad bool
	// learn holds learnable quantizer parameters by name; shared between
	// the graphs of one Net.
	learn    map[string]*Param
	learnSeq *[]*Param

	// cur names the quantizer whose grid the tensor flowing through the
	// module is on ("" when it is a float tensor).
	cur      NamedQuantizer
	records  []layerRecord
	dropouts []*dropoutMask
	bns      []*bnState
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

// InputQuantizer is the quantizer whose grid the current tensor is on, or a
// zero NamedQuantizer.
func (b *Builder) InputQuantizer() NamedQuantizer { return b.cur }

// SetInputQuantizer records that the tensor flowing on is on nq's grid.
func (b *Builder) SetInputQuantizer(nq NamedQuantizer) { b.cur = nq }

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

// record notes a layer for Net.Layers (eval graph only, so once per layer).
func (b *Builder) record(l describer, in, out tensor.Shape, inQ NamedQuantizer) {
	if b.mode != Eval {
		return
	}
	b.records = append(b.records, layerRecord{l: l, in: in.Clone(), out: out.Clone(), inQ: inQ})
}
