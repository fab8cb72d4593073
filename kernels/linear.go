package kernels

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// linState is shared by a linear layer's forward and gradient ops.
type linState struct {
	in, out     int
	hasBias     bool
	noInputGrad bool
	f32         linBufs[float32]
	f64         linBufs[float64]
}

type linBufs[T float] struct{ fwd, dx, dw mulT[T] }

func linBufsFor[T float](s *linState) *linBufs[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&s.f32).(*linBufs[T])
	}
	return any(&s.f64).(*linBufs[T])
}

// LinearParams are the options of LinearWith. NoInputGrad skips the gradient
// with respect to x (a first layer, whose input is data).
type LinearParams struct {
	NoInputGrad bool
}

// Linear returns x·Wᵀ + b for x (N,in), w (out,in) stored as PyTorch stores
// it, and b (out) or nil: output (N,out). x, w and b share a dtype, Float32
// or Float64.
func Linear(x, w, b *G.Node) (*G.Node, error) {
	return LinearWith(x, w, b, LinearParams{})
}

// LinearWith is Linear with options.
func LinearWith(x, w, b *G.Node, p LinearParams) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		return nil, fmt.Errorf("%w: Linear: x %v and w %v, want (N,in) and (out,in)", ErrShape, xs, ws)
	}
	st := &linState{in: ws[1], out: ws[0], hasBias: b != nil, noInputGrad: p.NoInputGrad}
	children := []*G.Node{x, w}
	if b != nil {
		if bs := b.Shape(); len(bs) != 1 || bs[0] != st.out {
			return nil, fmt.Errorf("%w: Linear: bias %v, want (%d)", ErrShape, bs, st.out)
		}
		children = append(children, b)
	}
	for _, c := range children[1:] {
		if c.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%w: Linear: x is %v but %v is %v", ErrDtype, x.Dtype(), c.Name(), c.Dtype())
		}
	}
	return G.ApplyOp(&linOp{opBase: opBase{name: "kernels.Linear"}, st: st}, children...)
}

type linOp struct {
	opBase
	st  *linState
	res *tensor.Dense
}

func (o *linOp) arity() int {
	if o.st.hasBias {
		return 3
	}
	return 2
}
func (o *linOp) Arity() int { return o.arity() }
func (o *linOp) Type() hm.Type {
	if o.st.hasBias {
		return opType(2, 2, 2, 1)
	}
	return opType(2, 2, 2)
}
func (o *linOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *linOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *linOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, o.arity())
	if err != nil {
		return nil, err
	}
	if len(s[0]) != 2 || len(s[1]) != 2 || s[0][1] != s[1][1] {
		return nil, fmt.Errorf("%w: %s: x %v and w %v", ErrShape, o.name, s[0], s[1])
	}
	return tensor.Shape{s[0][0], s[1][0]}, nil
}

func (o *linOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, o.arity())
	if err != nil {
		return nil, err
	}
	xs, ws := in[0].Shape(), in[1].Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] || (o.st.hasBias && in[2].Shape().TotalSize() != ws[0]) {
		return nil, fmt.Errorf("%w: %s: x %v, w %v", ErrShape, o.name, xs, ws)
	}
	out := reuseOut(&o.res, dt, xs[0], ws[0])
	if dt == tensor.Float32 {
		linForward(o.st, in, out.Data().([]float32), xs[0])
	} else {
		linForward(o.st, in, out.Data().([]float64), xs[0])
	}
	return out, nil
}

func linForward[T float](st *linState, in []*tensor.Dense, y []T, n int) {
	x, w := in[0].Data().([]T), in[1].Data().([]T)
	var beta T
	if st.hasBias {
		b := in[2].Data().([]T)
		for i := 0; i < n; i++ {
			copy(y[i*st.out:(i+1)*st.out], b)
		}
		beta = 1
	}
	linBufsFor[T](st).fwd.gemmSplit(y, st.out, false, true, n, st.out, st.in, x, st.in, w, st.in, beta)
}

func (o *linOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	d[0] = !o.st.noInputGrad
	return d
}

func (o *linOp) SymDiff(ins G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	if len(ins) != o.arity() {
		return nil, fmt.Errorf("%w: %s: %d inputs", ErrShape, o.name, len(ins))
	}
	res := make(G.Nodes, len(ins))
	var err error
	if !o.st.noInputGrad {
		if res[0], err = G.ApplyOp(&linGradOp{opBase: opBase{name: "kernels.LinearDx"}, st: o.st, wrtW: false}, ins[1], grad); err != nil {
			return nil, err
		}
	}
	if res[1], err = G.ApplyOp(&linGradOp{opBase: opBase{name: "kernels.LinearDw"}, st: o.st, wrtW: true}, ins[0], grad); err != nil {
		return nil, err
	}
	if o.st.hasBias {
		if res[2], err = G.ApplyOp(newBiasGrad(2), grad); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// linGradOp: (w, dy) → dx = dy·W, or with wrtW (x, dy) → dW = dyᵀ·x.
type linGradOp struct {
	opBase
	noDiff
	st   *linState
	wrtW bool
	res  *tensor.Dense
}

func (o *linGradOp) Arity() int            { return 2 }
func (o *linGradOp) Type() hm.Type         { return opType(2, 2, 2) }
func (o *linGradOp) WriteHash(h hash.Hash) { instanceHash(h, o.name, o) }
func (o *linGradOp) Hashcode() uint32      { return instanceHashcode(o.name, o) }
func (o *linGradOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(o.name, ds, 2)
	if err != nil {
		return nil, err
	}
	if o.wrtW {
		return tensor.Shape{o.st.out, o.st.in}, nil
	}
	return tensor.Shape{s[1][0], o.st.in}, nil
}

func (o *linGradOp) Do(vs ...G.Value) (G.Value, error) {
	in, dt, err := inputs(o.name, vs, 2)
	if err != nil {
		return nil, err
	}
	ds := in[1].Shape()
	if len(ds) != 2 || ds[1] != o.st.out {
		return nil, fmt.Errorf("%w: %s: dy %v, want (N,%d)", ErrShape, o.name, ds, o.st.out)
	}
	n := ds[0]
	var out *tensor.Dense
	if o.wrtW {
		out = reuseOut(&o.res, dt, o.st.out, o.st.in)
	} else {
		out = reuseOut(&o.res, dt, n, o.st.in)
	}
	if dt == tensor.Float32 {
		linBackward(o.st, o.wrtW, in[0].Data().([]float32), in[1].Data().([]float32), out.Data().([]float32), n)
	} else {
		linBackward(o.st, o.wrtW, in[0].Data().([]float64), in[1].Data().([]float64), out.Data().([]float64), n)
	}
	return out, nil
}

func linBackward[T float](st *linState, wrtW bool, a, dy, dst []T, n int) {
	bf := linBufsFor[T](st)
	if wrtW {
		// dW (out×in) = dyᵀ (out×N) · x (N×in)
		bf.dw.gemmSplit(dst, st.in, true, false, st.out, st.in, n, dy, st.out, a, st.in, 0)
		return
	}
	// dx (N×in) = dy (N×out) · W (out×in)
	bf.dx.gemmSplit(dst, st.in, false, false, n, st.in, st.out, dy, st.out, a, st.in, 0)
}
