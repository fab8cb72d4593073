package kernels

import (
	"fmt"

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

// addActGrad is AddAct's gradient, the same node for both inputs: the
// clamp's gradient taken on the output y (on 0 < sum < hi, y is the sum, so
// the mask on y is the mask on the sum, and a fold's window on the output is
// the same window).
func (o *addOp) addActGrad(out, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&clampGradOp{opBase: opBase{name: "kernels.AddActGrad"}, st: o.st, hi: o.hi, fold: o.fold}, out, grad)
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

// addActTo is y = a + b clamped to [0, hi] when hi > 0 (AddAct's forward
// without a fold) or y = a + b (Add's) on the calling goroutine: the same
// kernels, so the same bits, for one image inside another op.
func addActTo[T float](y, a, b []T, hi float64) {
	y32, is32 := any(y).([]float32)
	if !is32 {
		if hi > 0 {
			addClampGeneric(y, a, b, T(hi))
		} else {
			addGeneric(y, a, b)
		}
		return
	}
	a32, b32 := any(a).([]float32), any(b).([]float32)
	if hi > 0 {
		addClamp32(y32, a32, b32, float32(hi))
	} else {
		add32(y32, a32, b32)
	}
}
