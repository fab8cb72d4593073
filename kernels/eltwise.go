package kernels

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// parallelMin is the element count from which an elementwise op splits its
// work over two goroutines: below it a goroutine start costs more than the
// half it saves.
const parallelMin = 1 << 15

// splitFlat runs f over contiguous ranges of [0, n), two of them for large n.
func splitFlat(n int, f func(lo, hi int)) {
	nw := 1
	if n >= parallelMin {
		nw = workersFor(0, 8) // up to 2, bounded by GOMAXPROCS
	}
	split(nw, n, func(_, lo, hi int) { f(lo, hi) })
}

// eltState is an elementwise op's input shape, fixed at graph construction.
type eltState struct{ shape tensor.Shape }

// ReLU returns max(x, 0) elementwise, as PyTorch's relu (a NaN stays NaN).
// Its gradient is dy where x > 0 and 0 elsewhere (0 at x = 0, as PyTorch).
// x is Float32 or Float64, of any shape. Unlike G.Rectify it writes into
// buffers it owns and computes its gradient in one pass.
func ReLU(x *G.Node) (*G.Node, error) { return clamp(x, "ReLU", math.Inf(1), nil) }

// ReLU6 returns min(max(x, 0), 6) elementwise, as PyTorch's relu6 (a NaN
// stays NaN). Its gradient is dy where 0 < x < 6 and 0 elsewhere, the kinks
// included, as PyTorch's hardtanh backward. x is Float32 or Float64, of any
// shape.
func ReLU6(x *G.Node) (*G.Node, error) { return clamp(x, "ReLU6", 6, nil) }

// ReLUFold is ReLU (ReLU6 when six) whose output feeds a folded fake
// quantizer through f (see BatchNormFold): the forward records the
// output's range, the backward masks dy by the quantizer's window too. x
// must be Float32.
func ReLUFold(x *G.Node, six bool, f *Fold) (*G.Node, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: ReLUFold: nil fold", ErrShape)
	}
	if x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("%w: ReLUFold: x is %v, a fold needs float32", ErrDtype, x.Dtype())
	}
	if six {
		return clamp(x, "ReLU6", 6, f)
	}
	return clamp(x, "ReLU", math.Inf(1), f)
}

func clamp(x *G.Node, name string, hi float64, f *Fold) (*G.Node, error) {
	if x.Shape().TotalSize() < 1 {
		return nil, fmt.Errorf("%w: %s: x %v is empty", ErrShape, name, x.Shape())
	}
	st := &eltState{shape: x.Shape().Clone()}
	return G.ApplyOp(&clampOp{opBase: opBase{name: "kernels." + name}, st: st, hi: hi, fold: f}, x)
}

// clampOp is min(max(x, 0), hi) with hi = 6 or +∞.
type clampOp struct {
	opBase
	st   *eltState
	hi   float64
	fold *Fold // nil unless a folded quantizer reads the output
	out  *tensor.Dense
}

func (o *clampOp) Arity() int            { return 1 }
func (o *clampOp) Type() hm.Type         { return opType(len(o.st.shape), len(o.st.shape)) }
func (o *clampOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *clampOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *clampOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 1)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *clampOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 1)
	if err != nil {
		return nil, err
	}
	out := reuseOut(&o.out, dt, in[0].Shape()...)
	if f := o.fold; f != nil {
		if dt != tensor.Float32 {
			return nil, fmt.Errorf("%w: %s: a fold needs float32, x is %v", ErrDtype, o.name, dt)
		}
		clampToFold(out.Data().([]float32), in[0].Data().([]float32), float32(o.hi), f)
		return out, nil
	}
	if dt == tensor.Float32 {
		clampTo(out.Data().([]float32), in[0].Data().([]float32), float32(o.hi))
	} else {
		clampTo(out.Data().([]float64), in[0].Data().([]float64), o.hi)
	}
	return out, nil
}

func clampTo[T float](y, x []T, hi T) {
	f := clampGeneric[T]
	if k, _, ok := vecClamp(); ok {
		if kT, ok := any(k).(func(y, x []T, hi T)); ok {
			f = kT
		}
	}
	splitFlat(len(x), func(lo, end int) { f(y[lo:end], x[lo:end], hi) })
}

// clampToFold is clampTo that also sets f's range of y: each worker clamps
// a block and adds it to its accumulator while the block is in cache.
func clampToFold(y, x []float32, hi float32, f *Fold) {
	k := clampGeneric[float32]
	if kv, _, ok := vecClamp(); ok {
		k = kv
	}
	f.track(y, func(lo, end int) { k(y[lo:end], x[lo:end], hi) })
}

func clampGeneric[T float](y, x []T, hi T) {
	y = y[:len(x)]
	for i, v := range x {
		// min and max keep a NaN, as PyTorch's clamp does.
		y[i] = min(max(v, 0), hi)
	}
}

func (o *clampOp) DiffWRT(int) []bool { return []bool{true} }

func (o *clampOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&clampGradOp{opBase: opBase{name: o.name + "Grad"}, st: o.st, hi: o.hi, fold: o.fold}, ins[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// clampGradOp: (x, dy) → dy where 0 < x < hi, else 0; with a fold, also
// 0 where the folded quantizer's mask is false.
type clampGradOp struct {
	opBase
	noDiff
	st   *eltState
	hi   float64
	fold *Fold
	out  *tensor.Dense
	ownPlan
}

func (o *clampGradOp) Arity() int            { return 2 }
func (o *clampGradOp) Type() hm.Type         { n := len(o.st.shape); return opType(n, n, n) }
func (o *clampGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *clampGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *clampGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	return s[0].Clone(), nil
}

func (o *clampGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%w: %s: x %v, dy %v", ErrShape, o.name, in[0].Shape(), in[1].Shape())
	}
	out := plannedOut(&o.out, o.plan, dt, in[0].Shape()...)
	if f := o.fold; f != nil {
		if err := f.checkMask(o.name); err != nil {
			return nil, err
		}
		// On 0 < x < hi the output is x, so the quantizer's window on
		// the output is the same window on x.
		lo, hi := foldWindow(o.hi, f)
		dx, x, dy := out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32)
		splitFlat(len(x), func(a, b int) { windowGrad32(dx[a:b], x[a:b], dy[a:b], lo, hi) })
		return out, nil
	}
	if dt == tensor.Float32 {
		clampGrad(out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32), float32(o.hi))
	} else {
		clampGrad(out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64), o.hi)
	}
	return out, nil
}

func clampGrad[T float](dx, x, dy []T, hi T) {
	f := clampGradGeneric[T]
	if _, k, ok := vecClamp(); ok {
		if kT, ok := any(k).(func(dx, x, dy []T, hi T)); ok {
			f = kT
		}
	}
	splitFlat(len(x), func(lo, end int) { f(dx[lo:end], x[lo:end], dy[lo:end], hi) })
}

// clampGradGeneric passes dy where 0 < x < hi; for hi = +∞ (ReLU) that is
// x > 0, +∞ included, as PyTorch's relu backward.
func clampGradGeneric[T float](dx, x, dy []T, hi T) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	inf := math.IsInf(float64(hi), 1)
	for i, v := range x {
		g := dy[i]
		if !(v > 0 && (v < hi || inf)) {
			g = 0
		}
		dx[i] = g
	}
}

// Add returns a + b for two tensors of one shape and dtype (Float32 or
// Float64), as a residual connection's sum; the gradient of each input is
// dy itself. Unlike G.Add it writes into a buffer it owns, so a training
// step allocates nothing.
func Add(a, b *G.Node) (*G.Node, error) { return add("Add", a, b, 0, nil) }

// add builds Add (hi = 0) or AddAct (hi > 0, fold optional).
func add(name string, a, b *G.Node, hi float64, f *Fold) (*G.Node, error) {
	if !a.Shape().Eq(b.Shape()) {
		return nil, fmt.Errorf("%w: %s: shapes %v and %v differ", ErrShape, name, a.Shape(), b.Shape())
	}
	if a.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("%w: %s: %v and %v", ErrDtype, name, a.Dtype(), b.Dtype())
	}
	st := &eltState{shape: a.Shape().Clone()}
	return G.ApplyOp(&addOp{opBase: opBase{name: "kernels." + name}, st: st, hi: hi, fold: f}, a, b)
}

// addOp is a + b, clamped to [0, hi] when hi > 0 (AddAct).
type addOp struct {
	opBase
	st   *eltState
	hi   float64
	fold *Fold // AddAct's, nil unless a folded quantizer reads the output
	out  *tensor.Dense
}

func (o *addOp) Arity() int            { return 2 }
func (o *addOp) Type() hm.Type         { n := len(o.st.shape); return opType(n, n, n) }
func (o *addOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *addOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *addOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("%w: %s: shapes %v and %v differ", ErrShape, o.name, s[0], s[1])
	}
	return s[0].Clone(), nil
}

func (o *addOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	if !in[0].Shape().Eq(in[1].Shape()) {
		return nil, fmt.Errorf("%w: %s: shapes %v and %v differ", ErrShape, o.name, in[0].Shape(), in[1].Shape())
	}
	out := reuseOut(&o.out, dt, in[0].Shape()...)
	if o.hi > 0 {
		return out, o.addAct(out, in[0], in[1], dt)
	}
	if dt == tensor.Float32 {
		addTo(out.Data().([]float32), in[0].Data().([]float32), in[1].Data().([]float32))
	} else {
		addTo(out.Data().([]float64), in[0].Data().([]float64), in[1].Data().([]float64))
	}
	return out, nil
}

func addTo[T float](y, a, b []T) {
	y32, is32 := any(y).([]float32)
	a32, _ := any(a).([]float32)
	b32, _ := any(b).([]float32)
	splitFlat(len(a), func(lo, hi int) {
		if is32 {
			add32(y32[lo:hi], a32[lo:hi], b32[lo:hi])
			return
		}
		addGeneric(y[lo:hi], a[lo:hi], b[lo:hi])
	})
}

// addGeneric is y = a + b elementwise.
func addGeneric[T float](y, a, b []T) {
	y, b = y[:len(a)], b[:len(a)]
	for i, v := range a {
		y[i] = v + b[i]
	}
}

func (o *addOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *addOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if o.hi > 0 {
		return o.addActGrad(out, grad)
	}
	return G.Nodes{grad, grad}, nil
}
