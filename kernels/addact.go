package kernels

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddAct returns min(max(a + b, 0), hi) elementwise (hi = +Inf: ReLU, 6:
// ReLU6) in one pass: a residual sum with its activation, the same values
// as Add followed by ReLU or ReLU6. The gradient of both inputs is dy where
// 0 < y < hi (y the output; the same mask as the clamp's on the sum), and,
// with a fold (see BatchNormFold), only inside the folded quantizer's
// window too; the forward then records the output's range. a and b share a
// shape and dtype (Float32 or Float64; a fold needs Float32).
func AddAct(a, b *G.Node, hi float64, f *Fold) (*G.Node, error) {
	if !(hi > 0) {
		return nil, fmt.Errorf("%w: AddAct: clamp bound %v", ErrShape, hi)
	}
	if f != nil && a.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: AddAct: x is %v, a fold needs float32", ErrDtype, a.Dtype())
	}
	if a.Shape().TotalSize() < 1 {
		return nil, fmt.Errorf("%w: AddAct: inputs %v are empty", ErrShape, a.Shape())
	}
	return add("AddAct", a, b, hi, f) // checks the shapes and dtypes
}

// addAct is AddAct's forward into out.
func (o *addOp) addAct(out, a, b *tensor.Dense, dt tensor.Dtype) error {
	if dt != tensor.Float32 {
		if o.fold != nil {
			return fmt.Errorf("%w: %s: a fold needs float32, x is %v", ErrDtype, o.name, dt)
		}
		y, a, b := out.Data().([]float64), a.Data().([]float64), b.Data().([]float64)
		splitFlat(len(a), func(lo, hi int) { addClampGeneric(y[lo:hi], a[lo:hi], b[lo:hi], o.hi) })
		return nil
	}
	y, a32, b32 := out.Data().([]float32), a.Data().([]float32), b.Data().([]float32)
	hi := float32(o.hi)
	if o.fold == nil {
		splitFlat(len(a32), func(lo, end int) { addClamp32(y[lo:end], a32[lo:end], b32[lo:end], hi) })
		return nil
	}
	o.fold.track(y, func(lo, end int) { addClamp32(y[lo:end], a32[lo:end], b32[lo:end], hi) })
	return nil
}

// addActGrad is AddAct's gradient, the same node for both inputs.
func (o *addOp) addActGrad(out, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&addActGradOp{opBase: opBase{name: "kernels.AddActGrad"}, st: o.st, hi: o.hi, fold: o.fold}, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g, g}, nil
}

// addClampGeneric is clampGeneric of a + b.
func addClampGeneric[T float](y, a, b []T, hi T) {
	y, b = y[:len(a)], b[:len(a)]
	for i, v := range a {
		y[i] = min(max(v+b[i], 0), hi)
	}
}

// addActGradOp: (y, dy) → dy where 0 < y < hi (and inside the fold's
// window), else 0.
type addActGradOp struct {
	opBase
	noDiff
	st   *eltState
	hi   float64
	fold *Fold
	out  *tensor.Dense
}

func (o *addActGradOp) Arity() int            { return 2 }
func (o *addActGradOp) Type() hm.Type         { n := len(o.st.shape); return opType(n, n, n) }
func (o *addActGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *addActGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *addActGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *addActGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%w: %s: y %v, dy %v", ErrShape, o.name, in[0].Shape(), in[1].Shape())
	}
	if f := o.fold; f != nil {
		if err := f.checkMask(o.name); err != nil {
			return nil, err
		}
	}
	// On 0 < sum < hi the output is the sum: the mask on y is the clamp's
	// on the sum, and a fold's window on the output.
	lo, hi := foldWindow(o.hi, o.fold)
	out := reuseOut(&o.out, dt, in[0].Shape()...)
	if dt == tensor.Float32 {
		dx, y, dy := out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32)
		splitFlat(len(y), func(a, b int) { windowGrad32(dx[a:b], y[a:b], dy[a:b], lo, hi) })
		return out, nil
	}
	dx, y, dy := out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64)
	splitFlat(len(y), func(a, b int) { windowGradGeneric(dx[a:b], y[a:b], dy[a:b], float64(lo), float64(hi)) })
	return out, nil
}
