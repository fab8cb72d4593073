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
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("%w: AddAct: shapes %v and %v differ", ErrShape, a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: AddAct: %v and %v", ErrDtype, a.Dtype(), b.Dtype())
	}
	if !(hi > 0) {
		return nil, fmt.Errorf("%w: AddAct: clamp bound %v", ErrShape, hi)
	}
	if f != nil && a.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: AddAct: x is %v, a fold needs float32", ErrDtype, a.Dtype())
	}
	if a.Shape().TotalSize() < 1 {
		return nil, fmt.Errorf("%w: AddAct: inputs %v are empty", ErrShape, a.Shape())
	}
	st := &eltState{shape: a.Shape().Clone()}
	return G.ApplyOp(&addActOp{opBase: opBase{name: "kernels.AddAct"}, st: st, hi: hi, fold: f}, a, b)
}

type addActOp struct {
	opBase
	st   *eltState
	hi   float64
	fold *Fold
	gen  int
	out  *tensor.Dense
}

func (o *addActOp) Arity() int            { return 2 }
func (o *addActOp) Type() hm.Type         { n := len(o.st.shape); return opType(n, n, n) }
func (o *addActOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *addActOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *addActOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("%w: %s: shapes %v and %v differ", ErrShape, o.name, s[0], s[1])
	}
	return s[0].Clone(), nil
}

func (o *addActOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%w: %s: shapes %v and %v differ", ErrShape, o.name, in[0].Shape(), in[1].Shape())
	}
	out := reuseOut(&o.out, dt, in[0].Shape()...)
	if dt != tensor.Float32 {
		if o.fold != nil {
			return nil, fmt.Errorf("%w: %s: a fold needs float32, x is %v", ErrDtype, o.name, dt)
		}
		y, a, b := out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64)
		splitFlat(len(a), func(lo, hi int) { addClampGeneric(y[lo:hi], a[lo:hi], b[lo:hi], o.hi) })
		return out, nil
	}
	y, a, b := out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32)
	hi := float32(o.hi)
	f := o.fold
	if f == nil {
		splitFlat(len(a), func(lo, end int) { addClamp32(y[lo:end], a[lo:end], b[lo:end], hi) })
		return out, nil
	}
	nw := 1
	if len(a) >= parallelMin {
		nw = workersFor(0, 8)
	}
	o.gen++
	f.resetAcc(nw)
	split(nw, len(a), func(w, lo, end int) {
		for s := lo; s < end; s += foldBlock {
			e := min(s+foldBlock, end)
			addClamp32(y[s:e], a[s:e], b[s:e], hi)
			f.acc[w].Add(y[s:e])
		}
	})
	f.setRange()
	f.gen = o.gen
	return out, nil
}

// addClampGeneric is clampGeneric of a + b.
func addClampGeneric[T float](y, a, b []T, hi T) {
	y, b = y[:len(a)], b[:len(a)]
	for i, v := range a {
		y[i] = min(max(v+b[i], 0), hi)
	}
}

func (o *addActOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *addActOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	g, err := G.ApplyOp(&addActGradOp{opBase: opBase{name: "kernels.AddActGrad"}, st: o.st, hi: o.hi, fold: o.fold}, out, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g, g}, nil
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
	if f := o.fold; f != nil && (f.maskOf != f.gen || f.gen == 0) {
		return nil, fmt.Errorf("%w: %s: its folded fake quantizer did not run after the forward run", ErrOrder, o.name)
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
