package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// fnOp is a gorgonia op assembled from closures. All shapes in nn graphs are
// static (the batch size is fixed at compile time), so the output shape is
// fixed when the op is built and the output tensor is allocated once and
// reused by every run: fwd must overwrite all of out.
//
// The hash includes the op's address: gorgonia merges ops with equal hashes
// applied to the same inputs, and two fnOps are never interchangeable (they
// carry their own state).
type fnOp struct {
	name     string
	dt       tensor.Dtype
	inDims   []int
	outShape tensor.Shape
	fwd      func(out *tensor.Dense, in []*tensor.Dense) error
	// diff says which inputs the op is differentiable with respect to; sym
	// returns their gradient nodes (nil for the others). A nil diff makes
	// the op non-differentiable.
	diff []bool
	sym  func(in G.Nodes, out, grad *G.Node) (G.Nodes, error)

	out *tensor.Dense
}

func (op *fnOp) Arity() int { return len(op.inDims) }

func (op *fnOp) Type() hm.Type {
	ts := make([]hm.Type, 0, len(op.inDims)+1)
	for _, d := range op.inDims {
		ts = append(ts, G.TensorType{Dims: d, Of: op.dt})
	}
	ts = append(ts, G.TensorType{Dims: len(op.outShape), Of: op.dt})
	return hm.NewFnType(ts...)
}

func (op *fnOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.outShape.Clone(), nil }

func (op *fnOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != len(op.inDims) {
		return nil, fmt.Errorf("nn: op %s: %d inputs, want %d", op.name, len(vals), len(op.inDims))
	}
	in := make([]*tensor.Dense, len(vals))
	for i, v := range vals {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: op %s: input %d is %T, want *tensor.Dense", op.name, i, v)
		}
		if d.Dtype() != op.dt {
			return nil, fmt.Errorf("nn: op %s: input %d has dtype %v, want %v", op.name, i, d.Dtype(), op.dt)
		}
		in[i] = d
	}
	if op.out == nil {
		op.out = tensor.New(tensor.WithShape(op.outShape.Clone()...), tensor.Of(op.dt))
	}
	if err := op.fwd(op.out, in); err != nil {
		return nil, err
	}
	return op.out, nil
}

func (op *fnOp) ReturnsPtr() bool     { return false }
func (op *fnOp) CallsExtern() bool    { return false }
func (op *fnOp) OverwritesInput() int { return -1 }

// ReadsInputsOnlyWhileRunning: fn ops read their inputs inside Do only
// (kernels.TransientReader).
func (op *fnOp) ReadsInputsOnlyWhileRunning() {}
func (op *fnOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "nn.%s@%p", op.name, op)
}
func (op *fnOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op *fnOp) String() string { return op.name }

func (op *fnOp) DiffWRT(n int) []bool {
	if op.diff == nil {
		return make([]bool, n)
	}
	return op.diff
}

func (op *fnOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if op.sym == nil {
		return nil, fmt.Errorf("nn: op %s is not differentiable", op.name)
	}
	return op.sym(in, out, grad)
}

// apply builds op on the given nodes.
func apply(op *fnOp, in ...*G.Node) (*G.Node, error) {
	if op.inDims == nil {
		op.inDims = make([]int, len(in))
		for i, n := range in {
			op.inDims[i] = n.Dims()
		}
	}
	n, err := G.ApplyOp(op, in...)
	if err != nil {
		return nil, fmt.Errorf("nn: %s: %w", op.name, err)
	}
	return n, nil
}

// float is the element type of nn's tensors: float32 for training, float64
// for gradient checks.
type float interface{ ~float32 | ~float64 }

// data returns d's backing slice as []T.
func data[T float](d *tensor.Dense) []T { return d.Data().([]T) }
