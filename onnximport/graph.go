package onnximport

import (
	"fmt"

	"github.com/qatgo/qatgo/nn"
	G "gorgonia.org/gorgonia"
)

// Input is the index of the model input in a Node's Inputs.
const Input = -1

// Node is one layer of a Graph and the nodes whose outputs it reads
// (indices into Graph.Nodes, or Input).
type Node struct {
	Module nn.Module
	Inputs []int
}

// Graph is a module whose layers are wired by edges (the dataflow of an
// imported ONNX graph). Nodes are in topological order; Output is the node
// whose output is the graph's (Input for a graph that computes nothing).
type Graph struct {
	GraphName string
	Nodes     []Node
	Output    int
}

func (g *Graph) Name() string { return g.GraphName }

// Children lists the layers in order (qconfig.Prepare and nn.Walk reach
// them through it).
func (g *Graph) Children() []nn.Module {
	ms := make([]nn.Module, len(g.Nodes))
	for i, n := range g.Nodes {
		ms[i] = n.Module
	}
	return ms
}

func (g *Graph) Params() []*nn.Param {
	var ps []*nn.Param
	for _, n := range g.Nodes {
		ps = append(ps, n.Module.Params()...)
	}
	return ps
}

func (g *Graph) Quantizers() []nn.NamedQuantizer {
	var qs []nn.NamedQuantizer
	for _, n := range g.Nodes {
		qs = append(qs, n.Module.Quantizers()...)
	}
	return qs
}

// Build builds every node on the outputs of its inputs: Add and Concat
// through Apply, every other layer through b.Build.
func (g *Graph) Build(b *nn.Builder, x *G.Node) (*G.Node, error) {
	vals := make([]*G.Node, len(g.Nodes))
	get := func(i, from int) (*G.Node, error) {
		if i == Input {
			return x, nil
		}
		if i < 0 || i >= from {
			return nil, fmt.Errorf("onnximport: %s: node %d reads node %d, not an earlier one", g.GraphName, from, i)
		}
		return vals[i], nil
	}
	for k, n := range g.Nodes {
		ins := make([]*G.Node, len(n.Inputs))
		for j, i := range n.Inputs {
			v, err := get(i, k)
			if err != nil {
				return nil, err
			}
			ins[j] = v
		}
		var y *G.Node
		var err error
		switch m := n.Module.(type) {
		case *nn.Add:
			if len(ins) != 2 {
				return nil, fmt.Errorf("onnximport: %s: add %q has %d inputs", g.GraphName, m.Name(), len(ins))
			}
			y, err = m.Apply(b, ins[0], ins[1])
		case *nn.Concat:
			y, err = m.Apply(b, ins...)
		default:
			if len(ins) != 1 {
				return nil, fmt.Errorf("onnximport: %s: layer %q has %d inputs, want 1", g.GraphName, m.Name(), len(ins))
			}
			y, err = b.Build(m, ins[0])
		}
		if err != nil {
			return nil, err
		}
		vals[k] = y
	}
	return get(g.Output, len(g.Nodes))
}
