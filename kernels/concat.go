package kernels

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// concatState is the geometry of a channel concatenation.
type concatState struct {
	n, hw int
	chans []int // per input
	total int   // Σ chans
}

// ConcatChannels returns its NCHW inputs (N,Cᵢ,H,W) joined along the channel
// axis, (N,ΣCᵢ,H,W), as PyTorch's torch.cat(xs, dim=1); the gradient of each
// input is its channels' slice of dy. All inputs share N, H, W and a dtype
// (Float32 or Float64).
func ConcatChannels(xs ...*G.Node) (*G.Node, error) {
	if len(xs) < 1 {
		return nil, fmt.Errorf("%w: ConcatChannels: no inputs", ErrShape)
	}
	s0 := xs[0].Shape()
	if len(s0) != 4 {
		return nil, fmt.Errorf("%w: ConcatChannels: input 0 is %v, want 4-D (NCHW)", ErrShape, s0)
	}
	st := &concatState{n: s0[0], hw: s0[2] * s0[3]}
	for i, x := range xs {
		s := x.Shape()
		if len(s) != 4 || s[0] != s0[0] || s[2] != s0[2] || s[3] != s0[3] {
			return nil, fmt.Errorf("%w: ConcatChannels: input %d is %v, input 0 is %v", ErrShape, i, s, s0)
		}
		if x.Dtype() != xs[0].Dtype() {
			return nil, fmt.Errorf("%w: ConcatChannels: input %d is %v, input 0 is %v", ErrDtype, i, x.Dtype(), xs[0].Dtype())
		}
		st.chans = append(st.chans, s[1])
		st.total += s[1]
	}
	return G.ApplyOp(&concatOp{opBase: opBase{name: "kernels.ConcatChannels"}, st: st}, xs...)
}

type concatOp struct {
	opBase
	st  *concatState
	out *tensor.Dense
}

func (o *concatOp) Arity() int { return len(o.st.chans) }
func (o *concatOp) Type() hm.Type {
	dims := make([]int, len(o.st.chans))
	for i := range dims {
		dims[i] = 4
	}
	return opType(4, dims...)
}
func (o *concatOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *concatOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *concatOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, len(o.st.chans))
	if err != nil {
		return nil, err
	}
	out := s[0].Clone()
	out[1] = o.st.total
	return out, nil
}

func (o *concatOp) Do(vs ...G.Value) (G.Value, error) {
	st := o.st
	in, dt, err := inputs(o.name, vs, len(st.chans))
	if err != nil {
		return nil, err
	}
	for i, d := range in {
		if d.Shape().TotalSize() != st.n*st.chans[i]*st.hw {
			return nil, fmt.Errorf("%w: %s: input %d is %v", ErrShape, o.name, i, d.Shape())
		}
	}
	s := in[0].Shape()
	out := reuseOut(&o.out, dt, st.n, st.total, s[2], s[3])
	if dt == tensor.Float32 {
		concatForward(st, in, out.Data().([]float32))
	} else {
		concatForward(st, in, out.Data().([]float64))
	}
	return out, nil
}

func concatForward[T float](st *concatState, in []*tensor.Dense, y []T) {
	// Image i of input k is one contiguous block of Cₖ·H·W floats, and so
	// is its place in y.
	for i := 0; i < st.n; i++ {
		at := i * st.total * st.hw
		for k, d := range in {
			blk := st.chans[k] * st.hw
			copy(y[at:at+blk], d.Data().([]T)[i*blk:(i+1)*blk])
			at += blk
		}
	}
}

func (o *concatOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (o *concatOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	res := make(G.Nodes, len(ins))
	first := 0
	for k := range ins {
		op := &concatGradOp{opBase: opBase{name: "kernels.ConcatChannelsGrad"}, st: o.st, first: first, chans: o.st.chans[k]}
		first += o.st.chans[k]
		var err error
		if res[k], err = G.ApplyOp(op, grad); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// concatGradOp: dy → channels [first, first+chans) of dy.
type concatGradOp struct {
	opBase
	noDiff
	st           *concatState
	first, chans int
	out          *tensor.Dense
}

func (o *concatGradOp) Arity() int            { return 1 }
func (o *concatGradOp) Type() hm.Type         { return opType(4, 4) }
func (o *concatGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *concatGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *concatGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 1)
	if err != nil {
		return nil, err
	}
	out := s[0].Clone()
	out[1] = o.chans
	return out, nil
}

func (o *concatGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	s := in[0].Shape()
	if len(s) != 4 || s.TotalSize() != o.st.n*o.st.total*o.st.hw {
		return nil, fmt.Errorf("%w: %s: dy %v does not match the forward output", ErrShape, o.name, s)
	}
	out := reuseOut(&o.out, dt, s[0], o.chans, s[2], s[3])
	if dt == tensor.Float32 {
		concatBackward(o, in[0].Data().([]float32), out.Data().([]float32))
	} else {
		concatBackward(o, in[0].Data().([]float64), out.Data().([]float64))
	}
	return out, nil
}

func concatBackward[T float](o *concatGradOp, dy, dx []T) {
	st := o.st
	blk := o.chans * st.hw
	for i := 0; i < st.n; i++ {
		at := (i*st.total + o.first) * st.hw
		copy(dx[i*blk:(i+1)*blk], dy[at:at+blk])
	}
}
